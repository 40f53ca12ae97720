"""Syncing code-first collections into the database: create the new ones, update the changed ones.

The models are the source of truth for what they declare: name, declared fields, rules and
indexes. Sync only adds and updates: collections, fields and indexes that are no longer declared
(or were added from the dashboard) stay, so a sync never drops a column with its data. A
collection that already exists under the model's table name (made through the API, or the built-in
``users``) is taken over with its id. Unchanged collections are left alone (no DDL, no schema
version bump), so syncing at every start is cheap.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadRequest
from .auth_options import AUTH_OPTION_KEYS, merge_auth_options
from .codefirst import CodeCollection, CodeFirstError
from .indexes import IndexError_, parse_index
from .model import Collection
from .store import CollectionStore, merge_update

_AUTODATES = ("created", "updated")


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def plan_sync(
    code: list[CodeCollection], existing: list[Collection]
) -> tuple[list[dict[str, Any]], SyncResult]:
    """The items for ``CollectionStore.import_`` (new and changed collections only), and a summary."""
    by_id = {c.id: c for c in existing}
    by_name = {c.name.lower(): c for c in existing}
    ids: dict[str, str] = {}
    for item in code:
        current = by_id.get(item.id) or by_name.get(item.name.lower())
        ids[item.id] = current.id if current is not None else item.id
    result = SyncResult()
    items: list[dict[str, Any]] = []
    for item in code:
        data = copy.deepcopy(item.definition)
        data["id"] = ids[item.id]
        for spec in data["fields"]:
            if spec.get("type") == "relation":
                spec["collectionId"] = ids.get(spec["collectionId"], spec["collectionId"])
        current = by_id.get(data["id"])
        if current is None:
            if item.type == "auth":
                data.update(
                    merge_auth_options(None, {k: data.pop(k) for k in list(data) if k in AUTH_OPTION_KEYS})
                )
            items.append(data)
            result.created.append(item.name)
            continue
        data = _over(current, data)
        if _same(current, data):
            result.unchanged.append(item.name)
        else:
            items.append(data)
            result.updated.append(item.name)
    return items, result


def sync_collections(store: CollectionStore, code: list[CodeCollection]) -> SyncResult:
    """Create or update the collections of ``code`` in one transaction (relations resolved together)."""
    items, result = plan_sync(code, store.all())
    if not items:
        return result
    try:
        store.import_(items, delete_missing=False)
    except BadRequest as exc:
        problems = (exc.data.get("collections") or {}) if isinstance(exc.data, dict) else {}
        details = []
        for position, data in problems.items() if isinstance(problems, dict) else []:
            name = (
                items[int(position)]["name"]
                if str(position).isdigit() and int(position) < len(items)
                else position
            )
            details.append(f"{name}: {_describe(data)}")
        raise CodeFirstError(f"{exc.message} " + "; ".join(details or [_describe(exc.data)])) from None
    return result


def _over(current: Collection, data: dict[str, Any]) -> dict[str, Any]:
    """The code's definition laid over the stored one: field ids kept, undeclared fields/indexes kept."""
    declared = {str(spec["name"]).lower() for spec in data["fields"]}
    stored_ids = {f.name.lower(): f.id for f in current.fields}
    specs = [{**spec, "id": stored_ids.get(str(spec["name"]).lower(), spec["id"])} for spec in data["fields"]]
    own = [spec for spec in specs if spec["name"] not in _AUTODATES]
    system = [f.to_json() for f in current.fields if f.system and f.name.lower() not in declared]
    kept = [f.to_json() for f in current.fields if not f.system and f.name.lower() not in declared]
    data["fields"] = system + own + kept + [spec for spec in specs if spec["name"] in _AUTODATES]
    names = {_index_name(text) for text in data["indexes"]}
    data["indexes"] = list(data["indexes"]) + [
        text for text in current.indexes if _index_name(text) not in names
    ]
    return data


def _same(current: Collection, data: dict[str, Any]) -> bool:
    merged = merge_update(current, data).to_json()
    stored = current.to_json()
    for key in ("created", "updated"):
        merged.pop(key, None)
        stored.pop(key, None)
    return merged == stored


def _index_name(text: str) -> str:
    try:
        return parse_index(text).name.lower()
    except IndexError_:
        return text


def _describe(data: Any) -> str:
    """A validation error tree as ``path: message`` text."""
    if isinstance(data, dict):
        if "message" in data and isinstance(data["message"], str):
            return data["message"]
        return ", ".join(f"{key}: {_describe(value)}" for key, value in data.items())
    return str(data)
