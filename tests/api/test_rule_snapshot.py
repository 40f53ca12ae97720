"""Rules evaluated on a row snapshot (``app.core.rules.snapshot``) agree with the live row.

Every filter of the golden table (``tests/api/golden``) that PocketBase answers with 200 is
compiled once, then evaluated twice for each post of the golden dataset: on the live row, and on
a snapshot of its values as a delete event would carry them (``RecordChange.before``). Both must
give the same answer, on SQLite and PostgreSQL — filters on the record's own fields and filters
through relations, back-relations and ``@collection`` (those resolve against the live related rows).
Then the snapshot of a deleted record still answers for its view rule after the delete committed.
"""

from __future__ import annotations

from typing import Any

from app.core.rules.context import AuthState, RequestInfo
from app.core.rules.snapshot import allowed_on_snapshot, snapshot_matches
from app.db.sql import where
from tests.api.test_filter_golden import EMAIL, GOLDEN, KNOWN_DIFFERENCES, loaded  # noqa: F401

SYSTEM = RequestInfo(context="system")


def _rows(runtime: Any, compiled: Any) -> list[dict[str, Any]]:
    rows = runtime.db.fetchall(where(compiled.table)._select(*compiled.all_columns))
    return [compiled.row_to_python(row, compiled.collection.fields) for row in rows]


def test_snapshot_evaluation_agrees_with_the_live_row_on_every_golden_filter(loaded):  # noqa: F811
    backend, door, _ = loaded
    runtime = door.runtime
    posts = runtime.records.collection("posts")
    records = _rows(runtime, posts)
    assert len(records) >= 10
    superusers = runtime.records.collection("_superusers")
    golden = next(r for r in _rows(runtime, superusers) if r["email"] == EMAIL)
    info = RequestInfo(auth=AuthState(superusers, golden))  # who the golden answers were asked by
    checked, disagreements = 0, []
    for case in GOLDEN["cases"]:
        backends, _ = KNOWN_DIFFERENCES.get(case["filter"], ((), ""))
        if (
            case["status"] != 200
            or backend in backends
            or (backend == "postgres" and "strftime" in case["filter"])
        ):
            continue
        query = runtime.rules.client_filter(posts, case["filter"], info)
        live = {row[0] for row in runtime.db.fetchall(where(posts.table, query)._select(posts.id_column))}
        if "@request." not in case["filter"].replace("@request.auth", ""):  # the rest read the request
            assert sorted(live) == case["ids"], f"live evaluation differs from PocketBase: {case['filter']}"
        for record in records:
            checked += 1
            if snapshot_matches(runtime.db, posts, record, query) != (record["id"] in live):
                disagreements.append((case["filter"], record["id"]))
    assert checked > 5000
    assert disagreements == [], "\n".join(f"{f!r} {i}" for f, i in disagreements)


def test_a_deleted_records_view_rule_is_checked_on_its_snapshot_after_commit(loaded):  # noqa: F811
    _, door, headers = loaded
    runtime = door.runtime
    body = {
        "name": "memos",
        "viewRule": "owner = @request.auth.id && (public = true || views > 10)",
        "fields": [
            {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_"},
            {"name": "public", "type": "bool"},
            {"name": "views", "type": "number"},
        ],
    }
    assert door.post("/api/collections", json=body, headers=headers).status_code == 200
    users = _rows(runtime, runtime.records.collection("users"))[:2]
    owner, other = (RequestInfo(auth=_auth(runtime, u)) for u in users)
    memos = runtime.records.collection("memos")
    kept: list[Any] = []
    runtime.change_sink.subscribe(kept.extend)
    cases = [({"public": True, "views": 0}, True), ({"public": False, "views": 11}, True),
             ({"public": False, "views": 3}, False)]  # fmt: skip
    for values, visible in cases:
        _, memo = runtime.records.create("memos", {"owner": users[0]["id"], **values}, SYSTEM)
        runtime.records.delete("memos", memo["id"], SYSTEM)
        deleted = [c for c in kept if c.action == "delete" and c.record_id == memo["id"]]
        assert len(deleted) == 1
        assert (
            runtime.db.fetchone(where(memos.table, memos.id_column == memo["id"])._select(memos.id_column))
            is None
        )
        snapshot = deleted[0].before
        assert allowed_on_snapshot(runtime.access, runtime.db, memos, "viewRule", owner, snapshot) is visible
        assert allowed_on_snapshot(runtime.access, runtime.db, memos, "viewRule", other, snapshot) is False
        assert allowed_on_snapshot(runtime.access, runtime.db, memos, "viewRule", SYSTEM, snapshot) is True


def _auth(runtime: Any, record: dict[str, Any]) -> Any:
    return AuthState(runtime.records.collection("users"), record)


def test_open_and_locked_rules_on_a_snapshot(loaded):  # noqa: F811
    _, door, headers = loaded
    runtime = door.runtime
    body = {"name": "flyers", "viewRule": "", "fields": [{"name": "text", "type": "text"}]}
    assert door.post("/api/collections", json=body, headers=headers).status_code == 200
    guest = RequestInfo()
    snapshot = {"id": "f00000000000001", "text": "gone"}
    flyers = runtime.records.collection("flyers")
    assert allowed_on_snapshot(runtime.access, runtime.db, flyers, "viewRule", guest, snapshot) is True
    assert door.patch("/api/collections/flyers", json={"viewRule": None}, headers=headers).status_code == 200
    flyers = runtime.records.collection("flyers")
    assert allowed_on_snapshot(runtime.access, runtime.db, flyers, "viewRule", guest, snapshot) is False
    assert allowed_on_snapshot(runtime.access, runtime.db, flyers, "viewRule", SYSTEM, snapshot) is True
