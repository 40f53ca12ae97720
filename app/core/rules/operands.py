"""Resolved operands of a comparison, and the SQL pieces they render to.

An operand is one of:
- ``Lit``: a literal (text, number, bool, null) — rendered by pyDAL's representer, never by us;
- ``Col``: a single SQL value (a column, a JSON path, a scalar subquery over single relations, a
  function) with its storage kind;
- ``Many``: several values correlated to the row (multiple relations, back-relations, ``:each``,
  ``@collection``); comparisons against it become ``EXISTS`` subqueries (any) plus ``NOT EXISTS``
  of a non-matching value (all), PocketBase's multi-match semantics.

Everything renders at SQL-build time inside pyDAL ``Query`` objects (see ``compiler.leaf``), from
pyDAL-expanded columns and pyDAL-represented values.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..collections.indexes import quote

_ALIASES = itertools.count(1)


def next_alias(prefix: str = "r") -> str:
    """A process-wide unique table alias, so independently compiled queries can be combined."""
    return f"__{prefix}{next(_ALIASES)}"


class Env:
    """What a render function needs: the database and pyDAL's expansion environment."""

    def __init__(self, db: Any, query_env: dict[str, Any] | None):
        self.db = db
        self.adapter = db._adapter
        self.query_env = query_env or {}
        self.pg = "postgre" in type(db._adapter).__name__.lower()

    def col(self, expr: Any) -> str:
        return str(self.adapter.dialect.expand(expr, query_env=self.query_env))

    def lit(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return ("TRUE" if value else "FALSE") if self.pg else ("1" if value else "0")
        if isinstance(value, int | float):
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError("non-finite number in a filter")
            return str(self.adapter.represent(number, "double"))
        return str(self.adapter.represent(str(value), "string"))


Render = Callable[[Env], str]


@dataclass
class Lit:
    value: Any
    kind: str  # text | number | bool | null

    @property
    def is_empty(self) -> bool:
        return self.value is None or self.value == ""


@dataclass
class Col:
    render: Render
    kind: str  # text | number | bool | array | jsonvalue
    fallback: str = "auto"  # auto | disabled (PocketBase's NullFallback)
    #: SQLite column affinity ("numeric" | "text"); None for computed values, which have none
    affinity: str | None = None
    #: an extra condition ANDed with any comparison on this value (e.g. emailVisibility)
    guard: Render | None = None
    #: for ``@collection`` values bound to a shared alias: a fresh, uncorrelated instance of the
    #: same value, used for the "every row" half of a plain (non ``?``) comparison
    fresh: Callable[[], Instance] | None = None
    #: for a value reached through relations whose collections' list rules apply: the condition
    #: under which PocketBase keeps the outer row when it sorts by the value (see
    #: ``resolver.rule_join_survivors``)
    survivors: Render | None = None


@dataclass
class Instance:
    """One instantiation of a ``Many``: FROM sources, correlation conditions, and the value."""

    sources: list[Render]
    where: list[Render]
    value: Col
    #: a read rule on the filtered row itself that the values depend on (``tags:each``, a hop
    #: through a guarded relation): where it fails, any comparison on the values is false
    guard: Render | None = None
    #: set when the instance hangs off the outer row by one key (``where[0]`` is that link)
    key: Key | None = None


@dataclass
class Key:
    """The first step of a relation path as a key match the database can run once per statement.

    ``EXISTS (SELECT 1 FROM <first step>, <rest> WHERE <link> AND c)`` holds exactly when the
    outer row passes ``test(SELECT inner FROM sources, <rest> WHERE c)``: ``own.id IN (...)`` for a
    back-relation, "an element of the outer array is IN (...)" for a multiple relation. Unless
    ``c`` names the outer row, that subquery is uncorrelated: computed once and probed by a hash,
    not re-run (or index-probed) for every outer row.
    """

    inner: Render
    #: the first step's sources in keyed form, replacing its ``replaces`` plain sources
    sources: list[Render]
    replaces: int
    test: Callable[[Env, str], str]
    #: a column of the outer row, to recognise a subquery that is correlated after all
    outer: Render


@dataclass
class Many:
    """A multi-valued operand; every ``build()`` gives an instance with fresh aliases."""

    build: Callable[[], Instance]
    guard: Render | None = None  # as ``Instance.guard``

    def exists(self, env: Env, predicate: Callable[[Col], Render] | None) -> str:
        inst = self.build()
        if inst.key is not None:
            keyed = _keyed_exists(env, inst, inst.key, predicate)
            if keyed is not None:
                return keyed
        conditions = [w(env) for w in inst.where]
        if predicate is not None:
            conditions.append(predicate(inst.value)(env))
        sql = f"SELECT 1 FROM {', '.join(s(env) for s in inst.sources)}"
        if conditions:
            sql += " WHERE " + " AND ".join(f"({c})" for c in conditions)
        return f"EXISTS ({sql})"


def _keyed_exists(
    env: Env, inst: Instance, key: Key, predicate: Callable[[Col], Render] | None
) -> str | None:
    """``Many.exists`` through the instance's ``Key``; None when the subquery would still name
    the outer row (a correlated IN would be re-run per row: the plain form probes keys instead)."""
    inner = key.inner(env)
    conditions = [w(env) for w in inst.where[1:]]
    if predicate is not None:
        conditions.append(predicate(inst.value)(env))
    # NULL keys are left out so the test stays two-valued, as EXISTS is
    conditions.append(f"{inner} IS NOT NULL")
    sources = [s(env) for s in key.sources] + [s(env) for s in inst.sources[key.replaces :]]
    sql = f"SELECT {inner} FROM {', '.join(sources)} WHERE " + " AND ".join(f"({c})" for c in conditions)
    outer_table = key.outer(env).rsplit(".", 1)[0]
    if outer_table + "." in sql:
        return None
    return key.test(env, sql)


@dataclass
class Hop:
    """One step of a relation path: a FROM source and how it correlates to the previous step."""

    sources: list[Render]
    where: list[Render] = field(default_factory=list)
    #: when the hop's source column is behind a read rule the caller may fail: that rule, on the
    #: row the hop starts from
    guard: Render | None = None
    #: the step as a key match (``Key``), used when it is the first step of a path
    key: Key | None = None


@dataclass
class SharedJoin:
    """An ``@collection`` alias shared by every comparison of one expression (join semantics)."""

    collection_id: str
    table: Any  # the aliased pyDAL table
    alias: str
    source: Render
    where: list[Render] = field(default_factory=list)
    #: the same alias bound to one row of NULLs (PocketBase's LEFT JOIN over an empty collection)
    null_source: Render | None = None


SQL_TYPES = {"number": "DOUBLE PRECISION", "bool": "BOOLEAN", "jsonvalue": "JSONB", "array": "JSONB"}


def null_row_source(compiled: Any, alias: str, client: bool) -> Render:
    """``(SELECT NULL AS "id", ...) AS alias``: a row of NULLs with the collection's columns,
    typed on PostgreSQL so comparisons against it still type-check. A client filter cannot name
    hidden fields, so its row leaves them out."""

    def render(env: Env) -> str:
        from .resolver import kind_of

        columns = []
        for f in compiled.collection.fields:
            if client and f.hidden:
                continue
            value = "NULL"
            if env.pg:
                value = f"CAST(NULL AS {SQL_TYPES.get(kind_of(f), 'TEXT')})"
            columns.append(f"{value} AS {quote(f.name)}")
        return f"(SELECT {', '.join(columns)}) AS {quote(alias)}"

    return render


def typed_null(kind: str) -> Col:
    """A NULL standing for a missing value of ``kind`` (typed on PostgreSQL)."""

    def render(env: Env) -> str:
        if env.pg and kind in SQL_TYPES:
            return f"CAST(NULL AS {SQL_TYPES[kind]})"
        return "NULL"

    return Col(render, kind)


def table_source(table: Any, alias: str) -> Render:
    return lambda env: f"{table._rname} AS {quote(alias)}"


def json_elements_source(array_sql: Render, alias: str) -> Render:
    """Rows of a JSON array's text elements, as ``<alias>.value``."""

    def render(env: Env) -> str:
        if env.pg:
            return f"jsonb_array_elements_text(CAST({array_sql(env)} AS JSONB)) AS {quote(alias)}(value)"
        return f"json_each({array_sql(env)}) AS {quote(alias)}"

    return render


def element_value(alias: str) -> Col:
    return Col(lambda env: f"{quote(alias)}.value", "text")


def rows_by_elements(array_sql: Render, table: Any, alias: str, elements: str) -> Render:
    """The rows of ``table`` (as ``alias``) whose ``id`` is one of the JSON array's text
    elements (``<elements>.value``), each found through the primary key: the array is unpacked
    first and every element looked up, whatever the planner guesses about other conditions on
    the row (a correlated scan of the table per outer row is what made one filter quadratic).
    The caller adds ``alias.id = elements.value`` to its conditions."""

    def render(env: Env) -> str:
        if env.pg:
            # LATERAL + OFFSET 0: the lookup stays a per-element index probe, never a join the
            # planner may turn around on a misestimated filter
            return (
                f"jsonb_array_elements_text(CAST({array_sql(env)} AS JSONB)) AS {quote(elements)}(value)"
                f" CROSS JOIN LATERAL (SELECT * FROM {table._rname} WHERE {quote('id')} ="
                f" {quote(elements)}.value OFFSET 0) AS {quote(alias)}"
            )
        # SQLite never reorders the two sides of a CROSS JOIN
        return f"json_each({array_sql(env)}) AS {quote(elements)} CROSS JOIN {table._rname} AS {quote(alias)}"

    return render


def scalar_subquery(hops: list[Hop], value: Col) -> Col:
    """The value at the end of a chain of single relations (NULL when a link is missing)."""

    def render(env: Env) -> str:
        sources = [s(env) for hop in hops for s in hop.sources]
        conditions = [w(env) for hop in hops for w in hop.where]
        sql = f"SELECT {value.render(env)} FROM {', '.join(sources)}"
        if conditions:
            sql += " WHERE " + " AND ".join(f"({c})" for c in conditions)
        return f"({sql} LIMIT 1)"

    return Col(render, value.kind, value.fallback, affinity=value.affinity, guard=value.guard)
