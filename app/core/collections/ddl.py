"""DDL for collections on SQLite and PostgreSQL: create, alter (diff old -> new) and drop tables.

Statements are built from validated definitions only: identifiers are quoted, column types come
from the field types, index SQL is rendered from parsed ``IndexDef`` structures. The caller runs
them in one transaction together with the ``_collections`` change (atomic on both engines).

Field changes are matched by field id: same id + new name is a rename; a new type (or a change
between single and multiple values) is a retype, done as add-temporary-column, convert, drop,
rename, which works the same on both engines. PostgreSQL tables get a hidden ``_rowid`` identity
column so the default order is insertion order there too (SQLite has its implicit rowid).
"""

from __future__ import annotations

from .indexes import parse_index, quote, render_index
from .model import Collection, Field
from .names import rowid_index_name

ROWID = "_rowid"


def column_definition(field: Field, dialect: str) -> str:
    return f"{quote(field.name)} {field.kind.column_sql(field, dialect)}"


def create_table(collection: Collection, dialect: str) -> list[str]:
    columns = [column_definition(f, dialect) for f in collection.fields]
    if dialect == "postgres":
        columns.append(f"{quote(ROWID)} BIGINT GENERATED ALWAYS AS IDENTITY")
    statements = [f"CREATE TABLE {quote(collection.name)} ({', '.join(columns)})"]
    if dialect == "postgres":
        statements.append(
            f"CREATE UNIQUE INDEX {quote(rowid_index_name(collection))} "
            f"ON {quote(collection.name)} ({quote(ROWID)})"
        )
    statements += create_indexes(collection, dialect)
    return statements


def create_indexes(collection: Collection, dialect: str) -> list[str]:
    return [render_index(parse_index(text), collection.name, dialect) for text in collection.indexes]


def drop_indexes(collection: Collection) -> list[str]:
    return [f"DROP INDEX IF EXISTS {quote(parse_index(text).name)}" for text in collection.indexes]


def drop_table(collection: Collection) -> list[str]:
    return [f"DROP TABLE IF EXISTS {quote(collection.name)}"]


def truncate_table(collection: Collection) -> list[str]:
    return [f"DELETE FROM {quote(collection.name)}"]


def alter_table(old: Collection, new: Collection, dialect: str) -> list[str]:
    """Statements turning ``old``'s table into ``new``'s (both already validated)."""
    statements = drop_indexes(old)
    table = quote(new.name)
    if old.name != new.name:
        statements.append(f"ALTER TABLE {quote(old.name)} RENAME TO {table}")
    new_ids = {f.id for f in new.fields}
    for field in old.fields:
        if field.id not in new_ids:
            statements.append(f"ALTER TABLE {table} DROP COLUMN {quote(field.name)}")
    for field in new.fields:
        previous = old.field_by_id(field.id)
        if previous is None:
            statements.append(f"ALTER TABLE {table} ADD COLUMN {column_definition(field, dialect)}")
            continue
        if previous.name != field.name:
            statements.append(
                f"ALTER TABLE {table} RENAME COLUMN {quote(previous.name)} TO {quote(field.name)}"
            )
        if _storage_changed(previous, field, dialect):
            statements += _retype(table, previous, field, dialect)
    statements += create_indexes(new, dialect)
    return statements


def _storage_changed(old: Field, new: Field, dialect: str) -> bool:
    if old.type != new.type or old.is_multiple != new.is_multiple:
        return True
    return old.kind.column_sql(old, dialect) != new.kind.column_sql(new, dialect)


def _retype(table: str, old: Field, new: Field, dialect: str) -> list[str]:
    temp = quote(f"_retype_{new.id}"[:60])
    column = quote(new.name)
    return [
        f"ALTER TABLE {table} ADD COLUMN {temp} {new.kind.column_sql(new, dialect)}",
        f"UPDATE {table} SET {temp} = {_convert(column, old, new, dialect)}",
        f"ALTER TABLE {table} DROP COLUMN {column}",
        f"ALTER TABLE {table} RENAME COLUMN {temp} TO {column}",
    ]


_TEXTUAL = {"text", "editor", "email", "url", "date", "autodate", "password"}


def _convert(column: str, old: Field, new: Field, dialect: str) -> str:
    """A SQL expression converting ``column`` from ``old``'s storage to ``new``'s.

    Conversions that make sense keep the data (number <-> text, single <-> multiple values, text ->
    JSON string); anything else falls back to the new field's zero value.
    """
    pg = dialect == "postgres"
    source = _storage_kind(old)
    target = _storage_kind(new)
    if target == "multi":
        if source == "multi":
            return column
        if source == "text":
            if pg:
                return f"CASE WHEN {column} = '' THEN '[]'::jsonb ELSE jsonb_build_array({column}) END"
            return f"CASE WHEN {column} = '' THEN '[]' ELSE json_array({column}) END"
        return "'[]'"
    if target == "text":
        if source == "text":
            return column
        if source == "multi":
            return (
                f"COALESCE({column} ->> -1, '')" if pg else f"COALESCE(json_extract({column}, '$[#-1]'), '')"
            )
        if source == "number":
            return f"CAST({column} AS TEXT)"
        if source == "bool":
            return f"CASE WHEN {column} THEN 'true' ELSE 'false' END"
        return "''"
    if target == "number":
        if source == "number":
            return column
        if source == "bool":
            return f"CASE WHEN {column} THEN 1 ELSE 0 END"
        if source == "text":
            if pg:
                return (
                    f"CASE WHEN {column} ~ '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$' "
                    f"THEN CAST({column} AS DOUBLE PRECISION) ELSE 0 END"
                )
            return f"CAST({column} AS NUMERIC)"
        return "0"
    if target == "bool":
        if source == "bool":
            return column
        if source == "number":
            return f"({column} <> 0)"
        if source == "text":
            return f"(lower({column}) IN ('true', '1', 'yes', 'on'))"
        return "FALSE"
    if target == "json":
        if source == "json" or source == "multi":
            return column
        if source == "text":
            return f"to_jsonb({column})" if pg else f"json_quote({column})"
        if source in ("number", "bool"):
            return f"to_jsonb({column})" if pg else f"CAST({column} AS TEXT)"
        return "NULL"
    return new.kind.column_sql(new, dialect).split("DEFAULT", 1)[1].split("NOT NULL")[0].strip() or "NULL"


def _storage_kind(field: Field) -> str:
    if field.type in ("select", "relation", "file"):
        return "multi" if field.is_multiple else "text"
    if field.type in _TEXTUAL:
        return "text"
    if field.type == "number":
        return "number"
    if field.type == "bool":
        return "bool"
    if field.type == "json":
        return "json"
    return field.type
