"""Helpers for API scenario tests: a superuser token, users, and PocketBase's ``x_articles`` setup.

The article collection is the one api.md recorded against PocketBase 0.40.6, so responses can be
compared with the shapes recorded there.
"""

from __future__ import annotations

import re
from typing import Any

from app.core.superusers import create_superuser

ID_RE = re.compile(r"^[a-z0-9]{15}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$")
SUPERUSER = ("admin@example.com", "admin-password-123")


def superuser_headers(door: Any) -> dict[str, str]:
    email, password = SUPERUSER
    if not getattr(door, "_superuser_ready", False):
        create_superuser(door.runtime.records, email, password)
        door._superuser_ready = True
    response = door.post(
        "/api/collections/_superusers/auth-with-password", json={"identity": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": response.json()["token"]}


def enable_batch(door: Any, headers: dict[str, str], max_requests: int = 50) -> None:
    """Batch requests are off by default, as in PocketBase."""
    response = door.patch(
        "/api/settings", headers=headers, json={"batch": {"enabled": True, "maxRequests": max_requests}}
    )
    assert response.status_code == 200, response.text


def create_user(door: Any, email: str, password: str = "user-password-1", **extra: Any) -> dict[str, Any]:
    body = {"email": email, "password": password, "passwordConfirm": password, **extra}
    response = door.post("/api/collections/users/records", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def user_headers(door: Any, email: str, password: str = "user-password-1") -> dict[str, str]:
    response = door.post(
        "/api/collections/users/auth-with-password", json={"identity": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": response.json()["token"]}


ARTICLES = {
    "name": "x_articles",
    "type": "base",
    "listRule": "published = true || author = @request.auth.id",
    "viewRule": "published = true || author = @request.auth.id",
    "createRule": '@request.auth.id != ""',
    "updateRule": "author = @request.auth.id",
    "deleteRule": "author = @request.auth.id",
    "fields": [
        {"name": "title", "type": "text", "required": True, "min": 5, "max": 200},
        {"name": "body", "type": "editor"},
        {"name": "published", "type": "bool"},
        {"name": "views", "type": "number", "onlyInt": True},
        {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
        {"name": "meta", "type": "json"},
        {"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
        {"name": "cover", "type": "file", "maxSelect": 1, "maxSize": 5242880, "thumbs": ["100x100", "0x50"]},
        {"name": "secret_doc", "type": "file", "maxSelect": 1, "protected": True},
        {"name": "created", "type": "autodate", "onCreate": True},
        {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
    ],
    "indexes": ["CREATE INDEX idx_x_articles_created ON x_articles (created)"],
}

COMMENTS = {
    "name": "x_comments",
    "listRule": "",
    "viewRule": "",
    "createRule": "",
    "fields": [
        {"name": "article", "type": "relation", "collectionId": "", "maxSelect": 1, "cascadeDelete": True},
        {"name": "body", "type": "text"},
        {"name": "created", "type": "autodate", "onCreate": True},
    ],
}


class ArticlesWorld:
    """x_articles and x_comments, an author (Alice), a stranger (Bob), and five articles."""

    def __init__(self, door: Any):
        self.door = door
        self.su = superuser_headers(door)
        self.alice = create_user(door, "alice@example.com", name="Alice", emailVisibility=True)
        self.bob = create_user(door, "bob@example.com", name="Bob")
        self.alice_h = user_headers(door, "alice@example.com")
        self.bob_h = user_headers(door, "bob@example.com")
        response = door.post("/api/collections", headers=self.su, json=ARTICLES)
        assert response.status_code == 200, response.text
        self.articles = response.json()
        comments = dict(COMMENTS)
        comments["fields"] = [dict(f) for f in COMMENTS["fields"]]
        comments["fields"][0]["collectionId"] = self.articles["id"]
        response = door.post("/api/collections", headers=self.su, json=comments)
        assert response.status_code == 200, response.text
        self.comments = response.json()
        self.posts: list[dict[str, Any]] = []
        for n in range(5):
            body = {
                "title": f"Hello world {n}",
                "body": "<p>hi</p>",
                "published": n != 1,
                "views": n * 10,
                "tags": ["a", "b"][: n % 3],
                "meta": {"n": n},
                "author": self.alice["id"],
            }
            response = door.post("/api/collections/x_articles/records", headers=self.alice_h, json=body)
            assert response.status_code == 200, response.text
            self.posts.append(response.json())
