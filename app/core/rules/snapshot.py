"""Rules evaluated against a snapshot of a row: deciding after a delete has committed who could
see the deleted record (realtime delete events, the outbox), on SQLite and PostgreSQL.

The rule compiles to the same pyDAL ``Query`` as always. The statement pyDAL builds for it
(``SELECT <id> FROM "<table>" WHERE <rule>``) then reads its one row from a derived table made of
the snapshot's values as literals — ``WITH "__snapshot" AS (SELECT <literal> AS "<field>", ...)``
— aliased as the collection's table, so every reference to the record's own fields reads the
snapshot. Subqueries the rule needs (relations, back-relations, ``@collection``) still read the
live tables: a relation is resolved against the related rows as they are now, which is what
PocketBase does when it checks a deleted record's rules after the fact.

Values are turned into literals here (quoted by pyDAL's representer, cast to the column's
type); the statement text only ever contains identifiers of the schema and those
literals, never request text.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ...db.sql import literal, where
from ..collections.indexes import quote
from .context import RequestInfo

SNAPSHOT = quote("__snapshot")


class SnapshotUnsupported(ValueError):
    """pyDAL built a statement whose FROM clause does not start with the collection's table."""


def snapshot_sql(compiled: Any, row: dict[str, Any], query: Any, dialect: str) -> str:
    """The statement that returns one row when ``query`` holds for the record ``row`` (python
    values by field name, e.g. a ``RecordChange.before``)."""
    dal = compiled.table._db
    columns = []
    for f in compiled.collection.fields:
        value = f.kind.to_db(f, row.get(f.name, f.kind.zero(f)), dialect)
        column_type = _type_of(f.kind.column_sql(f, dialect))
        columns.append(f"{_literal(dal, value, column_type, dialect)} AS {quote(f.name)}")
    select = where(compiled.table, query)._select(compiled.id_column, limitby=(0, 1))
    table = _table_sql(compiled)
    head = f"SELECT {_column_sql(compiled)} FROM {table}"
    if not select.startswith(head):
        raise SnapshotUnsupported(select[: len(head) + 40])
    rest = select[len(head) :]
    return f"WITH {SNAPSHOT} AS (SELECT {', '.join(columns)}) SELECT 1 FROM {SNAPSHOT} AS {table}{rest}"


def snapshot_matches(db: Any, compiled: Any, row: dict[str, Any], query: Any) -> bool:
    """Whether ``query`` (None: every row) holds for the snapshot ``row``."""
    if query is None:
        return True
    return db.fetchone(snapshot_sql(compiled, row, query, db.dialect)) is not None


def allowed_on_snapshot(
    access: Any, db: Any, compiled: Any, rule_name: str, info: RequestInfo, row: dict[str, Any]
) -> bool:
    """Whether the caller ``info`` passes the collection's rule ``rule_name`` (e.g. ``viewRule``)
    for the record as it was in ``row``: superusers always, a locked rule (None) never."""
    if info.is_superuser:
        return True
    rule = compiled.collection.rule(rule_name)
    if rule is None:
        return False
    return snapshot_matches(db, compiled, row, access.rule_query_text(compiled, rule, info))


def _type_of(column_sql: str) -> str:
    """The type of a column definition (``TEXT PRIMARY KEY NOT NULL`` -> ``TEXT``)."""
    words = []
    for word in column_sql.split():
        if word.upper() in _CONSTRAINTS:
            break
        words.append(word)
    return " ".join(words)


_CONSTRAINTS = {"DEFAULT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "REFERENCES", "COLLATE"}


def _table_sql(compiled: Any) -> str:
    return str(compiled.table.sql_shortref)


def _column_sql(compiled: Any) -> str:
    return str(compiled.table._db._adapter.dialect.expand(compiled.id_column))


def _literal(dal: Any, value: Any, column_type: str, dialect: str) -> str:
    if value is None:
        text = "NULL"
    elif isinstance(value, bool):
        text = ("TRUE" if value else "FALSE") if dialect == "postgres" else str(int(value))
    elif isinstance(value, int | float) and math.isfinite(value):
        # as a NUMERIC column stores it: a whole real that fits 64 bits becomes an integer
        whole = isinstance(value, float) and value.is_integer() and abs(value) < 2**63
        text = repr(int(value) if whole else value)
    else:
        if not isinstance(value, str):
            value = json.dumps(value, separators=(",", ":"))
        text = literal(dal, value, "string")
    # Each literal gets its column's type: PostgreSQL types literals only where the context says,
    # and SQLite compares by the column's affinity, which a bare literal in a CTE does not have.
    return f"CAST({text} AS {column_type})"
