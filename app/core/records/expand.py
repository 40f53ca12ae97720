"""The ``expand`` query parameter: relations and back-relations, up to 6 levels, one query per level.

``expand=author,comments_via_post.author`` loads, for all records of a page at once, the ``author``
records (one ``WHERE id IN (...)`` query), the ``comments`` whose ``post`` points at any of them
(one query), then those comments' authors (one more query). Every expanded record must pass its own
collection's view rule for the caller (``Access.expand_query``); records that fail it are left out
silently, never reported as errors. A relation is followed only where the caller may read it: a
relation field dropped from a record by its read rule expands nothing, and a back-relation leaves
out the related records whose linking field the caller may not read.
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
    from .service import RecordService


MAX_DEPTH = 6
MAX_EXPAND_LENGTH = 1000
MAX_BACK_RELATIONS = 1000


@dataclass
class Item:
    """One record being presented: its JSON object and its relation ids by field name."""

    wire: dict[str, Any]
    rel: dict[str, list[str]] = field(default_factory=dict)


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
    service: RecordService,
    compiled: CompiledCollection,
    items: list[Item],
    tree: dict[str, Any],
    info: Any,
    depth: int = 1,
) -> None:
    for item in items:
        item.wire.setdefault("expand", {})
    if not items or depth > MAX_DEPTH:
        return
    for key, subtree in tree.items():
        if "_via_" in key:
            children = _expand_back(service, compiled, items, key, info)
        else:
            children = _expand_forward(service, compiled, items, key, info)
        if children is not None and subtree:
            target, child_items = children
            expand_items(service, target, child_items, subtree, info, depth + 1)


def _fetch(
    service: RecordService, target: CompiledCollection, query: Any, info: Any, limit: int | None = None
) -> list[Item]:
    rule = service.access.expand_query(target, info)
    if rule is False:
        return []
    if rule is not None:
        query = query & rule
    guards = service.access.read_guards(target, info)
    view = target.view(info.is_superuser)
    sql = where(target.table, query)._select(
        *view.columns,
        *guard_flags(target, guards),
        orderby=target.rowid,
        limitby=(0, limit) if limit else None,
    )
    items = []
    for row in service.db.fetchall(sql):
        wire = view.row_to_wire(row)
        if guards:
            drop_guarded(view, [wire], [row], guards)
        hide_private_fields(target, wire, info)
        items.append(Item(wire, relation_values(view, row, wire if guards else None)))
    return items


def _expand_forward(
    service: RecordService, compiled: CompiledCollection, items: list[Item], key: str, info: Any
) -> tuple[CompiledCollection, list[Item]] | None:
    field_def = compiled.fields.get(key)
    if field_def is None or field_def.type != "relation" or field_def.hidden:
        return None
    target = service.registry.get(field_def.opt("collectionId"))
    if target is None:
        return None
    ids = list(dict.fromkeys(i for item in items for i in item.rel.get(key, [])))
    if not ids:
        return target, []
    fetched = {item.wire["id"]: item for item in _fetch(service, target, target.id_column.belongs(ids), info)}
    for item in items:
        found = [fetched[i].wire for i in item.rel.get(key, []) if i in fetched]
        if not found:
            continue
        item.wire["expand"][key] = found if field_def.is_multiple else found[0]
    return target, list(fetched.values())


def _expand_back(
    service: RecordService, compiled: CompiledCollection, items: list[Item], key: str, info: Any
) -> tuple[CompiledCollection, list[Item]] | None:
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
    children = _fetch(service, target, query, info, limit=MAX_BACK_RELATIONS * max(1, len(items)))
    by_parent: dict[str, list[dict[str, Any]]] = {}
    for child in children:
        for parent_id in child.rel.get(field_name, []):
            bucket = by_parent.setdefault(parent_id, [])
            if len(bucket) < MAX_BACK_RELATIONS:
                bucket.append(child.wire)
    for item in items:
        found = by_parent.get(item.wire["id"])
        if found:
            item.wire["expand"][key] = found
    return target, children
