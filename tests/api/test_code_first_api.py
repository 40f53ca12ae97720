"""Code-first collections through the API: the example models of docs/code-first.md, synced, then
used over HTTP through both doors on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emmett.orm import Field, Model

from app.core.collections.codefirst import collection_id, convert_models, models_of
from app.core.collections.codefirst_sync import sync_collections
from app.core.superusers import create_superuser
from tests.support import codefirst_models
from tests.support.doors import Door, open_door

EXAMPLE = "tests.support.codefirst_models"
EMAIL, PASSWORD = "admin@example.com", "correct-horse-battery"


@pytest.fixture
def door(door_kind: str, make_settings: Any) -> Iterator[Door]:
    opened = open_door(door_kind, make_settings(modules=(EXAMPLE,)))
    opened.runtime.sync_code_collections()
    yield opened
    opened.close()


def superuser_headers(door: Door) -> dict[str, str]:
    create_superuser(door.runtime.records, EMAIL, PASSWORD)
    response = door.post(
        "/api/collections/_superusers/auth-with-password", json={"identity": EMAIL, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": response.json()["token"]}


def test_synced_models_are_collections(door):
    admin = superuser_headers(door)
    response = door.get("/api/collections/posts", headers=admin)
    assert response.status_code == 200
    posts = response.json()
    assert posts["id"] == collection_id("posts")
    assert [f["name"] for f in posts["fields"]] == ["id", "title", "body", "user", "created", "updated"]
    assert (posts["listRule"], posts["viewRule"], posts["createRule"]) == ("", "", '@request.auth.id != ""')
    assert (posts["updateRule"], posts["deleteRule"]) == (None, None)


def test_products_defaults_and_validation(door):
    admin = superuser_headers(door)
    created = door.post(
        "/api/collections/products/records", json={"name": "Pen", "price": 1.5}, headers=admin
    )
    assert created.status_code == 200, created.text
    assert (created.json()["available"], created.json()["price"]) == (True, 1.5)
    fetched = door.get(f"/api/collections/products/records/{created.json()['id']}")
    assert fetched.json()["available"] is True

    explicit = door.post(
        "/api/collections/products/records",
        json={"name": "Ink", "price": 3, "available": False},
        headers=admin,
    )
    assert explicit.status_code == 200
    assert explicit.json()["available"] is False

    missing_name = door.post("/api/collections/products/records", json={"price": 2}, headers=admin)
    assert missing_name.status_code == 400
    assert missing_name.json()["data"]["name"]["code"] == "validation_required"

    for bad_price in (0, -1):
        response = door.post(
            "/api/collections/products/records", json={"name": "Gift", "price": bad_price}, headers=admin
        )
        assert response.status_code == 400, bad_price
        assert "price" in response.json()["data"]

    anonymous = door.post("/api/collections/products/records", json={"name": "Pen", "price": 1})
    assert anonymous.status_code == 403  # no create rule: superusers only


def test_posts_comments_relations_expand_and_rules(door):
    admin = superuser_headers(door)
    user = door.post(
        "/api/collections/users/records",
        json={
            "email": "ann@example.com",
            "password": "ann-secret-4821",
            "passwordConfirm": "ann-secret-4821",
        },
        headers=admin,
    )
    assert user.status_code == 200, user.text
    user_id = user.json()["id"]

    post = door.post(
        "/api/collections/posts/records",
        json={"title": "Hello code-first", "body": "From an Emmett model.", "user": user_id},
        headers=admin,
    )
    assert post.status_code == 200, post.text
    post_id = post.json()["id"]
    comment = door.post(
        "/api/collections/comments/records",
        json={"body": "Nice", "post": post_id, "user": user_id},
        headers=admin,
    )
    assert comment.status_code == 200, comment.text

    short = door.post("/api/collections/posts/records", json={"title": "Hi", "user": user_id}, headers=admin)
    assert short.status_code == 400
    assert short.json()["data"]["title"]["code"] == "validation_min_text_constraint"
    no_user = door.post("/api/collections/posts/records", json={"title": "Orphan"}, headers=admin)
    assert no_user.status_code == 400
    assert no_user.json()["data"]["user"]["code"] == "validation_required"

    listed = door.get("/api/collections/posts/records?expand=user,comments_via_post", headers=admin)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert item["expand"]["user"]["id"] == user_id
    assert [c["id"] for c in item["expand"]["comments_via_post"]] == [comment.json()["id"]]

    public = door.get("/api/collections/posts/records?expand=comments_via_post")
    assert public.status_code == 200
    assert public.json()["items"][0]["expand"]["comments_via_post"][0]["body"] == "Nice"

    # createRule '@request.auth.id != ""' is a filter expression: an anonymous create is refused.
    anonymous = door.post("/api/collections/posts/records", json={"title": "Sneaky", "user": user_id})
    assert anonymous.status_code == 400
    assert anonymous.json()["data"] == {}
    assert door.get("/api/collections/posts/records").json()["totalItems"] == 1


def test_resync_is_idempotent(door):
    before = {c.name: c.id for c in door.runtime.collections.all()}
    admin = superuser_headers(door)
    door.post("/api/collections/products/records", json={"name": "Pen", "price": 1.5}, headers=admin)
    result = door.runtime.sync_code_collections()
    assert (result.created, result.updated) == ([], [])
    assert sorted(result.unchanged) == ["comments", "posts", "products"]
    assert {c.name: c.id for c in door.runtime.collections.all()} == before
    assert door.get("/api/collections/products/records").json()["totalItems"] == 1


def test_a_changed_model_updates_its_collection_and_keeps_the_data(door):
    admin = superuser_headers(door)
    door.post("/api/collections/products/records", json={"name": "Pen", "price": 1.5}, headers=admin)

    class Product(Model):  # the example's Product, a release later
        name = Field.string()
        price = Field.decimal(10, 2)
        available = Field.bool(default=True)
        sku = Field.string(length=32)
        validation = {"name": {"presence": True}, "price": {"gt": 0}}
        rules = {"list": "", "view": "", "create": ""}

    models = [Product if m.__name__ == "Product" else m for m in models_of(codefirst_models)]
    result = sync_collections(door.runtime.collections, convert_models(models))
    assert result.updated == ["products"]
    products = door.runtime.collections.get("products")
    assert products.id == collection_id("products")
    assert [f.name for f in products.fields] == [
        "id",
        "name",
        "price",
        "available",
        "sku",
        "created",
        "updated",
    ]
    [item] = door.get("/api/collections/products/records").json()["items"]
    assert (item["name"], item["price"], item["sku"]) == ("Pen", 1.5, "")
    anonymous = door.post("/api/collections/products/records", json={"name": "Cup", "price": 4, "sku": "C-1"})
    assert anonymous.status_code == 200, anonymous.text


def test_sync_takes_over_a_collection_made_through_the_api(door_kind, make_settings):
    door = open_door(door_kind, make_settings(modules=(EXAMPLE,)))
    try:
        admin = superuser_headers(door)
        made = door.post(
            "/api/collections",
            json={"name": "posts", "type": "base", "fields": [{"name": "title", "type": "text"}]},
            headers=admin,
        )
        assert made.status_code == 200, made.text
        result = door.runtime.sync_code_collections()
        assert result.updated == ["posts"]
        assert door.runtime.collections.get("posts").id == made.json()["id"]
        comments = door.runtime.collections.get("comments")
        assert comments.field("post").opt("collectionId") == made.json()["id"]
    finally:
        door.close()
