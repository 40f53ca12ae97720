"""Checking a parsed index (``indexes.IndexDef``) against the collection's fields.

Every identifier must be a field, and every expression must be well typed on both engines:
PostgreSQL refuses what SQLite lets through (``lower()`` of a number, ``bool = 1``, a ``WHERE``
that is a bare text column), and such an index would otherwise fail as DDL (a 500) on one engine
only. Field kinds come from the PostgreSQL column each field is stored in (``storage_kind``).
"""

from __future__ import annotations

from dataclasses import replace

from .indexes import (
    COMPARISONS,
    FUNCTIONS,
    JSON_PATH_RE,
    Binary,
    Col,
    Expr,
    Func,
    In,
    IndexDef,
    IndexError_,
    IsNull,
    Lit,
    Not,
)
from .model import Field


def storage_kind(field: Field) -> str:
    """How an index expression sees ``field``: text, number, bool or json (its PostgreSQL column)."""
    column = field.kind.column_sql(field, "postgres").split()[0].upper()
    return {"DOUBLE": "number", "BOOLEAN": "bool", "JSONB": "json"}.get(column, "text")


# -- checking against the fields --------------------------------------------------------------


def check_index(index: IndexDef, kinds: dict[str, str]) -> IndexDef:
    """``index`` checked against the fields (``kinds``: field name -> storage kind, ``text`` /
    ``number`` / ``bool`` / ``json``): every identifier is a field and every expression is well
    typed on both engines (PostgreSQL refuses ``lower(number)``, ``WHERE text_column``); else
    ``IndexError_``. Returned with a bool field compared to 0 or 1 (SQLite's spelling) compared to
    FALSE or TRUE, which both engines accept."""
    for name in index.identifiers():
        if name not in kinds:
            raise IndexError_(f"No such column: {name}.")
    index = replace(
        index,
        columns=tuple(replace(c, expr=_coerce(c.expr, kinds)) for c in index.columns),
        where=_coerce(index.where, kinds) if index.where is not None else None,
    )
    for column in index.columns:
        kind = _kind(column.expr, kinds)
        if column.nocase and kind != "text":
            raise IndexError_("COLLATE NOCASE applies to text values only.")
    if index.where is not None and _kind(index.where, kinds) != "bool":
        raise IndexError_("The index WHERE clause must be a condition.")
    return index


def _coerce(node: Expr, kinds: dict[str, str]) -> Expr:
    def as_bool(item: Expr) -> Expr:
        if isinstance(item, Lit) and type(item.value) is int and item.value in (0, 1):
            return Lit(bool(item.value))
        return item

    def is_bool(item: Expr) -> bool:
        return isinstance(item, Col) and kinds.get(item.name) == "bool"

    if isinstance(node, Binary):
        left, right = _coerce(node.left, kinds), _coerce(node.right, kinds)
        if node.op in COMPARISONS and is_bool(left):
            right = as_bool(right)
        elif node.op in COMPARISONS and is_bool(right):
            left = as_bool(left)
        return Binary(node.op, left, right)
    if isinstance(node, Not):
        return Not(_coerce(node.operand, kinds))
    if isinstance(node, In) and is_bool(node.operand):
        return In(node.operand, tuple(as_bool(i) for i in node.items), node.negated)  # type: ignore[misc]
    return node


def _kind(node: Expr, kinds: dict[str, str]) -> str:
    if isinstance(node, Col):
        return kinds[node.name]
    if isinstance(node, Lit):
        return _literal_kind(node)
    if isinstance(node, Func):
        wanted, result = FUNCTIONS[node.name]
        if len(node.args) != len(wanted):
            raise IndexError_(f"{node.name}() takes {len(wanted)} argument(s).")
        for arg, want in zip(node.args, wanted, strict=True):
            if want == "path":
                if not (
                    isinstance(arg, Lit) and isinstance(arg.value, str) and JSON_PATH_RE.match(arg.value)
                ):
                    raise IndexError_(f"{node.name}() takes a path like '$.key' or '$.list[0]'.")
            elif _kind(arg, kinds) != want:
                raise IndexError_(f"{node.name}() takes a {want} value.")
        return result
    if isinstance(node, Binary):
        if node.op in ("AND", "OR"):
            if _kind(node.left, kinds) != "bool" or _kind(node.right, kinds) != "bool":
                raise IndexError_(f"{node.op} joins conditions only.")
            return "bool"
        left, right = _kind(node.left, kinds), _kind(node.right, kinds)
        if "null" in (left, right):
            raise IndexError_("Compare with NULL using IS NULL or IS NOT NULL.")
        if left != right or left == "json":
            raise IndexError_(f"Cannot compare a {left} value with a {right} value.")
        return "bool"
    if isinstance(node, Not):
        if _kind(node.operand, kinds) != "bool":
            raise IndexError_("NOT applies to conditions only.")
        return "bool"
    if isinstance(node, IsNull):
        _kind(node.operand, kinds)
        return "bool"
    left = _kind(node.operand, kinds)
    if left == "json" or any(_literal_kind(item) != left for item in node.items):
        raise IndexError_(f"IN compares a {left} value with {left} values only.")
    return "bool"


def _literal_kind(node: Lit) -> str:
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return "text" if isinstance(value, str) else "number"
