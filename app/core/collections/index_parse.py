"""Reading an expression or partial index definition with a real SQL parser (sqlglot).

Only for what ``indexes`` cannot read with its regular expression: indexed expressions
(``lower(name)``, ``json_extract(data, '$.a')``) and ``WHERE`` conditions beyond ``col != ''``.
sqlglot parses the text as SQLite (PocketBase's dialect); the result is accepted only when it is
exactly one ``CREATE [UNIQUE] INDEX`` with nothing else attached, and it is converted node by node
into the ``indexes`` expression tree: a node of any other kind (subquery, other table, unknown or
non-deterministic function, operator outside the list) refuses the whole definition. Nothing of
the original text reaches the database; the DDL is rendered from the tree.

Imported lazily by ``indexes.parse_index``: sqlglot costs ~100 ms to import.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import sqlglot
from sqlglot import exp

from .indexes import (
    FUNCTIONS,
    MAX_LITERAL,
    NAME_RE,
    Binary,
    Col,
    Expr,
    Func,
    In,
    IndexColumn,
    IndexDef,
    IndexError_,
    IsNull,
    Lit,
    Not,
)

# sqlglot warns on the log when it falls back to an opaque "Command" for SQL it cannot model; such
# text is refused here anyway, so the warning is noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_COMPARISONS: dict[type, str] = {
    exp.EQ: "=",
    exp.NEQ: "!=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
}
_SIMPLE_FUNCTIONS: dict[type, str] = {exp.Lower: "lower", exp.Upper: "upper", exp.Length: "length"}
#: The only arguments a CREATE INDEX / its index parts may carry (anything else: refused).
_CREATE_ARGS = {"this", "kind", "unique", "exists"}
_INDEX_ARGS = {"this", "table", "params"}
_PARAMS_ARGS = {"columns", "where"}


def parse_with_sqlglot(text: str) -> IndexDef:
    try:
        return _parse(text)
    except RecursionError:
        raise IndexError_("The index expression is nested too deeply.") from None


def _parse(text: str) -> IndexDef:
    try:
        statements = [s for s in sqlglot.parse(text, read="sqlite") if s is not None]
    except sqlglot.errors.SqlglotError:
        raise IndexError_("Invalid CREATE INDEX statement.") from None
    if len(statements) != 1:
        raise IndexError_("An index definition is one CREATE INDEX statement.")
    create = statements[0]
    if not isinstance(create, exp.Create) or str(create.args.get("kind") or "").upper() != "INDEX":
        raise IndexError_("Invalid CREATE INDEX statement.")
    _only(create, _CREATE_ARGS)
    index = create.this
    if not isinstance(index, exp.Index):
        raise IndexError_("Invalid CREATE INDEX statement.")
    _only(index, _INDEX_ARGS)
    params = index.args.get("params")
    table = index.args.get("table")
    if not isinstance(params, exp.IndexParameters) or not isinstance(table, exp.Table):
        raise IndexError_("Invalid CREATE INDEX statement.")
    _only(params, _PARAMS_ARGS)
    _only(table, {"this"})  # no schema / database qualifier
    columns = tuple(_column(item) for item in params.args.get("columns") or [])
    if not columns:
        raise IndexError_("The index has no columns.")
    where = params.args.get("where")
    return IndexDef(
        name=_name(index.this),
        table=_name(table.this),
        unique=bool(create.args.get("unique")),
        columns=columns,
        where=_expr(where.this) if where is not None else None,
    )


def _only(node: exp.Expression, allowed: set[str]) -> None:
    extra = [key for key, value in node.args.items() if key not in allowed and value not in (None, False, [])]
    if extra:
        raise IndexError_(f"Unsupported index clause: {', '.join(sorted(extra))}.")


def _name(node: Any) -> str:
    name = node.name if isinstance(node, exp.Identifier) else None
    if not name or not NAME_RE.match(name):
        raise IndexError_("Index, table and column names are letters, digits and _ (at most 63).")
    return str(name)


def _column(item: exp.Expression) -> IndexColumn:
    desc = False
    if isinstance(item, exp.Ordered):
        desc = bool(item.args.get("desc"))
        item = item.this
    nocase = False
    if isinstance(item, exp.Collate):
        collation = item.expression
        if (
            not isinstance(collation, exp.Var | exp.Identifier | exp.Column)
            or collation.name.upper() != "NOCASE"
        ):
            raise IndexError_("Only COLLATE NOCASE is supported.")
        nocase, item = True, item.this
    return IndexColumn(_expr(item), nocase=nocase, desc=desc)


def _expr(node: exp.Expression) -> Expr:
    if isinstance(node, exp.Paren):
        return _expr(node.this)
    if isinstance(node, exp.Column):
        if node.args.get("table") is not None or node.args.get("db") is not None:
            raise IndexError_("An index refers to its own collection's fields only.")
        return Col(_name(node.this))
    if isinstance(node, exp.Literal | exp.Boolean | exp.Null | exp.Neg):
        return _literal(node)
    comparison = _COMPARISONS.get(type(node))
    if comparison:
        return Binary(comparison, _expr(node.this), _expr(node.expression))
    if isinstance(node, exp.And | exp.Or):
        return Binary("AND" if isinstance(node, exp.And) else "OR", _expr(node.this), _expr(node.expression))
    if isinstance(node, exp.Not):
        inner = node.this
        if isinstance(inner, exp.Is):
            return IsNull(_is_null_operand(inner), negated=True)
        if isinstance(inner, exp.In):
            return _in(inner, negated=True)
        return Not(_expr(inner))
    if isinstance(node, exp.Is):
        return IsNull(_is_null_operand(node))
    if isinstance(node, exp.In):
        return _in(node, negated=False)
    return _function(node)


def _literal(node: exp.Expression) -> Lit:
    if isinstance(node, exp.Null):
        return Lit(None)
    if isinstance(node, exp.Boolean):
        return Lit(bool(node.this))
    negative = isinstance(node, exp.Neg)
    if negative:
        node = node.this
    if not isinstance(node, exp.Literal) or (negative and node.is_string):
        raise IndexError_(f"Unsupported expression {node.sql('sqlite')!r} in the index.")
    if node.is_string:
        value = str(node.this)
        if len(value) > MAX_LITERAL or "\x00" in value:
            raise IndexError_(f"Text values in an index are at most {MAX_LITERAL} characters.")
        return Lit(value)
    try:
        number: int | float = int(node.this)
    except ValueError:
        try:
            number = float(node.this)
        except ValueError:
            raise IndexError_(f"Invalid number {node.this!r} in the index.") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise IndexError_(f"Invalid number {node.this!r} in the index.")
    return Lit(-number if negative else number)


def _is_null_operand(node: exp.Is) -> Expr:
    if not isinstance(node.expression, exp.Null):
        raise IndexError_("IS is supported as IS NULL / IS NOT NULL only.")
    return _expr(node.this)


def _in(node: exp.In, negated: bool) -> In:
    _only(node, {"this", "expressions"})  # no subquery, no UNNEST, no field list
    items = tuple(_expr(item) for item in node.expressions)
    if not items or not all(isinstance(item, Lit) and item.value is not None for item in items):
        raise IndexError_("IN takes a list of literal values.")
    return In(_expr(node.this), items, negated)  # type: ignore[arg-type]


def _function(node: exp.Expression) -> Func:
    name = _SIMPLE_FUNCTIONS.get(type(node))
    args: list[exp.Expression] = []
    if name:
        _only(node, {"this"})
        args = [node.this]
    elif isinstance(node, exp.Trim):
        _only(node, {"this", "position"})  # trim(x, chars) is not supported
        position = str(node.args.get("position") or "").upper()
        name = {"": "trim", "LEADING": "ltrim", "TRAILING": "rtrim"}.get(position)
        args = [node.this]
    elif isinstance(node, exp.JSONExtractScalar | exp.JSONExtract):
        path = node.expression
        if isinstance(path, exp.JSONPath):
            path = exp.Literal.string(_json_path(path))
        name, args = "json_extract", [node.this, path]
    elif isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        args = list(node.expressions)
    if not name or name not in FUNCTIONS:
        shown = node.sql("sqlite")[:60]
        raise IndexError_(
            f"Unsupported expression {shown!r} in the index (functions: {', '.join(FUNCTIONS)})."
        )
    return Func(name, tuple(_expr(arg) for arg in args))


def _json_path(path: exp.JSONPath) -> str:
    text = ""
    for step in path.expressions:
        if isinstance(step, exp.JSONPathRoot):
            text += "$"
        elif isinstance(step, exp.JSONPathKey) and isinstance(step.this, str):
            text += "." + step.this
        elif isinstance(step, exp.JSONPathSubscript) and isinstance(step.this, int):
            text += f"[{step.this}]"
        else:
            raise IndexError_("json_extract() takes a path like '$.key' or '$.list[0]'.")
    return text
