"""Issue 8 finding 4 (AC-7 "max items enforced"): ``expand`` is bounded per response.

The attack: a guest lists a self-referencing multi-relation collection with
``expand=rel.rel.rel.rel.rel.rel&perPage=1000``. Every record repeats its whole subtree, so the
JSON grows as links**depth; unbounded, it grew a PostgreSQL-backed process to 10.4 GB. Now the
distinct records fetched for one response and the JSON bytes the expansion adds are capped
(``MAX_EXPAND_RECORDS``, ``MAX_EXPAND_BYTES`` in app/core/records/expand.py, docs/rules.md
"Limits"), past either a 400 in the error envelope, and the process's traced memory for the request
stays under the ceilings stated in docs/rules.md. Each bound is also checked at its edge (the
limit passes, one less is refused), through both doors on both databases.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import orjson
import pytest

from app.core.records import expand as expand_module
from app.core.rules.context import RequestInfo
from tests.support.doors import Door

SYSTEM = RequestInfo(context="system")
ENVELOPE_KEYS = {"data", "message", "status"}
NODES = 300
LINKS = 3  # node i links to nodes i-1, i-2, i-3
DEEP = ".".join(["rel"] * 6)
PAD = "p" * 100  # makes the five-level expansion about 29 MiB, near MAX_EXPAND_BYTES (32 MiB)
#: docs/rules.md "Limits": the most Python memory one request may allocate when its expansion is
#: refused, and when it returns an expansion near the 32 MiB bound
REFUSED_CEILING = 16 * 1024 * 1024
ALLOWED_CEILING = 128 * 1024 * 1024


class Graph:
    """``NODES`` records of ``nodes`` (guests may list and view), each linking to the ``LINKS``
    records made before it through the multi-relation ``rel``."""

    def __init__(self, door: Door):
        self.door = door
        door.runtime.collections.create(
            {
                "id": "pbc_2300000001",
                "name": "nodes",
                "listRule": "",
                "viewRule": "",
                "fields": [
                    {"name": "title", "type": "text"},
                    {"name": "pad", "type": "text"},
                    {"name": "rel", "type": "relation", "collectionId": "pbc_2300000001", "maxSelect": 99},
                ],
            }
        )
        self.ids: list[str] = []
        for index in range(NODES):
            rel = self.ids[-LINKS:][::-1]
            _, record = door.runtime.records.create(
                "nodes", {"title": f"n{index}", "pad": PAD, "rel": rel}, SYSTEM
            )
            self.ids.append(str(record["id"]))

    def list(self, **params: Any) -> Any:
        return self.door.get("/api/collections/nodes/records", params={"perPage": "1000", **params})


@pytest.fixture
def graph(api: Door) -> Graph:
    return Graph(api)


def traced(call: Any) -> tuple[Any, int]:
    """``call()`` and the peak of Python memory allocated while it ran."""
    tracemalloc.start()
    try:
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def assert_too_large(response: Any) -> None:
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status"] == 400
    assert "expand" in body["message"]


def expansion_bytes(record: dict[str, Any], jsonb: bool = False) -> int:
    """What the expand budget counts for a record of the response: each expanded record, every
    time it appears, at its own JSON size plus a fixed overhead. ``jsonb``: multi-relation values
    come out as PostgreSQL's jsonb text, which has a space after each comma."""
    total = 0
    for value in record.get("expand", {}).values():
        for child in value if isinstance(value, list) else [value]:
            own = {k: v for k, v in child.items() if k != "expand"}
            spaces = max(0, len(child["rel"]) - 1) if jsonb else 0
            total += len(orjson.dumps(own)) + spaces + expand_module._RECORD_OVERHEAD
            total += expansion_bytes(child, jsonb)
    return total


def distinct_per_level(records: list[dict[str, Any]], key: str) -> int:
    """Records one ``key.key...`` expansion fetches: each level's distinct ids, summed."""
    total, level = 0, records
    while True:
        children: dict[str, dict[str, Any]] = {}
        for record in level:
            value = record.get("expand", {}).get(key)
            for child in value if isinstance(value, list) else [value] if value else []:
                children[child["id"]] = child
        if not children:
            return total
        total += len(children)
        level = list(children.values())


def depth_of(record: dict[str, Any]) -> int:
    kids = record.get("expand", {}).get("rel") or []
    return 1 + max((depth_of(kid) for kid in kids), default=0) if kids else 0


def test_deep_self_expand_is_refused_within_memory_ceiling(graph):
    response, peak = traced(lambda: graph.list(expand=DEEP))
    assert_too_large(response)
    assert peak < REFUSED_CEILING, f"refused deep expand traced {peak / 2**20:.1f} MiB"
    # the same page without the expansion is served, and the server keeps answering
    plain = graph.list()
    assert plain.status_code == 200
    assert plain.json()["totalItems"] == NODES
    assert graph.door.get("/api/health").status_code == 200


def test_largest_allowed_expand_is_served_within_memory_ceiling(graph):
    response, peak = traced(lambda: graph.list(expand=".".join(["rel"] * 5)))
    assert response.status_code == 200, response.text[:300]
    items = response.json()["items"]
    assert len(items) == NODES
    last = next(item for item in items if item["id"] == graph.ids[-1])
    assert depth_of(last) == 5
    # every link is there at every level: 3 + 9 + 27 + 81 + 243 expanded records under the newest
    assert expansion_bytes(last) > (3 + 9 + 27 + 81 + 243) * len(PAD)
    total = sum(expansion_bytes(item) for item in items)
    assert 24 * 2**20 < total <= expand_module.MAX_EXPAND_BYTES
    assert peak < ALLOWED_CEILING, f"allowed expand traced {peak / 2**20:.1f} MiB"


def test_expand_bytes_limit_edge(graph, monkeypatch, backend):
    params = {"expand": "rel.rel.rel", "filter": f"id = '{graph.ids[-1]}'"}
    first = graph.list(**params)
    assert first.status_code == 200, first.text
    size = expansion_bytes(first.json()["items"][0], jsonb=backend == "postgres")
    assert size > 0
    monkeypatch.setattr(expand_module, "MAX_EXPAND_BYTES", size)
    at_limit = graph.list(**params)
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json() == first.json()
    monkeypatch.setattr(expand_module, "MAX_EXPAND_BYTES", size - 1)
    assert_too_large(graph.list(**params))
    # the single-record view has the same bound
    assert_too_large(graph.door.get(f"/api/collections/nodes/records/{graph.ids[-1]}", params=params))


def test_expand_records_limit_edge(graph, monkeypatch):
    params = {"expand": "rel.rel", "filter": f"id = '{graph.ids[-1]}' || id = '{graph.ids[100]}'"}
    first = graph.list(**params)
    assert first.status_code == 200, first.text
    fetched = distinct_per_level(first.json()["items"], "rel")
    assert fetched == 3 + 5 + 3 + 5  # n299 -> n298..n296 -> n297..n293; n100 likewise
    monkeypatch.setattr(expand_module, "MAX_EXPAND_RECORDS", fetched)
    at_limit = graph.list(**params)
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json() == first.json()
    monkeypatch.setattr(expand_module, "MAX_EXPAND_RECORDS", fetched - 1)
    assert_too_large(graph.list(**params))


def test_back_relation_expand_counts_against_the_records_limit(graph, monkeypatch):
    # every node but the last three is linked from exactly three newer nodes
    params = {"expand": "nodes_via_rel", "filter": f"id = '{graph.ids[10]}' || id = '{graph.ids[20]}'"}
    first = graph.list(**params)
    assert first.status_code == 200, first.text
    linked = {
        item["id"]: sorted(child["title"] for child in item["expand"]["nodes_via_rel"])
        for item in first.json()["items"]
    }
    assert linked == {graph.ids[10]: ["n11", "n12", "n13"], graph.ids[20]: ["n21", "n22", "n23"]}
    monkeypatch.setattr(expand_module, "MAX_EXPAND_RECORDS", 6)
    assert graph.list(**params).json() == first.json()
    monkeypatch.setattr(expand_module, "MAX_EXPAND_RECORDS", 5)
    assert_too_large(graph.list(**params))


def test_projection_of_a_deep_expand_keeps_the_repeated_records(graph):
    fields = "id,expand.rel.id,expand.rel.expand.rel.title"
    response = graph.list(expand="rel.rel", fields=fields, filter=f"id = '{graph.ids[-1]}'")
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert [child["id"] for child in item["expand"]["rel"]] == graph.ids[-2:-5:-1]
    grandchildren = [[g["title"] for g in child["expand"]["rel"]] for child in item["expand"]["rel"]]
    assert grandchildren == [["n297", "n296", "n295"], ["n296", "n295", "n294"], ["n295", "n294", "n293"]]
    assert all(set(child) == {"id", "expand"} for child in item["expand"]["rel"])
