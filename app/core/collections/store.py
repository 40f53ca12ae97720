"""The collections service: create, update, delete, truncate and import definitions.

Every change validates the definition, runs its DDL, writes ``_collections`` and bumps the schema
version in one transaction (PostgreSQL and SQLite both roll DDL back), then drops this process's
cached schema so the next lookup reloads it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ...db import Database
from ...db.sql import where
from ...tools.datetimes import now
from ..errors import BadRequest, NotFound
from ..events import collection_change
from . import ddl
from .model import Collection, collection_from_json
from .names import conflict_data, conflict_name
from .registry import Registry
from .system import ensure_system_fields
from .tables import bump_version, definition_text, insert_collection
from .validate import validate_collection


class CollectionStore:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        rule_checker: Callable[[Collection], dict[str, Any]] | None = None,
    ):
        self.db = db
        self.registry = registry
        #: validates a definition's rule expressions; returns errors keyed by rule name
        self.rule_checker = rule_checker
        #: deletes a collection's records for ``truncate`` through the records layer (hooks,
        #: relation cascades, one change per record); set by the composition root. Without it,
        #: truncate empties the table directly.
        self.truncate_records: Callable[[Collection, Any], None] | None = None
        #: called with (old name, new name) inside the transaction that renames a collection, so
        #: settings that name it (rate-limit labels) follow; set by the composition root.
        self.on_renamed: Callable[[str, str], None] | None = None

    # -- reads ------------------------------------------------------------------------------

    def get(self, key: str) -> Collection:
        compiled = self.registry.get_after_miss(key)
        if compiled is None:
            raise NotFound()
        return compiled.collection

    def all(self) -> list[Collection]:
        return [c.collection for c in self.registry.all()]

    # -- writes -----------------------------------------------------------------------------

    def create(self, data: dict[str, Any]) -> Collection:
        if not isinstance(data, dict):
            raise BadRequest("Failed to load the submitted data due to invalid formatting.")
        self.registry.refresh(force=True)
        collection = collection_from_json(data)
        if collection.type == "auth":
            from .auth_options import merge_auth_options

            collection.options = merge_auth_options(None, collection.options)
        collection.system = False
        ensure_system_fields(collection)
        validate_collection(collection, None, self.registry.collection, self.all())
        self._check_rules(collection, "Failed to create collection.")
        with (
            _name_conflicts("Failed to create collection.", collection),
            self.db.transaction(schema_change=True) as tx,
        ):
            insert_collection(tx, self.db.dialect, self.registry.internal, collection)
            bump_version(tx, self.registry.internal)
        self.registry.invalidate()
        return collection

    def update(self, key: str, data: dict[str, Any]) -> Collection:
        if not isinstance(data, dict):
            raise BadRequest("Failed to load the submitted data due to invalid formatting.")
        self.registry.refresh(force=True)
        original = self.get(key)
        updated = merge_update(original, data)
        validate_collection(updated, original, self.registry.collection, self.all())
        self._check_rules(updated, "Failed to update collection.")
        updated.updated = now()
        with (
            _name_conflicts("Failed to update collection.", updated),
            self.db.transaction(schema_change=True) as tx,
        ):
            for statement in ddl.alter_table(original, updated, self.db.dialect):
                tx.execute(statement)
            self._write_definition(tx, updated)
            if self.on_renamed is not None and original.name != updated.name:
                self.on_renamed(original.name, updated.name)  # joins this transaction
            bump_version(tx, self.registry.internal)
            tx.changes.append(collection_change("update", original.to_json(), updated.to_json()))
        self.registry.invalidate()
        return updated

    def delete(self, key: str) -> None:
        self.registry.refresh(force=True)
        collection = self.get(key)
        if collection.system:
            raise BadRequest(
                "Failed to delete collection.", {"system": _error("System collections can't be deleted.")}
            )
        dependants = [c.name for c, _ in self.registry.references_to(collection.id) if c.id != collection.id]
        if dependants:
            raise BadRequest(
                "Failed to delete collection due to existing dependency.",
                {"collection": _error(f"The collection is referenced by: {', '.join(dependants)}.")},
            )
        table = self.registry.internal.collections
        with self.db.transaction(schema_change=True) as tx:
            for statement in ddl.drop_indexes(collection) + ddl.drop_table(collection):
                tx.execute(statement)
            tx.execute(where(table, table.id == collection.id)._delete())
            bump_version(tx, self.registry.internal)
            tx.changes.append(collection_change("delete", collection.to_json(), None))
        self.registry.invalidate()

    def truncate(self, key: str, auth: Any = None) -> None:
        """Delete every record of a collection; ``auth`` (who asked) goes into the changes."""
        collection = self.get(key)
        if self.truncate_records is not None:
            self.truncate_records(collection, auth)
            return
        with self.db.transaction(schema_change=True) as tx:
            for statement in ddl.truncate_table(collection):
                tx.execute(statement)

    def import_(self, items: Any, delete_missing: bool = False) -> None:
        """Create or update every submitted collection in one transaction (PUT /api/collections/import)."""
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise BadRequest(
                "Failed to import collections.", {"collections": _error("Must be a list of objects.")}
            )
        self.registry.refresh(force=True)
        current = {c.id: c for c in self.all()}
        by_name = {c.name.lower(): c for c in current.values()}
        planned: list[tuple[Collection | None, Collection]] = []
        for position, data in enumerate(items):
            key_id, key_name = str(data.get("id") or ""), str(data.get("name") or "").lower()
            original = current.get(key_id) or (by_name.get(key_name) if not key_id else None)
            try:
                if original is None:
                    candidate = collection_from_json(data)
                    ensure_system_fields(candidate)
                    planned.append((None, candidate))
                else:
                    planned.append((original, merge_update(original, data)))
            except BadRequest as exc:
                raise BadRequest(
                    "Failed to import collections.", {"collections": {str(position): exc.data}}
                ) from None
        imported_ids = {new.id for _, new in planned}
        removed = [
            c for c in current.values() if delete_missing and c.id not in imported_ids and not c.system
        ]
        final = [new for _, new in planned] + [
            c for c in current.values() if c.id not in imported_ids and c not in removed
        ]
        lookup = {c.id: c for c in final}
        for position, (original, new) in enumerate(planned):
            others = [c for c in final if c is not new]
            try:
                validate_collection(new, original, lookup.get, others)
            except BadRequest as exc:
                raise BadRequest(
                    "Failed to import collections.", {"collections": {str(position): exc.data}}
                ) from None
        with (
            _name_conflicts("Failed to import collections.", None),
            self.db.transaction(schema_change=True) as tx,
        ):
            for original, new in planned:
                if original is None:
                    insert_collection(tx, self.db.dialect, self.registry.internal, new)
                else:
                    new.updated = now()
                    for statement in ddl.alter_table(original, new, self.db.dialect):
                        tx.execute(statement)
                    self._write_definition(tx, new)
                    tx.changes.append(collection_change("update", original.to_json(), new.to_json()))
            table = self.registry.internal.collections
            for collection in removed:
                for statement in ddl.drop_indexes(collection) + ddl.drop_table(collection):
                    tx.execute(statement)
                tx.execute(where(table, table.id == collection.id)._delete())
                tx.changes.append(collection_change("delete", collection.to_json(), None))
            bump_version(tx, self.registry.internal)
        self.registry.invalidate()

    def _check_rules(self, collection: Collection, message: str) -> None:
        if self.rule_checker is None:
            return
        errors = self.rule_checker(collection)
        if errors:
            raise BadRequest(message, errors)

    def _write_definition(self, tx: Any, collection: Collection) -> None:
        table = self.registry.internal.collections
        tx.execute(
            where(table, table.id == collection.id)._update(
                name=collection.name,
                type=collection.type,
                definition=definition_text(collection),
                updated=collection.updated,
            )
        )


def merge_update(original: Collection, data: dict[str, Any]) -> Collection:
    """PocketBase's PATCH semantics: submitted keys replace the stored ones, auth options merge."""
    merged = original.to_json()
    merged.update(original.options)
    for key, value in data.items():
        if key in ("created", "updated", "system"):
            continue
        merged[key] = copy.deepcopy(value)
    if "fields" in data and isinstance(data["fields"], list):
        by_name = {f.name.lower(): f.id for f in original.fields}
        for item in merged["fields"]:
            if isinstance(item, dict) and not item.get("id") and str(item.get("name", "")).lower() in by_name:
                item["id"] = by_name[str(item["name"]).lower()]
    updated = collection_from_json(merged)
    updated.system = original.system
    updated.created = original.created
    if original.is_auth:
        from .auth_options import merge_auth_options

        updated.options = merge_auth_options(original.options, {k: v for k, v in data.items()})
    return updated


@contextmanager
def _name_conflicts(message: str, collection: Collection | None) -> Iterator[None]:
    """Turn the engine's "name already taken" error into a 400 (the transaction is rolled back).

    The validation catches the collisions the definitions show; this covers names an engine keeps
    on its own (PostgreSQL does not rename a table's ``_pkey``/``_seq`` with the table)."""
    try:
        yield
    except Exception as exc:
        name = conflict_name(exc)
        if name is None:
            raise
        if collection is None:
            data = {"collections": _error(f"The name {name!r} is already used by another database object.")}
        else:
            data = conflict_data(name, collection)
        raise BadRequest(message, data) from None


def _error(message: str) -> dict[str, Any]:
    return {"code": "validation_invalid_value", "message": message}
