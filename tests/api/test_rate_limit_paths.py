"""Attacks on the rate limiter through spellings of a path (issue 8, finding 5), four ways:
{SQLite, PostgreSQL} x {ASGI, Lambda}.

The router and the limiter once disagreed: Emmett's router strips trailing slashes, the limiter
parsed the path itself, so ``/auth-with-password/`` signed in without being counted. Now a path
the API serves is counted as the route it was matched to, and a trailing slash is a 404 as on
PocketBase. Each test spends a limit on the canonical path, then sends every spelling it can think
of: each must be refused by the limiter (429) or by the router (404) — never reach the handler.

Paths are sent raw (``raw_path``): the ASGI door decodes them once, as uvicorn does; the Lambda
door puts the once-decoded path in the API Gateway event and Mangum decodes it again, so
``%252F`` arrives there as ``/``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.api.test_rate_limits import PASSWORD
from tests.support.doors import BASE_URL
from tests.support.ratelimit import set_limits
from tests.support.scenario import create_user, superuser_headers

NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}
SIGN_IN = "/api/collections/users/auth-with-password"


@pytest.fixture
def su(api) -> dict[str, str]:
    return superuser_headers(api)


class LiteralURL(httpx.URL):
    """A URL whose path reaches the door exactly as written: httpx would remove dot segments."""

    def __init__(self, raw_path: str):
        super().__init__(BASE_URL + "/")
        self.literal = raw_path

    @property
    def raw_path(self) -> bytes:
        return self.literal.encode()

    @property
    def path(self) -> str:
        return unquote(self.literal)


def send(api, method: str, raw_path: str, **kwargs: Any) -> httpx.Response:
    """A request whose path goes out byte for byte as written (no normalization by the client)."""
    request = httpx.Request(method, BASE_URL + "/", **kwargs)
    request.read()
    request.url = LiteralURL(raw_path)
    return api.send(request)


def spellings(canonical: str, collection: str, collection_id: str) -> list[str]:
    """Other ways to write ``canonical`` (``/api/collections/<collection>/...``)."""
    tail = canonical.removeprefix(f"/api/collections/{collection}/")
    encoded_first = "%" + format(ord(tail[0]), "02X") + tail[1:]
    return [
        canonical + "/",
        canonical + "//",
        canonical + "/.",
        canonical + "%2F",
        "/" + canonical,
        canonical.replace("/api/", "/api//"),
        canonical.replace(f"/{collection}/", f"/{collection}//"),
        canonical.replace(f"/{collection}/", f"/{collection}/./"),
        canonical.replace(f"/{collection}/", f"/x/../{collection}/"),
        canonical.replace(f"/{collection}/", f"/x/%2E%2E/{collection}/"),
        canonical.replace(f"/{collection}/", f"/{collection}%2F"),
        canonical.replace(f"/{collection}/", f"/{collection}%252F"),
        canonical.replace(f"/{collection}/", f"/{collection.upper()}/"),
        canonical.replace(f"/{collection}/", f"/{collection_id}/"),
        canonical.replace(tail, encoded_first),
        canonical.replace(tail, tail.upper()),
        canonical.replace("/api/", "/API/"),
        canonical.replace("/api/", "/%61pi/"),
    ]


def test_trailing_slash_paths_are_404_as_in_pocketbase_and_run_no_handler(api, su):
    create_user(api, "ann@example.com", PASSWORD)
    created = api.post(
        "/api/collections",
        headers=su,
        json={
            "name": "posts",
            "listRule": "",
            "viewRule": "",
            "createRule": "",
            "updateRule": "",
            "deleteRule": "",
            "fields": [{"name": "title", "type": "text"}],
        },
    )
    assert created.status_code == 200, created.text
    record = api.post("/api/collections/posts/records", json={"title": "kept"}).json()
    one = f"/api/collections/posts/records/{record['id']}"
    probes = [
        ("GET", "/api/health/", {}),
        ("GET", "/api/health//", {}),
        ("GET", "/api/collections/posts/records/", {}),
        ("POST", "/api/collections/posts/records/", {"json": {"title": "added"}}),
        ("GET", one + "/", {}),
        ("PATCH", one + "/", {"json": {"title": "changed"}}),
        ("DELETE", one + "/", {}),
        ("POST", SIGN_IN + "/", {"json": {"identity": "ann@example.com", "password": PASSWORD}}),
        ("GET", "/api/collections/users/auth-methods/", {}),
        ("POST", "/api/batch/", {"json": {"requests": []}}),
        ("GET", "/api/settings/", {"headers": su}),
        ("GET", "/api/collections/", {"headers": su}),
    ]
    for method, path, kwargs in probes:
        response = send(api, method, path, **kwargs)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), f"{method} {path}"
    listed = api.get("/api/collections/posts/records").json()
    assert [item["title"] for item in listed["items"]] == ["kept"], "no handler ran"


def test_no_spelling_of_the_sign_in_path_signs_in_once_the_limit_is_spent(api, clock):
    create_user(api, "ann@example.com", PASSWORD)
    credentials = {"identity": "ann@example.com", "password": PASSWORD}
    assert [api.post(SIGN_IN, json={**credentials, "password": "wrong"}).status_code for _ in range(30)] == [
        400
    ] * 30
    assert api.post(SIGN_IN, json=credentials).status_code == 429
    users_id = api.runtime.registry.get("users").id
    for path in spellings(SIGN_IN, "users", users_id):
        response = send(api, "POST", path, json=credentials)
        assert response.status_code in (404, 429), f"{path} reached the handler: {response.status_code}"
        assert "token" not in response.json()


def test_a_spelling_the_router_takes_counts_on_the_canonical_counter(api, clock):
    """Spellings that do reach the sign-in handler (decoded, by id, upper-case name) spend the
    same budget as the canonical path: 29 canonical attempts, then one of them, then refusals."""
    create_user(api, "ann@example.com", PASSWORD)
    wrong = {"identity": "ann@example.com", "password": "wrong"}
    users_id = api.runtime.registry.get("users").id
    taken = [
        path
        for path in spellings(SIGN_IN, "users", users_id)
        if send(api, "POST", path, json=wrong).status_code != 404
    ]
    assert taken, "some spellings are served (percent-encoded letters, the collection id)"
    used = len(taken)
    answers = [api.post(SIGN_IN, json=wrong).status_code for _ in range(30 - used)]
    assert answers == [400] * (30 - used), "the spellings above spent the canonical budget"
    assert api.post(SIGN_IN, json=wrong).status_code == 429
    for path in taken:
        assert send(api, "POST", path, json=wrong).status_code == 429, path


def test_no_spelling_of_a_record_route_escapes_its_rule(api, clock, su):
    created = api.post(
        "/api/collections",
        headers=su,
        json={
            "name": "posts",
            "viewRule": "",
            "createRule": "",
            "updateRule": "",
            "fields": [{"name": "title", "type": "text"}],
        },
    )
    assert created.status_code == 200, created.text
    posts_id = created.json()["id"]
    record = api.post("/api/collections/posts/records", json={"title": "t"}).json()
    set_limits(api, su, [{"label": "*:view", "maxRequests": 2}, {"label": "*:update", "maxRequests": 1}])
    one = f"/api/collections/posts/records/{record['id']}"
    assert [api.get(one).status_code for _ in range(3)] == [200, 200, 429]
    for path in spellings(one, "posts", posts_id):
        response = send(api, "GET", path)
        assert response.status_code in (404, 429), f"GET {path}: {response.status_code}"
    assert api.patch(one, json={"title": "first"}).status_code == 200
    for path in spellings(one, "posts", posts_id):
        response = send(api, "PATCH", path, json={"title": "sneaked"})
        assert response.status_code in (404, 429), f"PATCH {path}: {response.status_code}"
    assert api.get(one, headers=su).json()["title"] == "first"


def test_no_spelling_of_the_batch_path_escapes_a_path_rule(api, clock, su):
    set_limits(api, su, [{"label": "*:auth", "maxRequests": 30}, {"label": "/api/batch", "maxRequests": 1}])
    assert api.patch("/api/settings", headers=su, json={"batch": {"enabled": True}}).status_code == 200
    assert api.post("/api/batch", json={"requests": []}).status_code != 429
    assert api.post("/api/batch", json={"requests": []}).status_code == 429
    for path in [
        "/api/batch/",
        "/api/batch//",
        "//api/batch",
        "/api//batch",
        "/api/batch%2F",
        "/api/%62atch",
        "/api/BATCH",
        "/api/x/../batch",
        "/api/./batch",
    ]:
        response = send(api, "POST", path, json={"requests": []})
        assert response.status_code in (404, 429), f"{path}: {response.status_code}"


def test_batch_item_urls_with_a_trailing_slash_fail_as_in_pocketbase(api, clock, su):
    settings = {
        "batch": {"enabled": True},
        "rateLimits": {
            "enabled": True,
            "rules": [{"label": "*:create", "audience": "", "duration": 60, "maxRequests": 1}],
        },
    }
    assert api.patch("/api/settings", headers=su, json=settings).status_code == 200
    created = api.post(
        "/api/collections", headers=su, json={"name": "notes", "createRule": "", "listRule": ""}
    )
    assert created.status_code == 200, created.text
    for url in ["/api/collections/notes/records/", "/api/collections/notes/records//"]:
        response = api.post("/api/batch", json={"requests": [{"method": "POST", "url": url, "body": {}}]})
        assert response.status_code == 400, response.text
        assert response.json()["data"]["requests"]["0"]["response"]["status"] == 400
    assert api.get("/api/collections/notes/records").json()["totalItems"] == 0
    assert api.post("/api/collections/notes/records", json={}).status_code == 200, "nothing was counted"
    assert api.post("/api/collections/notes/records", json={}).status_code == 429
