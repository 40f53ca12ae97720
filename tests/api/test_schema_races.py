"""Field renames under load: two runtimes share one database, one renames a field in a loop, the
other creates and lists records. No request may answer 500, and the schema-mismatch retry must never
run a hook twice (nor commit twice).

Before the fix ~1.3% of creates answered 500 on SQLite ("table x has no column named y" was not
recognised as a stale schema), a retry that met a second rename answered 500, and a retry re-ran
the whole handler, hooks included.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from tests.support.doors import open_door
from tests.support.scenario import superuser_headers

RENAMES = 60


@pytest.fixture
def pair(door_kind, make_settings):
    settings = make_settings()
    renamer, writer = open_door("asgi", settings), open_door(door_kind, settings)
    yield renamer, writer
    writer.close()
    renamer.close()


def test_field_renames_under_load_answer_no_500_and_run_hooks_once(pair):
    renamer, writer = pair
    su = superuser_headers(renamer)
    created = renamer.post(
        "/api/collections",
        headers=su,
        json={
            "name": "busy",
            "listRule": "",
            "createRule": "",
            "fields": [{"name": "n0", "type": "text"}, {"name": "keep", "type": "text"}],
        },
    )
    assert created.status_code == 200, created.text
    calls: Counter[str] = Counter()
    hooks = writer.runtime.hooks
    hooks.on_record_create("busy")(lambda event: calls.update(["before"]))
    hooks.on_record_create("busy", stage="commit")(lambda event: calls.update(["commit"]))
    assert writer.post("/api/collections/busy/records", json={"keep": "warm"}).status_code == 200

    stop = threading.Event()
    renamed: list[int] = []
    failures: list[str] = []

    def rename_loop() -> None:
        fields = created.json()["fields"]
        try:
            for i in range(1, RENAMES + 1):
                if stop.is_set():
                    return
                fields = [dict(f, name=f"n{i}") if f["name"].startswith("n") else f for f in fields]
                response = renamer.patch("/api/collections/busy", headers=su, json={"fields": fields})
                if response.status_code != 200:
                    failures.append(response.text)
                    return
                fields = response.json()["fields"]
                renamed.append(i)
        finally:
            stop.set()

    thread = threading.Thread(target=rename_loop)
    thread.start()
    statuses: Counter[int | str] = Counter()
    deadline = time.monotonic() + 120
    try:
        _load(writer, stop, deadline, statuses)
    finally:
        stop.set()
        thread.join(timeout=60)
    ok_creates = statuses["created"]
    assert not failures, failures
    assert len(renamed) == RENAMES, "the renamer finished its loop"
    assert statuses[500] == 0, statuses
    assert ok_creates > 0, statuses
    # Exactly one hook run per stored record: a retried attempt never reached the hooks.
    stored = writer.get("/api/collections/busy/records?perPage=1").json()["totalItems"]
    assert stored == ok_creates + 1, (stored, ok_creates)
    assert calls["before"] == stored, (calls, stored)
    assert calls["commit"] == stored, (calls, stored)
    # Mismatches were rare (retries absorb them): nearly every request succeeded.
    requests = statuses[200] + statuses[503]
    assert statuses[503] <= max(3, requests // 20), statuses


def _load(writer, stop: threading.Event, deadline: float, statuses: Counter[int | str]) -> None:
    while not stop.is_set() and time.monotonic() < deadline:
        response = writer.post("/api/collections/busy/records", json={"keep": "x"})
        statuses[response.status_code] += 1
        assert response.status_code != 500, response.text
        if response.status_code == 200:
            statuses["created"] += 1
            assert response.json()["keep"] == "x"
        else:
            assert response.status_code == 503, response.text
            assert response.headers.get("retry-after"), "a 503 tells the client when to retry"
            assert set(response.json()) == {"data", "message", "status"}
        listed = writer.get("/api/collections/busy/records?perPage=1&skipTotal=1")
        statuses[listed.status_code] += 1
        assert listed.status_code in (200, 503), listed.text


def test_a_schema_changing_at_every_retry_answers_503_and_never_runs_a_hook(pair, monkeypatch):
    renamer, writer = pair
    su = superuser_headers(renamer)
    created = renamer.post(
        "/api/collections",
        headers=su,
        json={"name": "spin", "listRule": "", "createRule": "", "fields": [{"name": "n0", "type": "text"}]},
    )
    assert created.status_code == 200, created.text
    assert writer.get("/api/collections/spin/records").status_code == 200  # writer's cache is warm
    calls: Counter[str] = Counter()
    writer.runtime.hooks.on_record_create("spin")(lambda event: calls.update(["before"]))
    state = {"fields": created.json()["fields"], "i": 0}
    registry = writer.runtime.registry
    load = registry._load

    def rename() -> None:
        state["i"] += 1
        fields = [dict(f, name=f"n{state['i']}") if f["name"].startswith("n") else f for f in state["fields"]]
        state["fields"] = renamer.runtime.collections.update("spin", {"fields": fields}).to_json()["fields"]

    def load_then_rename() -> None:
        # Another process renames the field right after every reload of the writer.
        load()
        rename()

    rename()  # the writer's cache is stale: its request reloads, and meets the next rename
    monkeypatch.setattr(registry, "_load", load_then_rename)
    response = writer.post("/api/collections/spin/records", json={})
    monkeypatch.undo()
    assert response.status_code == 503, response.text
    assert response.headers.get("retry-after") == "1"
    assert set(response.json()) == {"data", "message", "status"}
    assert state["i"] >= 3, "the request was retried after a reload"
    assert calls["before"] == 0, "a stale schema is found before any hook runs"
    listed = renamer.get("/api/collections/spin/records").json()
    assert listed["totalItems"] == 0, "nothing was written"
