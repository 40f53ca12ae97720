"""Field modifiers against ``@request.body`` rules (issue 8, finding 1).

A rule that protects fields (``@request.body.roles:isset = false``, ``:changed``, ``:length``,
``:each``, plain ``@request.body.x``) must see the body as PocketBase does after modifiers:
``roles+``/``+roles``/``roles-`` and ``credits+``/``credits-`` set the field, to the record's value
with the modifier applied. Each case is an attack that succeeded before (200 and the values
written) or a positive control. Expected answers were recorded from PocketBase 0.40.6 with the
same collection, rules and bodies (the record holds ``roles = ["user"]``, ``credits = 10``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.access_world import CREATE_FAILED, NOT_FOUND, World, rules
from tests.api.test_access_control import batch_failure, records

PROTECT = (
    "owner = @request.auth.id && @request.body.roles:isset = false && @request.body.credits:changed = false"
)
FIELDS = [
    {"name": "roles", "type": "select", "values": ["user", "admin", "mod"], "maxSelect": 3},
    {"name": "credits", "type": "number"},
    {"name": "meta", "type": "json"},
    {"name": "when", "type": "date"},
    {"name": "flag", "type": "bool"},
]
START = {"roles": ["user"], "credits": 10}

#: (label, body, (roles, credits) stored after a successful update)
BODIES: list[tuple[str, dict[str, Any], tuple[list[str], int]]] = [
    ("title", {"title": "ok"}, (["user"], 10)),
    ("roles+", {"roles+": "admin"}, (["user", "admin"], 10)),
    ("+roles", {"+roles": "admin"}, (["admin", "user"], 10)),
    ("roles=", {"roles": ["admin"]}, (["admin"], 10)),
    ("roles+mod", {"roles+": "mod"}, (["user", "mod"], 10)),
    ("roles-", {"roles-": "user"}, ([], 10)),
    ("roles-none", {"roles-": "nope"}, (["user"], 10)),
    ("credits+big", {"credits+": 1000000}, (["user"], 1000010)),
    ("credits+1", {"credits+": 1}, (["user"], 11)),
    ("credits-", {"credits-": 5}, (["user"], 5)),
    ("credits+0", {"credits+": 0}, (["user"], 10)),
    ("credits=same", {"credits": 10}, (["user"], 10)),
    ("credits=50", {"credits": 50}, (["user"], 50)),
    ("plain+modifier", {"credits": 10, "credits+": 0}, (["user"], 10)),
]

#: rule -> the status PocketBase answers for each body of BODIES, in order.
TABLE: dict[str, list[int]] = {
    PROTECT: [200, 404, 404, 404, 404, 404, 404, 404, 404, 404, 200, 200, 404, 200],
    "owner = @request.auth.id && @request.body.roles:length < 2":
        [200, 404, 404, 200, 404, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "owner = @request.auth.id && @request.body.roles:each != 'admin'":
        [200, 404, 404, 404, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "owner = @request.auth.id && @request.body.credits <= 100":
        [404, 404, 404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 200, 200],
    "owner = @request.auth.id && (@request.body.credits:isset = false || @request.body.credits <= 100)":
        [200, 200, 200, 200, 200, 200, 200, 404, 200, 200, 200, 200, 200, 200],
    "owner = @request.auth.id && @request.body.roles !~ 'admin'":
        [404, 404, 404, 404, 200, 200, 200, 404, 404, 404, 404, 404, 404, 404],
    "owner = @request.auth.id && @request.body.roles:changed = false":
        [200, 404, 404, 404, 404, 404, 200, 200, 200, 200, 200, 200, 200, 200],
}  # fmt: skip


def _world(api: Any, update_rule: str, create_rule: str = "owner = @request.auth.id") -> tuple[World, Any]:
    world = World(api, members=False)
    rule_values = {**rules("owner = @request.auth.id"), "updateRule": update_rule, "createRule": create_rule}
    world.items_collection("profiles", rule_values, FIELDS)
    row = world.add("profiles", title="t", owner=world["userA"].user_id, **START)
    return world, row


def _reset(world: World, row: dict[str, Any]) -> None:
    reset = {"title": "t", "meta": None, "when": "", "flag": False, **START}
    response = world.door.patch(records("profiles", row["id"]), headers=world.su, json=reset)
    assert response.status_code == 200, response.text


def _stored(world: World, row: dict[str, Any]) -> tuple[list[str], int]:
    stored = world.read("profiles", row["id"])
    assert stored is not None
    return stored["roles"], stored["credits"]


@pytest.mark.parametrize("rule", list(TABLE), ids=[f"rule{i}" for i in range(len(TABLE))])
def test_update_rules_see_the_body_after_modifiers(api, rule):
    world, row = _world(api, rule)
    answers = []
    for (label, body, _), expected in zip(BODIES, TABLE[rule], strict=True):
        response = world.as_("userA", "PATCH", records("profiles", row["id"]), json=body)
        stored = _stored(world, row)
        answers.append((label, response.status_code, stored))
        if expected == 404:
            assert response.json() == NOT_FOUND, (label, response.text)
        _reset(world, row)
    wanted = [
        (label, expected, result if expected == 200 else (START["roles"], START["credits"]))
        for (label, _, result), expected in zip(BODIES, TABLE[rule], strict=True)
    ]
    assert answers == wanted


#: rule -> [(body, PocketBase's status)]: plain values reach the rules cast as the field casts them.
CAST_TABLE: dict[str, list[tuple[dict[str, Any], int]]] = {
    "owner = @request.auth.id && @request.body.meta.admin != true":
        [({"meta": {"admin": True}}, 404), ({"meta": '{"admin": true}'}, 404), ({"meta": {"x": 1}}, 200)],
    "owner = @request.auth.id && @request.body.credits <= 100":
        [({"credits": "5"}, 200), ({"credits": "500"}, 404), ({"credits": 5}, 200)],
    "owner = @request.auth.id && @request.body.flag != true":
        [({"flag": "true"}, 404), ({"flag": 1}, 404), ({"flag": "1"}, 404), ({"flag": True}, 404),
         ({"flag": False}, 200)],
    "owner = @request.auth.id && @request.body.when < '2020-01-01'":
        [({"when": "2019-05-05"}, 200), ({"when": "2030-01-01 10:00:00"}, 404)],
    "owner = @request.auth.id && @request.body.when = '2019-05-05 00:00:00.000Z'":
        [({"when": "2019-05-05"}, 200), ({"when": "2019-05-05 00:00:00"}, 200)],
    "owner = @request.auth.id && @request.body.roles:length < 2":
        [({"roles": "user"}, 200), ({"roles": ["user", "user"]}, 200), ({"roles": ["user", "mod"]}, 404)],
    "owner = @request.auth.id && @request.body.title != 'x'":
        [({"title": " x "}, 200), ({"title": "x"}, 404), ({"title": 5}, 200)],
}  # fmt: skip


def test_update_rules_see_plain_values_cast_like_the_write(api):
    world, row = _world(api, PROTECT)
    seen = {}
    for rule, cases in CAST_TABLE.items():
        world.set_rules("profiles", updateRule=rule)
        for body, _ in cases:
            _reset(world, row)
            response = world.as_("userA", "PATCH", records("profiles", row["id"]), json=body)
            seen.setdefault(rule, []).append((body, response.status_code))
    assert seen == CAST_TABLE
    # a multipart body sends text: a JSON field's text is its JSON for the rule as for the write
    world.set_rules("profiles", updateRule="owner = @request.auth.id && @request.body.meta.admin != true")
    _reset(world, row)
    multipart = world.as_(
        "userA", "PATCH", records("profiles", row["id"]), files={"meta": (None, '{"admin": true}')}
    )
    assert (multipart.status_code, multipart.json()) == (404, NOT_FOUND)
    assert world.read("profiles", row["id"])["meta"] is None


def test_multipart_modifiers_are_seen_by_the_update_rule(api):
    world, row = _world(api, PROTECT)
    for key, value in (("roles+", "admin"), ("+roles", "admin"), ("roles-", "user"), ("credits+", "1000000")):
        response = world.as_("userA", "PATCH", records("profiles", row["id"]), files={key: (None, value)})
        assert (key, response.status_code, response.json()) == (key, 404, NOT_FOUND)
        assert _stored(world, row) == (START["roles"], START["credits"])
    allowed = world.as_(
        "userA", "PATCH", records("profiles", row["id"]), files={"title": (None, "multipart")}
    )
    assert allowed.status_code == 200, allowed.text
    assert world.read("profiles", row["id"])["title"] == "multipart"


def test_batch_items_apply_modifiers_before_the_rules(api):
    create_rule = (
        "owner = @request.auth.id && @request.body.roles:isset = false && @request.body.credits <= 100"
    )
    world, row = _world(api, PROTECT, create_rule)
    url = records("profiles", row["id"])
    for body in ({"roles+": "admin"}, {"credits+": 1000000}):
        response = world.as_(
            "userA", "POST", "/api/batch", json={"requests": [{"method": "PATCH", "url": url, "body": body}]}
        )
        assert response.json() == batch_failure(0, NOT_FOUND), response.text
        upsert = {"method": "PUT", "url": records("profiles"), "body": {"id": row["id"], **body}}
        response = world.as_("userA", "POST", "/api/batch", json={"requests": [upsert]})
        assert response.json() == batch_failure(0, NOT_FOUND), response.text
    assert _stored(world, row) == (START["roles"], START["credits"])
    owner = world["userA"].user_id
    for body in ({"owner": owner, "roles+": "admin"}, {"owner": owner, "credits+": 1000000}):
        response = world.as_(
            "userA",
            "POST",
            "/api/batch",
            json={"requests": [{"method": "POST", "url": records("profiles"), "body": body}]},
        )
        assert response.json() == batch_failure(0, CREATE_FAILED), response.text
    assert len(world.all_records("profiles")) == 1
    # positive controls: the same batch shapes within the rules go through
    fine = [
        {"method": "PATCH", "url": url, "body": {"title": "batched"}},
        {"method": "POST", "url": records("profiles"), "body": {"owner": owner, "credits+": 7}},
    ]
    response = world.as_("userA", "POST", "/api/batch", json={"requests": fine})
    assert response.status_code == 200, response.text
    assert [item["body"]["credits"] for item in response.json()] == [10, 7]
    assert world.read("profiles", row["id"])["title"] == "batched"


def test_create_rules_see_the_body_after_modifiers(api):
    create_rule = (
        "owner = @request.auth.id && @request.body.roles:isset = false && @request.body.credits <= 100"
    )
    world, _ = _world(api, PROTECT, create_rule)
    owner = world["userA"].user_id
    for body in ({"roles+": "admin"}, {"+roles": "admin"}, {"roles-": "user"}, {"credits+": 1000000}):
        response = world.as_("userA", "POST", records("profiles"), json={"owner": owner, **body})
        assert (body, response.status_code, response.json()) == (body, 400, CREATE_FAILED)
        multipart = {"owner": (None, owner), **{k: (None, str(v)) for k, v in body.items()}}
        response = world.as_("userA", "POST", records("profiles"), files=multipart)
        assert (body, response.status_code, response.json()) == (body, 400, CREATE_FAILED)
    assert len(world.all_records("profiles")) == 1
    # PocketBase's answer for a modifier the rule allows: the create applies it to the empty record
    created = world.as_(
        "userA", "POST", records("profiles"), json={"owner": owner, "credits+": 5, "title": "ok"}
    )
    assert created.status_code == 200, created.text
    assert (created.json()["credits"], created.json()["roles"]) == (5, [])


def test_superusers_still_use_modifiers(api):
    world, row = _world(api, PROTECT)
    response = world.door.patch(
        records("profiles", row["id"]), headers=world.su, json={"roles+": "admin", "credits-": 3}
    )
    assert response.status_code == 200, response.text
    assert _stored(world, row) == (["user", "admin"], 7)
