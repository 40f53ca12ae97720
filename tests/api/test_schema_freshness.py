"""Schema changes made by one process reach the others (DESIGN.md §3): two apps, one database.

App ``a`` changes the schema; app ``b`` (another process in production: a Granian worker or a
Lambda instance) keeps serving with its cache and must answer correctly.
"""

from __future__ import annotations

import time

import pytest

from tests.support.doors import open_door
from tests.support.scenario import superuser_headers


@pytest.fixture
def pair(door_kind, make_settings):
    settings = make_settings()
    a, b = open_door(door_kind, settings), open_door(door_kind, settings)
    yield a, b
    a.close()
    b.close()


def test_a_new_collection_is_seen_at_once(pair):
    a, b = pair
    su = superuser_headers(a)
    assert b.get("/api/collections/fresh/records").status_code == 404
    a.post("/api/collections", headers=su, json={"name": "fresh", "listRule": ""})
    response = b.get("/api/collections/fresh/records")
    assert response.status_code == 200, "a miss forces a version check"


def test_a_stale_column_name_reloads_and_retries(pair):
    a, b = pair
    su = superuser_headers(a)
    created = a.post(
        "/api/collections",
        headers=su,
        json={
            "name": "things",
            "listRule": "",
            "createRule": "",
            "fields": [{"name": "old_name", "type": "text"}],
        },
    ).json()
    a.post("/api/collections/things/records", json={"old_name": "value"})
    assert b.get("/api/collections/things/records").json()["items"][0]["old_name"] == "value"
    fields = [dict(f, name="new_name") if f["name"] == "old_name" else f for f in created["fields"]]
    assert a.patch("/api/collections/things", headers=su, json={"fields": fields}).status_code == 200
    # b's cache still names "old_name": the statement fails, b reloads and answers correctly.
    response = b.get("/api/collections/things/records")
    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["new_name"] == "value"
    write = b.post("/api/collections/things/records", json={"new_name": "second"})
    assert write.status_code == 200, write.text


def test_changes_reach_other_processes_on_their_next_request(pair):
    a, b = pair
    su = superuser_headers(a)
    created = a.post(
        "/api/collections", headers=su, json={"name": "grow", "listRule": "", "createRule": ""}
    ).json()
    a.post("/api/collections/grow/records", json={})
    assert "extra" not in b.get("/api/collections/grow/records").json()["items"][0]
    fields = [*created["fields"], {"name": "extra", "type": "text"}]
    a.patch("/api/collections/grow", headers=su, json={"fields": fields})
    assert b.get("/api/collections/grow/records").json()["items"][0]["extra"] == ""
    a.patch("/api/collections/grow", headers=su, json={"listRule": None})
    assert b.get("/api/collections/grow/records").status_code == 403, "rule changes apply at once (AC-9)"


def test_interval_mode_applies_changes_within_the_interval(door_kind, make_settings):
    settings = make_settings(schema_check_interval=1.0)
    a, b = open_door(door_kind, settings), open_door(door_kind, settings)
    try:
        su = superuser_headers(a)
        a.post("/api/collections", headers=su, json={"name": "slow", "listRule": ""})
        assert b.get("/api/collections/slow/records").status_code == 200
        a.patch("/api/collections/slow", headers=su, json={"listRule": None})
        time.sleep(1.1)
        assert b.get("/api/collections/slow/records").status_code == 403
    finally:
        a.close()
        b.close()
