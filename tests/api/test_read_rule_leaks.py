"""Issue 8, finding 2: per-field read rules must hold wherever a guarded value leaves its column.

One world, every operand kind of the filter language pointed at guarded fields of another user's
record (JSON paths, whole-JSON ``~``, ``:length``/``:each``, relation and back-relation hops through
a guarded field, function arguments, geoPoint paths), plus sorts and ``expand``. Each attack is a
pair of probes, a right and a wrong guess of the hidden value: neither may match that record for
the attacker (on the unfixed code the right guess matched, which is how a value was recovered
character by character). Positive controls: the owner (who passes the read rule on her record)
filters and expands normally, and a caller who passes the rule on every row sorts normally.
Run on SQLite and PostgreSQL, through the ASGI and Lambda doors (``api`` fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.scenario import create_user, superuser_headers, user_headers

READ_RULE = "owner = @request.auth.id || @request.auth.email = 'hr@example.com'"


def _guarded(name: str, type_: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "readRule": READ_RULE, **options}


def _owner() -> dict[str, Any]:
    return {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1}


def _collection(api: Any, su: dict[str, str], name: str, fields: list[dict[str, Any]]) -> str:
    body = {"name": name, "listRule": "", "viewRule": "", "fields": fields}
    response = api.post("/api/collections", headers=su, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _record(api: Any, su: dict[str, str], collection: str, body: dict[str, Any]) -> str:
    response = api.post(f"/api/collections/{collection}/records", headers=su, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


@dataclass
class World:
    api: Any
    ids: dict[str, str]
    callers: dict[str, dict[str, str]]

    def list(self, caller: str, **params: str) -> Any:
        return self.api.get("/api/collections/docs/records", headers=self.callers[caller], params=params)

    def ids_of(self, caller: str, **params: str) -> list[str]:
        response = self.list(caller, **params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]


def build_world(api: Any) -> World:
    su = superuser_headers(api)
    alice = create_user(api, "alice@example.com")
    bob = create_user(api, "bob@example.com")
    create_user(api, "hr@example.com")
    notes = _collection(
        api, su, "notes", [{"name": "title", "type": "text"}, _owner(), _guarded("secret", "text")]
    )
    rel = {"collectionId": notes}
    docs = _collection(
        api,
        su,
        "docs",
        [
            _owner(),
            {"name": "note", "type": "relation", "maxSelect": 1, **rel},
            _guarded("secret", "text"),
            _guarded("meta", "json"),
            _guarded("tags", "select", values=["w", "x", "y", "z"], maxSelect=4),
            _guarded("rel", "relation", maxSelect=1, **rel),
            _guarded("rels", "relation", maxSelect=5, **rel),
            _guarded("loc", "geoPoint"),
            _guarded("when", "date"),
        ],
    )
    _collection(
        api,
        su,
        "comments",
        [
            _owner(),
            {"name": "body", "type": "text"},
            _guarded("doc", "relation", collectionId=docs, maxSelect=1),
        ],
    )
    n1 = _record(api, su, "notes", {"title": "n-one", "owner": alice["id"], "secret": "note-a"})
    n2 = _record(api, su, "notes", {"title": "n-two", "owner": bob["id"], "secret": "note-b"})
    d_a = _record(
        api,
        su,
        "docs",
        {
            "owner": alice["id"],
            "note": n1,
            "secret": "s3cr3t",
            "meta": {"code": "alpha"},
            "tags": ["x", "y"],
            "rel": n1,
            "rels": [n1, n2],
            "loc": {"lon": 13.4, "lat": 52.5},
            "when": "2024-05-06 10:00:00.000Z",
        },
    )
    d_b = _record(
        api,
        su,
        "docs",
        {
            "owner": bob["id"],
            "note": n2,
            "secret": "other",
            "meta": {"code": "beta"},
            "tags": ["z"],
            "rel": n2,
            "rels": [n2],
            "loc": {"lon": 0, "lat": 0},
            "when": "2020-01-01 00:00:00.000Z",
        },
    )
    c_a = _record(api, su, "comments", {"owner": alice["id"], "body": "hello", "doc": d_a})
    _record(api, su, "comments", {"owner": bob["id"], "body": "bye", "doc": d_b})
    callers = {
        "guest": {},
        "bob": user_headers(api, "bob@example.com"),
        "alice": user_headers(api, "alice@example.com"),
        "hr": user_headers(api, "hr@example.com"),
    }
    ids = {"d_a": d_a, "d_b": d_b, "n1": n1, "n2": n2, "c_a": c_a}
    return World(api, ids, callers)


# (operand kind, filter with the right guess of alice's hidden value, filter with a wrong guess,
#  whether the unfixed code already held it)
FILTER_ATTACKS = [
    ("field", "secret = 's3cr3t'", "secret = 'nope'", True),
    ("field prefix (char by char)", "secret ~ 's3c%'", "secret ~ 'zzz%'", True),
    ("field :lower", "secret:lower = 's3cr3t'", "secret:lower = 'nope'", True),
    ("json path", "meta.code = 'alpha'", "meta.code = 'gamma'", False),
    ("json path prefix", "meta.code ~ 'al%'", "meta.code ~ 'zz%'", False),
    ("whole json ~", "meta ~ 'alpha'", "meta ~ 'gamma'", False),
    ("whole json !=", "meta != null", "meta = null", False),
    (":length", "tags:length = 2", "tags:length = 3", False),
    (":each any", "tags:each ?= 'y'", "tags:each ?= 'w'", False),
    (":each all", "tags:each != 'z'", "tags:each = 'w'", False),
    ("multi select ~", "tags ~ 'y'", "tags ~ 'w'", True),
    ("relation hop (single)", "rel.title = 'n-one'", "rel.title = 'n-zzz'", False),
    ("relation id", "rel.id = '{n1}'", "rel.id = 'nope'", True),
    ("relation hop (multi)", "rels.title ?= 'n-one'", "rels.title ?= 'n-zzz'", False),
    ("relation :length", "rels:length = 2", "rels:length = 4", False),
    ("relation :each", "rels:each ?= '{n1}'", "rels:each ?= 'nope'", False),
    ("back-relation", "comments_via_doc.body ?= 'hello'", "comments_via_doc.body ?= 'no'", False),
    ("back-relation id", "comments_via_doc.id ?= '{c_a}'", "comments_via_doc.id ?= 'nope'", False),
    ("guarded field behind a hop", "note.secret = 'note-a'", "note.secret = 'nope'", True),
    ("geoPoint path", "loc.lat > 50", "loc.lat > 60", False),
    ("geoDistance", "geoDistance(loc.lon,loc.lat,13.4,52.5) < 1", "geoDistance(loc.lon,loc.lat,9,9) < 1", False),  # noqa: E501
    ("strftime arg", "strftime('%Y', when) = '2024'", "strftime('%Y', when) = '1999'", False),
    ("date field", "when > '2024-01-01'", "when > '2025-01-01'", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "right", "wrong", "held_before"), FILTER_ATTACKS, ids=[c[0] for c in FILTER_ATTACKS]
)
def test_filters_cannot_probe_a_guarded_value(api, kind: str, right: str, wrong: str, held_before: bool):
    world = build_world(api)
    right, wrong = right.format(**world.ids), wrong.format(**world.ids)
    d_a = world.ids["d_a"]
    for attacker in ("guest", "bob"):
        hit, miss = world.ids_of(attacker, filter=right), world.ids_of(attacker, filter=wrong)
        assert d_a not in hit, f"{kind}: {attacker} matched alice's hidden value with {right!r}"
        assert d_a not in miss, f"{kind}: the answer depends on alice's hidden value"
    # positive controls: alice reads her own record, hr reads every record
    for reader in ("alice", "hr"):
        assert d_a in world.ids_of(reader, filter=right), f"{kind}: {reader} may filter by the value"
        assert d_a not in world.ids_of(reader, filter=wrong)


# (sort, the order hr sees ascending: d_a first?)
SORT_ATTACKS = [
    ("secret", False),  # "other" < "s3cr3t"
    ("meta.code", True),
    ("rel.title", True),
    ("rels.title", None),  # multi-valued: not sortable for anyone
    ("note.secret", True),
    ("loc.lat", False),
    ("rel.secret", True),
]


@pytest.mark.parametrize(("sort", "a_first"), SORT_ATTACKS, ids=[s for s, _ in SORT_ATTACKS])
def test_sorts_reading_a_guarded_value_are_refused(api, sort: str, a_first: bool | None):
    world = build_world(api)
    for attacker in ("guest", "bob", "alice"):  # alice too: she cannot read bob's row
        for direction in ("", "-"):
            response = world.list(attacker, sort=direction + sort)
            assert response.status_code == 400, f"{attacker} sorted by {direction + sort}: {response.text}"
            assert set(response.json()) == {"data", "message", "status"}
    if a_first is None:
        return
    # positive control: hr passes the read rule on every row and sorts by the value
    expected = [world.ids["d_a"], world.ids["d_b"]]
    if not a_first:
        expected.reverse()
    assert world.ids_of("hr", sort=sort) == expected
    assert world.ids_of("hr", sort="-" + sort) == expected[::-1]


def test_expand_follows_only_readable_relations(api):
    world = build_world(api)
    d_a, n1, c_a = world.ids["d_a"], world.ids["n1"], world.ids["c_a"]
    url = f"/api/collections/docs/records/{d_a}"
    for attacker in ("guest", "bob"):
        headers = world.callers[attacker]
        one = world.api.get(url, headers=headers, params={"expand": "rel,rels,comments_via_doc"}).json()
        assert one.get("expand", {}) == {}, f"{attacker} expanded alice's guarded relations: {one}"
        listed = world.api.get(
            "/api/collections/docs/records", headers=headers, params={"expand": "rel,comments_via_doc"}
        ).json()
        mine = next(item for item in listed["items"] if item["id"] == d_a)
        assert mine.get("expand", {}) == {}
        # another collection's guarded relation (comments.doc) expands nothing, nor what lies behind it
        nested = world.api.get(
            "/api/collections/comments/records", headers=headers, params={"expand": "doc.rel"}
        ).json()
        alices = next(item for item in nested["items"] if item["id"] == c_a)
        assert "doc" not in alices and alices.get("expand", {}) == {}
        projected = world.api.get(
            url, headers=headers, params={"expand": "rel", "fields": "id,secret:excerpt(3),expand.rel"}
        )
        assert {**projected.json(), "expand": projected.json().get("expand") or {}} == {
            "id": d_a,
            "expand": {},
        }
    own = world.api.get(
        url, headers=world.callers["alice"], params={"expand": "rel,rels,comments_via_doc"}
    ).json()
    assert own["expand"]["rel"]["id"] == n1
    assert [r["id"] for r in own["expand"]["rels"]] == [n1, world.ids["n2"]]
    assert [c["id"] for c in own["expand"]["comments_via_doc"]] == [c_a]
    projected = world.api.get(
        url,
        headers=world.callers["alice"],
        params={"expand": "rel", "fields": "id,secret:excerpt(3),expand.rel.title"},
    ).json()
    assert projected == {"id": d_a, "secret": "s3c", "expand": {"rel": {"title": "n-one"}}}
