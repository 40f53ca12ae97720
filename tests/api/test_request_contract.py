"""Contract differences from issue 8, finding 9, answered as PocketBase 0.40.6 does (each expected
answer below was recorded from the PocketBase binary with the same requests):

- PATCH with a body ``id`` other than the record's: 400 ``validation_pk_change``;
- a body sent as ``text/plain`` or without a Content-Type is not parsed as JSON: 400;
- ``POST /api/batch`` without ``requests``: "Invalid batch request data."; an unreadable batch body:
  "Failed to read the submitted batch data.";
- ``@request.auth.password`` and ``@request.auth.tokenKey`` are non-empty for signed-in records;
- ``fields`` on sign-in answers picks from ``{token, record, meta}``, not from the record.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.api.access_world import NOT_FOUND, PASSWORD, World, rules
from tests.api.test_access_control import batch_failure, records
from tests.api.test_oauth2 import ALICE, AUTH, REDIRECT, authorize, configure, fake, oidc, provider_info
from tests.support.scenario import superuser_headers

__all__ = ["fake"]  # the OAuth2 provider fixture, used below

PK_CHANGE = {
    "data": {"id": {"code": "validation_pk_change", "message": "The record primary key cannot be changed."}},
    "message": "Failed to update record.",
    "status": 400,
}
UNSUPPORTED = {"data": {}, "message": "Unsupported Content-Type.", "status": 400}
BATCH_UNREADABLE = {"data": {}, "message": "Failed to read the submitted batch data.", "status": 400}
BLANK = {"code": "validation_required", "message": "Cannot be blank."}


def batch_invalid(data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "message": "Invalid batch request data.", "status": 400}


@pytest.fixture
def world(api: Any) -> World:
    world = World(api, members=False)
    world.items_collection("notes", rules("owner = @request.auth.id"))
    return world


def _note(world: World) -> dict[str, Any]:
    return world.add("notes", title="kept", owner=world["userA"].user_id)


# -- PATCH with another id ------------------------------------------------------------------------


def test_patch_with_another_id_is_refused_as_a_primary_key_change(world):
    note = _note(world)
    url = records("notes", note["id"])
    for body in ({"id": "abcdefghijklmno", "title": "moved"}, {"id": None}, {"id": ""}, {"id": 5}):
        response = world.as_("userA", "PATCH", url, json=body)
        assert (response.status_code, response.json()) == (400, PK_CHANGE), body
        response = world.as_("superuser", "PATCH", url, json=body)
        assert (response.status_code, response.json()) == (400, PK_CHANGE), body
    assert world.read("notes", "abcdefghijklmno") is None
    assert world.read("notes", note["id"]) == note
    # the rule is checked first: a caller who may not update the record learns nothing
    response = world.as_("userB", "PATCH", url, json={"id": "abcdefghijklmno"})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    batch = {"requests": [{"method": "PATCH", "url": url, "body": {"id": "abcdefghijklmno"}}]}
    response = world.as_("userA", "POST", "/api/batch", json=batch)
    assert response.json() == batch_failure(0, PK_CHANGE)
    # the record's own id is fine, as is an upsert naming it
    same = world.as_("userA", "PATCH", url, json={"id": note["id"], "title": "same"})
    assert same.status_code == 200, same.text
    upsert = {
        "requests": [{"method": "PUT", "url": records("notes"), "body": {"id": note["id"], "title": "put"}}]
    }
    assert world.as_("userA", "POST", "/api/batch", json=upsert).status_code == 200
    assert world.read("notes", note["id"])["title"] == "put"


# -- Content-Type ----------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", None, "text/json", "APPLICATION/JSON"])
def test_bodies_without_a_json_content_type_are_not_parsed(world, content_type):
    note = _note(world)
    headers = {"Content-Type": content_type} if content_type else {}

    def send(identity: str, method: str, url: str, body: Any) -> Any:
        return world.as_(identity, method, url, content=orjson.dumps(body), headers=headers)

    owner = world["userA"].user_id
    created = send("userA", "POST", records("notes"), {"title": "new", "owner": owner})
    assert (created.status_code, created.json()) == (400, UNSUPPORTED)
    updated = send("userA", "PATCH", records("notes", note["id"]), {"title": "changed"})
    assert (updated.status_code, updated.json()) == (400, UNSUPPORTED)
    signin = send("guest", "POST", "/api/collections/users/auth-with-password",
                  {"identity": "usera@example.com", "password": PASSWORD})  # fmt: skip
    assert (signin.status_code, signin.json()) == (400, UNSUPPORTED)
    item = {"method": "PATCH", "url": records("notes", note["id"]), "body": {"title": "batched"}}
    batch = send("userA", "POST", "/api/batch", {"requests": [item]})
    assert (batch.status_code, batch.json()) == (400, BATCH_UNREADABLE)
    assert world.all_records("notes") == [note]


def test_json_content_type_with_parameters_and_empty_bodies_still_work(world):
    note = _note(world)
    url = records("notes", note["id"])
    json_utf8 = {"Content-Type": "application/json; charset=utf-8"}
    response = world.as_("userA", "PATCH", url, content=b'{"title": "utf8"}', headers=json_utf8)
    assert response.status_code == 200, response.text
    # an empty body needs no Content-Type (PocketBase reads nothing)
    response = world.as_("userA", "PATCH", url, content=b"")
    assert response.status_code == 200, response.text
    assert world.read("notes", note["id"])["title"] == "utf8"


# -- batch envelope --------------------------------------------------------------------------------


def test_batch_bodies_without_requests_are_invalid_batch_data(world):
    note = _note(world)
    item = {"method": "PATCH", "url": records("notes", note["id"]), "body": {"title": "x"}}
    cases: list[tuple[Any, dict[str, Any]]] = [
        ({}, batch_invalid({"requests": BLANK})),
        ({"other": 1}, batch_invalid({"requests": BLANK})),
        ({"requests": []}, batch_invalid({"requests": BLANK})),
        ({"requests": None}, batch_invalid({"requests": BLANK})),
        ({"requests": [{}]}, batch_invalid({"requests": {"0": {"method": BLANK, "url": BLANK}}})),
        ({"requests": [item, {"method": "PATCH"}]}, batch_invalid({"requests": {"1": {"url": BLANK}}})),
        ({"requests": "x"}, BATCH_UNREADABLE),
        ({"requests": [1]}, BATCH_UNREADABLE),
        ([1], BATCH_UNREADABLE),
    ]
    for body, expected in cases:
        response = world.as_("userA", "POST", "/api/batch", json=body)
        assert (body, response.status_code, response.json()) == (body, 400, expected)
    garbage = world.as_(
        "userA", "POST", "/api/batch", content=b"garbage", headers={"Content-Type": "application/json"}
    )
    assert (garbage.status_code, garbage.json()) == (400, BATCH_UNREADABLE)
    world.door.patch("/api/settings", headers=world.su, json={"batch": {"enabled": True, "maxRequests": 2}})
    too_long = world.as_("userA", "POST", "/api/batch", json={"requests": [item] * 3})
    expected = {"code": "validation_length_too_long", "message": "The length must be no more than 2.",
                "params": {"max": 2, "min": 0}}  # fmt: skip
    assert (too_long.status_code, too_long.json()) == (400, batch_invalid({"requests": expected}))
    assert world.read("notes", note["id"]) == note


# -- @request.auth secrets -------------------------------------------------------------------------

#: rule -> (records userA sees, records a guest sees), out of 2, as PocketBase answers.
SECRET_RULES = {
    "@request.auth.password = ''": (0, 2),
    "@request.auth.password != ''": (2, 0),
    "@request.auth.password = null": (0, 2),
    "@request.auth.password != null": (2, 0),
    "@request.auth.password:lower = ''": (0, 2),
    "@request.auth.tokenKey = ''": (0, 2),
    "@request.auth.tokenKey != ''": (2, 0),
    "@request.auth.tokenKey = null": (0, 2),
}


def test_request_auth_password_and_token_key_are_set_for_signed_in_records(world):
    _note(world)
    _note(world)
    seen = {}
    for rule in SECRET_RULES:
        world.set_rules("notes", listRule=rule)
        user, guest = world.list("userA", "notes"), world.list("guest", "notes")
        assert user.status_code == guest.status_code == 200, (rule, user.text, guest.text)
        seen[rule] = (user.json()["totalItems"], guest.json()["totalItems"])
    assert seen == SECRET_RULES


# -- fields on sign-in answers ---------------------------------------------------------------------


def test_fields_on_sign_in_answers_pick_from_the_envelope(world):
    signin = "/api/collections/users/auth-with-password"
    credentials = {"identity": "usera@example.com", "password": PASSWORD}
    user_id = world["userA"].user_id

    def sign_in(fields: str) -> dict[str, Any]:
        response = world.door.post(signin, params={"fields": fields}, json=credentials)
        assert response.status_code == 200, response.text
        return response.json()

    only_token = sign_in("token")
    assert list(only_token) == ["token"]
    refreshed = world.door.post(
        "/api/collections/users/auth-refresh", params={"fields": "record.id"},
        headers={"Authorization": only_token["token"]},
    )  # fmt: skip
    assert refreshed.json() == {"record": {"id": user_id}}
    assert sign_in("record.email") == {"record": {"email": "usera@example.com"}}
    both = sign_in("token,record.id")
    assert (sorted(both), both["record"]) == (["record", "token"], {"id": user_id})
    assert sign_in("record.email:excerpt(3)")["record"] == {"email": "use"}
    assert sign_in("meta") == {}
    assert sign_in("id,email") == {}
    everything = sign_in("*")
    assert sorted(everything) == ["record", "token"] and everything["record"]["id"] == user_id
    refresh_token = world.door.post(
        "/api/collections/users/auth-refresh", params={"fields": "token"}, headers=world["userA"].headers
    )
    assert list(refresh_token.json()) == ["token"]


def test_fields_on_oauth2_sign_in_pick_from_the_envelope(api, fake):
    configure(api, superuser_headers(api), oidc(fake))
    info = provider_info(api)
    code = authorize(fake, info, ALICE)
    body = {"provider": "oidc", "code": code, "codeVerifier": info["codeVerifier"], "redirectURL": REDIRECT}
    response = api.post(AUTH, params={"fields": "meta.isNew,record.email"}, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"meta": {"isNew": True}, "record": {"email": "alice@example.com"}}
