"""The ``expand`` query parameter: relations and back-relations, up to 6 levels, one query per level,
within a per-response budget.

``expand=author,comments_via_post.author`` loads, for all records of a page at once, the ``author``
records (one ``WHERE id IN (...)`` query), the ``comments`` whose ``post`` points at any of them
(one query), then those comments' authors (one more query). Every expanded record must pass its own
collection's view rule for the caller (``Access.expand_query``); records that fail it are left out
silently, never reported as errors. A relation is followed only where the caller may read it: a
relation field dropped from a record by its read rule expands nothing, and a back-relation leaves
out the related records whose linking field the caller may not read.

Bounds (docs/rules.md, "Limits"): each level fetches every id once and parents share the fetched
record's dict, so memory grows with the distinct records fetched, at most ``MAX_EXPAND_RECORDS``
for one response over all levels and paths. The JSON an expansion adds can still grow
exponentially with depth (every record of a self-referencing multi-relation repeats its whole
subtree), so its size is counted from the shared records (each record's own JSON size times the
number of times it appears), level by level before the next is fetched and before anything is
serialized, and capped at ``MAX_EXPAND_BYTES``. Past either bound the request is a 400 in the error envelope;
PocketBase has no such bound (it serializes whatever the tree becomes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ...db.sql import json_array_has_any, where
from ..errors import BadRequest
from .guards import drop_guarded, guard_flags
from .visibility import hide_private_fields

if TYPE_CHECKING:
    from ..collections.compiled import CompiledCollection, View
    from .reader import RecordReader


MAX_DEPTH = 6
MAX_EXPAND_LENGTH = 1000
MAX_BACK_RELATIONS = 1000
#: distinct records one response may fetch for ``expand``, all levels and paths together
MAX_EXPAND_RECORDS = 20_000
#: JSON bytes the expanded records may add to one response (each repetition counted)
MAX_EXPAND_BYTES = 32 * 1024 * 1024
# ``,"expand":{}`` and the separators around a record, on top of its own JSON
_RECORD_OVERHEAD = 16
TOO_LARGE = (
    "The expand result is too large: reduce perPage, the expand depth or the number of expanded relations."
)


@dataclass
class Item:
    """One record being presented: its JSON object, its relation ids by field name, its own JSON
    size (expanded records only) and how many times it appears in the response."""

    wire: dict[str, Any]
    rel: dict[str, list[str]] = field(default_factory=dict)
    size: int = 0
    count: int = 1


# The children each parent gets for one expand key, as (parent, children) pairs.
Links = list[tuple[Item, list[Item]]]


@dataclass
class Budget:
    """What is left of one response's expand bounds."""

    records: int = field(default_factory=lambda: MAX_EXPAND_RECORDS)
    bytes: int = field(default_factory=lambda: MAX_EXPAND_BYTES)

    def take(self, count: int) -> None:
        if count > self.records:
            raise BadRequest(TOO_LARGE, detail=f"expand fetches more than {MAX_EXPAND_RECORDS} records")
        self.records -= count

    def add(self, links: Links) -> None:
        """Count the records just linked to their parents: each appears once per appearance of
        each parent that points at it, and is serialized that many times."""
        for parent, kids in links:
            for kid in kids:
                kid.count += parent.count
        children = {id(kid): kid for _, kids in links for kid in kids}
        self.bytes -= sum(kid.count * kid.size for kid in children.values())
        if self.bytes < 0:
            raise BadRequest(TOO_LARGE, detail=f"expand adds more than {MAX_EXPAND_BYTES} bytes")


def parse_expand(raw: str) -> dict[str, Any]:
    if not raw or not raw.strip():
        return {}
    if len(raw) > MAX_EXPAND_LENGTH:
        raise BadRequest(detail="The expand parameter is too long.")
    tree: dict[str, Any] = {}
    for path in raw.split(","):
        parts = [p.strip() for p in path.strip().split(".") if p.strip()]
        node = tree
        for part in parts[:MAX_DEPTH]:
            node = node.setdefault(part, {})
    return tree


def relation_values(
    view: View, row: tuple[Any, ...], shown: dict[str, Any] | None = None
) -> dict[str, list[str]]:
    """Relation ids of a row of ``view.columns``; with ``shown`` (the record's JSON after read
    rules), only of the relation fields it still holds."""
    out: dict[str, list[str]] = {}
    for index, f in view.relation_indexes:
        if shown is not None and f.name not in shown:
            continue
        value = row[index]
        if f.is_multiple:
            out[f.name] = orjson.loads(value) if value else []
        else:
            out[f.name] = [value] if value else []
    return out


def expand_items(
    service: RecordReader,
    compiled: CompiledCollection,
    items: list[Item],
    tree: dict[str, Any],
    info: Any,
) -> None:
    """Expand ``tree`` on the page's ``items`` in place; a 400 when the result would be too large."""
    _expand_level(service, compiled, items, tree, info, 1, Budget())


def _expand_level(
    service: RecordReader,
    compiled: CompiledCollection,
    items: list[Item],
    tree: dict[str, Any],
    info: Any,
    depth: int,
    budget: Budget,
) -> None:
    for item in items:
        item.wire.setdefault("expand", {})
    if not items or depth > MAX_DEPTH:
        return
    for key, subtree in tree.items():
        if "_via_" in key:
            found = _expand_back(service, compiled, items, key, info, budget)
        else:
            found = _expand_forward(service, compiled, items, key, info, budget)
        if found is None:
            continue
        target, children, links = found
        # Counted level by level, top down, so an oversized expansion stops before the deeper
        # levels are fetched.
        budget.add(links)
        if subtree:
            _expand_level(service, target, [c for c in children if c.count], subtree, info, depth + 1, budget)


def _fetch(
    service: RecordReader,
    target: CompiledCollection,
    query: Any,
    info: Any,
    budget: Budget,
    limit: int | None = None,
) -> list[Item]:
    rule = service.access.expand_query(target, info)
    if rule is False:
        return []
    if rule is not None:
        query = query & rule
    guards = service.access.read_guards(target, info)
    view = target.view(info.is_superuser)
    # One row past what the budget allows is enough to know it is exceeded.
    cap = budget.records + 1 if limit is None else min(limit, budget.records + 1)
    sql = where(target.table, query)._select(
        *view.columns,
        *guard_flags(target, guards),
        orderby=target.rowid,
        limitby=(0, cap),
    )
    rows = service.db.fetchall(sql)
    budget.take(len(rows))
    items = []
    for row in rows:
        wire = view.row_to_wire(row)
        if guards:
            drop_guarded(view, [wire], [row], guards)
        hide_private_fields(target, wire, info)
        size = len(orjson.dumps(wire)) + _RECORD_OVERHEAD
        items.append(Item(wire, relation_values(view, row, wire if guards else None), size, count=0))
    return items


def _expand_forward(
    service: RecordReader,
    compiled: CompiledCollection,
    items: list[Item],
    key: str,
    info: Any,
    budget: Budget,
) -> tuple[CompiledCollection, list[Item], Links] | None:
    field_def = compiled.fields.get(key)
    if field_def is None or field_def.type != "relation" or field_def.hidden:
        return None
    target = service.registry.get(field_def.opt("collectionId"))
    if target is None:
        return None
    ids = list(dict.fromkeys(i for item in items for i in item.rel.get(key, [])))
    if not ids:
        return target, [], []
    # Each id names at most one record: more ids than the budget cannot fit (and would only
    # make an oversized IN list).
    if len(ids) > budget.records:
        budget.take(len(ids))
    fetched = {
        item.wire["id"]: item for item in _fetch(service, target, target.id_column.belongs(ids), info, budget)
    }
    links: Links = []
    for item in items:
        found = [fetched[i] for i in item.rel.get(key, []) if i in fetched]
        if not found:
            continue
        if field_def.is_multiple:
            item.wire["expand"][key] = [child.wire for child in found]
        else:
            found = found[:1]
            item.wire["expand"][key] = found[0].wire
        links.append((item, found))
    return target, list(fetched.values()), links


def _expand_back(
    service: RecordReader,
    compiled: CompiledCollection,
    items: list[Item],
    key: str,
    info: Any,
    budget: Budget,
) -> tuple[CompiledCollection, list[Item], Links] | None:
    target_name, _, field_name = key.partition("_via_")
    target = service.registry.get(target_name)
    if target is None:
        return None
    field_def = target.fields.get(field_name)
    if field_def is None or field_def.type != "relation" or field_def.opt("collectionId") != compiled.id:
        return None
    if field_def.hidden:
        return None
    parent_ids = [item.wire["id"] for item in items]
    column = target.columns[field_name]
    if field_def.is_multiple:
        query = json_array_has_any(target.table._db, column, parent_ids)
    else:
        query = column.belongs(parent_ids)
    children = _fetch(service, target, query, info, budget, limit=MAX_BACK_RELATIONS * max(1, len(items)))
    by_parent: dict[str, list[Item]] = {}
    for child in children:
        for parent_id in child.rel.get(field_name, []):
            bucket = by_parent.setdefault(parent_id, [])
            if len(bucket) < MAX_BACK_RELATIONS:
                bucket.append(child)
    links: Links = []
    for item in items:
        found = by_parent.get(item.wire["id"])
        if found:
            item.wire["expand"][key] = [child.wire for child in found]
            links.append((item, found))
    return target, children, links
