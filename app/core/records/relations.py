"""Relations around writes: existence checks for submitted ids, and what a delete does to records
that point at the deleted one (PocketBase's rules).

On delete, every relation field referencing the record's collection is visited: the id is removed
from the referencing value; a referencing record left with no ids is deleted when the field has
``cascadeDelete``, refused (400) when the field is required, and saved otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...db.sql import json_array_has_any, where
from ..errors import BadRequest, field_error
from ..events import record_change
from ..rules.context import RequestInfo

if TYPE_CHECKING:
    from ..collections.compiled import CompiledCollection
    from .writer import RecordWriter

MISSING_RECORDS = field_error(
    "validation_missing_rel_records", "Failed to find all relation records with the provided ids."
)
MISSING_COLLECTION = field_error(
    "validation_missing_rel_collection", "Relation connection is missing or cannot be accessed."
)
REQUIRED_REFERENCE = (
    "Failed to delete record. Make sure that the record is not part of a required relation reference."
)
BATCH_SIZE = 4000
MAX_CASCADE_DEPTH = 16


def missing_relations(
    service: RecordWriter, compiled: CompiledCollection, record: dict[str, Any], fields: list[Any]
) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    for field in fields:
        if field.type != "relation":
            continue
        value = record.get(field.name)
        ids = value if isinstance(value, list) else ([value] if value else [])
        if not ids:
            continue
        target_id = field.opt("collectionId")
        target = compiled if target_id == compiled.id else service.registry.get(target_id)
        if target is None:
            errors[field.name] = MISSING_COLLECTION
            continue
        unique = list(dict.fromkeys(str(i) for i in ids))
        if len(unique) == 1:  # the common case: one related record, by the prepared statement
            found = {row[0] for row in service.db.fetchall(target.exists_sql, unique)}
        else:
            query = target.id_column.belongs(unique)
            found = {
                row[0] for row in service.db.fetchall(where(target.table, query)._select(target.id_column))
            }
        if target is compiled and record.get("id") in ids:
            found.add(record["id"])  # a self-reference to the record being created
        if not set(ids) <= found:
            errors[field.name] = MISSING_RECORDS
    return errors


def cascade_delete(
    service: RecordWriter,
    compiled: CompiledCollection,
    record: dict[str, Any],
    info: RequestInfo,
    depth: int = 0,
) -> None:
    if depth > MAX_CASCADE_DEPTH:
        raise BadRequest("Failed to delete record. The relation cascade is too deep.")
    system = RequestInfo(auth=info.auth, context="system")
    for ref_compiled, field in service.registry.references_to(compiled.id):
        column = ref_compiled.columns[field.name]
        if field.is_multiple:
            query = json_array_has_any(ref_compiled.table._db, column, [record["id"]])
        else:
            query = column == record["id"]
        if ref_compiled.id == compiled.id:
            query = query & (ref_compiled.id_column != record["id"])
        while True:
            sql = where(ref_compiled.table, query)._select(*ref_compiled.all_columns, limitby=(0, BATCH_SIZE))
            rows = service.db.fetchall(sql)
            for row in rows:
                ref = ref_compiled.row_to_python(row, ref_compiled.collection.fields)
                _detach(service, ref_compiled, field, ref, record["id"], system, depth)
            if len(rows) < BATCH_SIZE:
                break


def _detach(
    service: RecordWriter,
    compiled: CompiledCollection,
    field: Any,
    ref: dict[str, Any],
    removed_id: str,
    info: RequestInfo,
    depth: int,
) -> None:
    value = ref.get(field.name)
    ids = [i for i in (value if isinstance(value, list) else [value]) if i and i != removed_id]
    if not ids:
        if field.opt("cascadeDelete"):
            service.delete_loaded(compiled, ref, info, depth=depth + 1)
            return
        if field.required:
            raise BadRequest(REQUIRED_REFERENCE)
    new_value = ids if field.is_multiple else (ids[-1] if ids else "")
    to_db = field.kind.to_db(field, new_value, service.db.dialect)
    sql = where(compiled.table, compiled.id_column == ref["id"])._update(
        **{compiled.columns[field.name].name: to_db}
    )
    service.db.execute(sql)
    after = {**ref, field.name: new_value}
    service.db.record_change(record_change(compiled, "update", str(ref["id"]), ref, after, info.auth))
