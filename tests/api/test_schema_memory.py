"""Schema changes must not grow memory: each reload replaces the pyDAL tables of the previous one.

Before the fix every schema change defined a fresh set of pyDAL tables on the shared builder and
never dropped the old ones (8 -> 416 table objects after 50 edits, ~130 KB per edit).
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from tests.support.doors import open_door
from tests.support.scenario import superuser_headers

EDITS = 200
#: The whole allowance for 200 schema changes after warm-up. Bounded caches (compiled rules and
#: filters, parsed definitions) may still be filling up during it, more so after other tests ran in
#: the same process (2.3 MB seen): the bound leaves room for them. Leaking one set of tables per
#: change costs ~130 KB each, i.e. ~26 MB over 200 changes; the table count below is exact.
GROWTH_BOUND = 6_000_000


def _rename(door: Any, su: dict[str, str], fields: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    renamed = [dict(f, name=f"v{i}") if f["name"].startswith("v") else f for f in fields]
    response = door.patch("/api/collections/leaky", headers=su, json={"fields": renamed})
    assert response.status_code == 200, response.text
    listed = door.get("/api/collections/leaky/records")  # makes the registry load the new schema
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0][f"v{i}"] == "kept"
    return response.json()["fields"]


def test_memory_stays_flat_over_200_schema_changes(make_settings):
    door = open_door("asgi", make_settings())
    try:
        su = superuser_headers(door)
        created = door.post(
            "/api/collections",
            headers=su,
            json={"name": "leaky", "listRule": "", "fields": [{"name": "v", "type": "text"}]},
        )
        assert created.status_code == 200, created.text
        fields = created.json()["fields"]
        assert door.post("/api/collections/leaky/records", headers=su, json={"v": "kept"}).status_code == 200
        dal = door.runtime.db.dal
        for i in range(20):  # warm-up: caches and interned strings reach their steady size
            fields = _rename(door, su, fields, i)
        gc.collect()
        tables_before = len(dal.tables)
        tracemalloc.start()
        try:
            start = tracemalloc.take_snapshot()
            for i in range(20, 20 + EDITS):
                fields = _rename(door, su, fields, i)
            gc.collect()
            end = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        growth = sum(stat.size_diff for stat in end.compare_to(start, "filename"))
        assert len(dal.tables) == tables_before, "every reload must release the previous tables"
        collections = len(door.runtime.registry.all())
        assert len(dal.tables) <= collections + 2, (len(dal.tables), collections)  # + the 2 internal
        assert growth < GROWTH_BOUND, f"memory grew by {growth} bytes over {EDITS} schema changes"
    finally:
        door.close()


def test_a_request_holding_the_old_schema_keeps_working_after_a_reload(make_settings):
    door = open_door("asgi", make_settings())
    try:
        su = superuser_headers(door)
        door.post("/api/collections", headers=su, json={"name": "inflight", "listRule": ""})
        door.post("/api/collections/inflight/records", headers=su, json={})
        runtime = door.runtime
        old = runtime.registry.get("inflight")  # what a request in flight holds
        assert door.patch("/api/collections/inflight", headers=su, json={"viewRule": ""}).status_code == 200
        runtime.registry.refresh(force=True)
        new = runtime.registry.get("inflight")
        assert new is not old and old.table._tablename not in runtime.db.dal.tables
        # The released table still builds and runs its statements (rules, filters, counts).
        from app.db.sql import count_sql, where

        rows = runtime.db.fetchall(where(old.table, old.id_column != "")._select(*old.all_columns))
        assert len(rows) == 1
        assert runtime.db.scalar(count_sql(old.table, old.id_column != "")) == 1
        assert runtime.db.fetchone(old.public.get_sql, (rows[0][0],)) is not None
    finally:
        door.close()
