"""Small helpers over pyDAL's builders for tables defined without Emmett models.

Emmett's ``Database.__call__`` returns its model-aware ``Set``, which needs a ``Model`` behind
every table; our tables are built from collection definitions, so we use pyDAL's plain ``Set``.

``custom_query`` builds a pyDAL ``Query`` whose SQL comes from a render function: the function gets
pyDAL-expanded operands (columns, and values quoted by pyDAL's representer), never request text.
It is how dialect-specific operations (JSON array membership, ``ILIKE``...) stay pyDAL queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydal.objects import Query, Set


def where(table: Any, query: Any = None) -> Set:
    """A pyDAL ``Set`` over ``table``'s database (all rows when ``query`` is None)."""
    if query is None:
        query = table._id != None if getattr(table, "_id", None) is not None else None  # noqa: E711
    return Set(table._db, query)


def dialect_of(dal: Any) -> str:
    return "postgres" if "postgre" in type(dal._adapter).__name__.lower() else "sqlite"


def literal(dal: Any, value: Any, field_type: str = "string") -> str:
    """``value`` as a SQL literal, quoted by pyDAL's representer."""
    return str(dal._adapter.represent(value, field_type))


def column_sql(dal: Any, column: Any, query_env: dict[str, Any] | None = None) -> str:
    return str(dal._adapter.dialect.expand(column, query_env=query_env or {}))


def custom_query(dal: Any, render: Callable[[str, Any], str], column: Any, operand: Any) -> Query:
    """A Query rendered by ``render(column_sql, operand)`` at SQL-build time."""

    def op(first: Any, second: Any, query_env: dict[str, Any] | None = None) -> str:
        return render(column_sql(dal, first, query_env), second)

    return Query(dal, op, column, operand)


def json_array_has_any(dal: Any, column: Any, values: Sequence[str]) -> Query:
    """True when the JSON array in ``column`` contains at least one of ``values``."""
    pg = dialect_of(dal) == "postgres"

    def render(col: str, items: Sequence[str]) -> str:
        if not items:
            return "(1 = 0)"
        quoted = ", ".join(literal(dal, v) for v in items)
        if pg:
            return f"({col} ?| ARRAY[{quoted}])"
        return f"EXISTS (SELECT 1 FROM json_each({col}) AS __je WHERE __je.value IN ({quoted}))"

    return custom_query(dal, render, column, list(values))


def count_sql(table: Any, query: Any = None) -> str:
    """``SELECT COUNT(*)``; without a query, the plain form (pyDAL adds a slow ``IS NOT NULL``)."""
    if query is None:
        return f"SELECT COUNT(*) FROM {table._rname}"
    return str(Set(table._db, query)._count())
