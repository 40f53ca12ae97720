"""VAL-2 / VAL-3 over HTTP: hostile values for every field type give 200 or a 400 field error."""

from __future__ import annotations

import pytest

from tests.support.scenario import superuser_headers

NASTY = [
    None, True, False, 0, -1, 1.5, 10**30, "", " ", "NaN", "Infinity", "1e309", "abc", "\x00", "0x10",
    "true", "javascript:alert(1)", "2024-02-30", "2024-01-01T10:00:00+14:00", "ünï@exämple.com", "a" * 6000,
    '{"a":', "[1,2]", "null", [], [1, "a", None], ["x"] * 50, {}, {"lon": 500, "lat": 1}, {"a": {"b": [1]}},
    "<img src=x onerror=alert(1)>", "'; DROP TABLE things; --",
]  # fmt: skip

FIELDS = [
    {"name": "t", "type": "text", "min": 2, "max": 50},
    {"name": "e", "type": "editor"},
    {"name": "n", "type": "number", "min": -10, "max": 10, "onlyInt": True},
    {"name": "b", "type": "bool"},
    {"name": "m", "type": "email"},
    {"name": "u", "type": "url"},
    {"name": "d", "type": "date"},
    {"name": "s", "type": "select", "values": ["a", "b"], "maxSelect": 2},
    {"name": "j", "type": "json", "maxSize": 2000},
    {"name": "r", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 3},
    {"name": "f", "type": "file", "maxSelect": 2},
    {"name": "g", "type": "geoPoint"},
]


@pytest.fixture
def things(api):
    su = superuser_headers(api)
    definition = {"name": "things", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
                  "fields": FIELDS}  # fmt: skip
    assert api.post("/api/collections", headers=su, json=definition).status_code == 200
    return su


@pytest.mark.parametrize("field", [f["name"] for f in FIELDS])
def test_hostile_values_never_cause_a_500(api, things, field):
    record = api.post("/api/collections/things/records", json={}).json()
    for value in NASTY:
        created = api.post("/api/collections/things/records", json={field: value})
        assert created.status_code in (200, 400), (value, created.text)
        if created.status_code == 400:
            body = created.json()
            assert body["status"] == 400 and field in body["data"], (value, body)
            assert body["data"][field]["code"].startswith("validation_")
        updated = api.patch(f"/api/collections/things/records/{record['id']}", json={field: value})
        assert updated.status_code in (200, 400), (value, updated.text)
    total = api.get("/api/collections/things/records", headers=things).json()["totalItems"]
    assert total >= 1


def test_deeply_nested_and_huge_json_bodies(api, things):
    deep = "[" * 2000 + "]" * 2000
    response = api.post(
        "/api/collections/things/records", content=('{"j": ' + deep + "}").encode(),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 400
    big = api.post("/api/collections/things/records", json={"j": {"x": "y" * 3000}})
    assert big.status_code == 400 and big.json()["data"]["j"]["code"] == "validation_json_size_limit"
    not_an_object = api.post(
        "/api/collections/things/records", content=b"[1,2,3]", headers={"content-type": "application/json"}
    )
    assert not_an_object.status_code == 400


def test_form_urlencoded_bodies_and_duplicate_keys(api, things):
    """VAL-3: form bodies work, and a repeated form key becomes a list (a multiple select)."""
    response = api.post("/api/collections/things/records", content=b"t=hello&s=a&s=b&b=true&n=3",
                        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["t"], record["s"], record["b"], record["n"]) == ("hello", ["a", "b"], True, 3)
