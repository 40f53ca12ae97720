"""One comparison between two single values, with PocketBase's results on both engines.

PocketBase runs on SQLite, so its filters follow SQLite's typing: a value meeting a *column*
takes the column's affinity (``views = "10"`` compares numbers, ``title = 5`` compares the text
``"5.0"``), values of different classes never compare equal and order as
``NULL < numbers < text``, and ``true``/``false`` are the integers 1/0. ``Side`` captures what a
value is (class, affinity, literal value); literal conversions are decided here at compile time,
so the SQL on PostgreSQL gives the same answers (JSON values, whose class is only known per row,
become a ``CASE`` over ``jsonb_typeof``). On top of that sit PocketBase's empty-value rules for
``=``/``!=`` and its LIKE conventions for ``~``/``!~``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .operands import Col, Env, Lit, Render
from .resolver import FilterError

# What SQLite's numeric affinity takes as a number: ASCII digits only ("\u0661" stays text there).
_NUMERIC_TEXT = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$", re.ASCII)
TEXT_KINDS = ("text", "array")
NUMERIC_KINDS = ("number", "bool")
ORDER_OPS = ("<", "<=", ">", ">=")


def real_text(value: float) -> str:
    """How SQLite writes a REAL as text (``5`` -> ``5.0``), which is what a number literal becomes
    when it meets a text column."""
    number = float(value)
    if not math.isfinite(number):
        return "Inf" if number > 0 else "-Inf" if number < 0 else "NaN"
    text = f"{number:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        sign = exponent[0] if exponent[0] in "+-" else "+"
        return f"{mantissa}e{sign}{exponent.lstrip('+-').zfill(2)}"
    return text if "." in text else text + ".0"


@dataclass
class Side:
    """A comparison operand after typing. ``cls``: num, text, null or dyn (a JSON value whose
    class is only known per row); ``affinity``: numeric, text or None (expressions have none)."""

    cls: str
    affinity: str | None = None
    literal: Any = None
    is_literal: bool = False
    is_bool: bool = False
    col: Col | None = None


def side_of(operand: Lit | Col) -> Side:
    if isinstance(operand, Lit):
        if operand.kind == "null":
            return Side("null", is_literal=True)
        if operand.kind == "bool":
            return Side("num", literal=1 if operand.value else 0, is_literal=True, is_bool=True)
        if operand.kind == "number":
            return Side("num", literal=operand.value, is_literal=True)
        return Side("text", literal=str(operand.value), is_literal=True)
    if operand.kind == "jsonvalue":
        return Side("dyn", col=operand)
    cls = "num" if operand.kind in NUMERIC_KINDS else "text"
    return Side(cls, affinity=operand.affinity, col=operand)


def _apply_affinity(side: Side, other: Side) -> Side:
    """SQLite: a literal meeting a column takes that column's affinity."""
    if not side.is_literal or other.is_literal or other.affinity is None:
        return side
    if other.affinity == "numeric" and side.cls == "text" and _NUMERIC_TEXT.match(side.literal):
        return Side("num", literal=float(side.literal), is_literal=True)
    if other.affinity == "text" and side.cls == "num":
        # true/false are the integers 1/0 (written "1"/"0"); other numbers are REALs ("5.0")
        text = str(side.literal) if side.is_bool else real_text(side.literal)
        return Side("text", literal=text, is_literal=True)
    return side


def typed_pair(left: Lit | Col, right: Lit | Col) -> tuple[Side, Side]:
    l_side, r_side = side_of(left), side_of(right)
    return _apply_affinity(l_side, r_side), _apply_affinity(r_side, l_side)


def _sql(env: Env, side: Side) -> str:
    if side.is_literal:
        if side.cls == "null":
            return "NULL"
        if side.cls == "num":
            value = side.literal
            return env.lit(float(value)) if not isinstance(value, bool) else env.lit(1.0 if value else 0.0)
        return env.lit(side.literal)
    assert side.col is not None
    sql = side.col.render(env)
    if env.pg:
        if side.col.kind == "bool":
            return f"CAST({sql} AS INTEGER)"
        if side.col.kind == "array":
            return f"CAST({sql} AS TEXT)"
    return sql


def _constant(value: bool | None) -> str:
    if value is None:
        return "NULL"
    return "(1 = 1)" if value else "(1 = 0)"


def _python_compare(left: Any, op: str, right: Any) -> bool | None:
    """SQLite's comparison of two literal values (class order NULL < numbers < text)."""
    if left is None or right is None:
        return None
    rank_l, rank_r = (0 if isinstance(left, int | float) else 1), (0 if isinstance(right, int | float) else 1)
    if rank_l != rank_r:
        left, right = rank_l, rank_r
    return {"=": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
            ">": left > right, ">=": left >= right}[op]  # fmt: skip


def raw_compare(env: Env, left: Side, op: str, right: Side) -> str:
    """``left op right`` with SQLite's semantics; ``!=`` is null-safe (``IS NOT``) like PocketBase."""
    if left.is_literal and right.is_literal:
        return _constant(_python_compare(left.literal, op, right.literal))
    sql_op = op if op != "!=" else ("IS DISTINCT FROM" if env.pg else "IS NOT")
    if "null" in (left.cls, right.cls):
        if op == "=":
            return f"{_sql(env, left)} {'IS NOT DISTINCT FROM' if env.pg else 'IS'} {_sql(env, right)}"
        if op == "!=":
            return f"{_sql(env, left)} {sql_op} {_sql(env, right)}"
        return "NULL"
    if left.cls == "dyn" or right.cls == "dyn":
        return _dynamic_compare(env, left, op, right)
    if left.cls != right.cls and (left.is_literal or right.is_literal or env.pg):
        # different classes never meet: only their order (numbers before text) decides
        return _class_order(env, left, op, right)
    return f"{_sql(env, left)} {sql_op} {_sql(env, right)}"


def _class_order(env: Env | None, left: Side, op: str, right: Side, nullable: list[str] | None = None) -> str:
    """The result of comparing values of different classes: fixed by their order, except that a
    NULL value makes ``=``/``<``... NULL (``!=`` stays true: PocketBase's ``IS NOT``)."""
    rank = {"num": 0, "text": 1}
    result = _python_compare(rank[left.cls], op, rank[right.cls]) if op != "=" else False
    constant = _constant(result)
    if op == "!=" or env is None:
        return constant
    columns = [_sql(env, side) for side in (left, right) if not side.is_literal and side.col is not None]
    columns += nullable or []
    if not columns:
        return constant
    return f"(CASE WHEN {' OR '.join(f'{c} IS NULL' for c in columns)} THEN NULL ELSE {constant} END)"


def _dynamic_compare(env: Env, left: Side, op: str, right: Side) -> str:
    """A JSON value (its class is only known per row) against another value."""
    sql_op = op if op != "!=" else ("IS DISTINCT FROM" if env.pg else "IS NOT")
    if not env.pg:
        return f"{_sql(env, left)} {sql_op} {_sql(env, right)}"  # json_extract gives native values
    if left.cls == "dyn" and right.cls == "dyn":
        return f"CAST({_sql(env, left)} AS TEXT) {sql_op} CAST({_sql(env, right)} AS TEXT)"
    flipped = left.cls != "dyn"
    dyn, other = (right, left) if flipped else (left, right)
    if other.cls == "null":
        return "NULL"  # ordering against null; equality with empties is handled by equality()
    value = _sql(env, dyn)
    other_sql = _sql(env, other)
    as_number = (
        f"(CASE WHEN jsonb_typeof({value}) = 'boolean' "
        f"THEN (CASE WHEN {value} = 'true'::jsonb THEN 1 ELSE 0 END) "
        f"ELSE CAST({value} #>> '{{}}' AS DOUBLE PRECISION) END)"
    )
    as_text = f"({value} #>> '{{}}')"

    def seen_as(cls: str, sql: str) -> str:
        if cls != other.cls:
            this = Side(cls)
            return _class_order(None, other, op, this) if flipped else _class_order(None, this, op, other)
        a, b = (other_sql, sql) if flipped else (sql, other_sql)
        return f"{a} {sql_op} {b}"

    missing = _constant(True) if op == "!=" else "NULL"
    return (
        f"(CASE WHEN jsonb_typeof({value}) IN ('number', 'boolean') THEN {seen_as('num', as_number)} "
        f"WHEN jsonb_typeof({value}) IN ('string', 'object', 'array') THEN {seen_as('text', as_text)} "
        f"ELSE {missing} END)"
    )


# -- PocketBase's equality with empty values -----------------------------------------------------


def _is_empty(operand: Lit | Col) -> bool:
    return isinstance(operand, Lit) and (operand.value is None or operand.value == "")


def equality(env: Env, left: Lit | Col, equal: bool, right: Lit | Col) -> str:
    """``=`` / ``!=``: an empty side (``''`` or ``null``) matches empty text and NULL; two empties
    are equal; fields whose fallback is disabled (JSON paths) compare with ``IS``."""
    op = "=" if equal else "!="
    l_side, r_side = typed_pair(left, right)
    disabled = any(isinstance(o, Col) and o.fallback == "disabled" for o in (left, right))
    if disabled:
        empty = left if _is_empty(left) else right if _is_empty(right) else None
        if env.pg and empty is not None and "dyn" in (l_side.cls, r_side.cls):
            # PocketBase compares a JSON value with IS: '' matches only the JSON string "", null
            # matches a missing key or a JSON null (both SQL NULL in SQLite's json_extract).
            value = _sql(env, l_side if l_side.cls == "dyn" else r_side)
            if isinstance(empty, Lit) and empty.value == "":
                matches = f"(jsonb_typeof({value}) = 'string' AND {value} #>> '{{}}' = '')"
            else:
                matches = f"({value} IS NULL OR {value} = 'null'::jsonb)"
            return matches if equal else f"NOT COALESCE({matches}, FALSE)"
        return raw_compare(env, l_side, op, r_side)
    left_empty, right_empty = _is_empty(left), _is_empty(right)
    if left_empty and right_empty:
        return _constant(equal)
    if left_empty or right_empty:
        column_side = r_side if left_empty else l_side
        if not column_side.is_literal:
            column = _sql(env, column_side)
            if column_side.cls == "text":
                return (
                    f"({column} = '' OR {column} IS NULL)"
                    if equal
                    else f"({column} <> '' AND {column} IS NOT NULL)"
                )
            if column_side.cls == "num":
                return f"({column} IS NULL)" if equal else f"({column} IS NOT NULL)"
        blank = Side("text", literal="", is_literal=True)
        return raw_compare(env, blank if left_empty else l_side, op, blank if right_empty else r_side)
    if l_side.is_literal or r_side.is_literal:
        return raw_compare(env, l_side, op, r_side)
    if l_side.cls == "text" and r_side.cls == "text":
        return f"COALESCE({_sql(env, l_side)}, '') {'=' if equal else '<>'} COALESCE({_sql(env, r_side)}, '')"
    return raw_compare(env, l_side, op, r_side)


def ordering(env: Env, left: Lit | Col, op: str, right: Lit | Col) -> str:
    l_side, r_side = typed_pair(left, right)
    return raw_compare(env, l_side, op, r_side)


# -- LIKE ----------------------------------------------------------------------------------------


def like_pattern(value: str) -> str:
    """PocketBase's ``~`` value: with no unescaped ``%`` it becomes ``%value%``, where ``%``, ``_``
    and ``\\`` not already escaped by a backslash get one; otherwise the value is the pattern."""
    if _has_unescaped(value, "%"):
        return value
    return "%" + _escape_unescaped(value, "\\%_") + "%"


def _has_unescaped(value: str, char: str) -> bool:
    previous = ""
    for current in value:
        if current == char and previous != "\\":
            return True
        previous = "" if (current == "\\" and previous == "\\") else current
    return False


def _escape_unescaped(value: str, specials: str) -> str:
    out: list[str] = []
    pending = False  # the character after this one (to the right) was a special needing escape
    for current in reversed(value):
        if pending:
            if current != "\\":
                out.append("\\")
            pending = False
            out.append(current)
            continue
        if current in specials:
            pending = True
        out.append(current)
    if pending:
        out.append("\\")
    return "".join(reversed(out))


def _ends_in_lone_escape(pattern: str) -> bool:
    index = 0
    while index < len(pattern):
        if pattern[index] == "\\":
            if index + 1 == len(pattern):
                return True
            index += 1
        index += 1
    return False


def _like_subject(env: Env, operand: Lit | Col) -> str:
    side = side_of(operand)
    if side.is_literal:
        if side.cls == "null":
            return "NULL"
        if isinstance(operand, Lit) and operand.kind == "number":
            return env.lit(real_text(operand.value))
        return env.lit(str(side.literal))
    sql = _sql(env, side)
    if side.cls == "dyn" and env.pg:
        sql = f"({sql} #>> '{{}}')"
    elif side.cls != "text" or env.pg:
        sql = f"CAST({sql} AS TEXT)"
    return f'({sql} COLLATE "C")' if env.pg else sql


def like(env: Env, left: Lit | Col, positive: bool, right: Lit | Col) -> str:
    """Case-insensitive for ASCII letters only, on both engines (SQLite's LIKE)."""
    operator = ("ILIKE" if positive else "NOT ILIKE") if env.pg else ("LIKE" if positive else "NOT LIKE")
    subject = _like_subject(env, left)
    if isinstance(right, Lit):
        if right.kind == "null":
            return "NULL"
        if right.kind == "number":
            text = str(int(right.value)) if float(right.value).is_integer() else str(right.value)
        elif right.kind == "bool":
            text = "1" if right.value else "0"
        else:
            text = str(right.value)
        pattern = like_pattern(text)
        if env.pg and _ends_in_lone_escape(pattern):
            # SQLite: such a pattern matches nothing; PostgreSQL would raise an error instead.
            return f"(CASE WHEN {subject} IS NULL THEN NULL ELSE {'FALSE' if positive else 'TRUE'} END)"
        return f"{subject} {operator} {env.lit(pattern)} ESCAPE '\\'"
    return f"{subject} {operator} ('%' || {_like_subject(env, right)} || '%') ESCAPE '\\'"


def scalar_compare(left: Lit | Col, op: str, right: Lit | Col) -> Render:
    if op in ("=", "!="):
        return lambda env: equality(env, left, op == "=", right)
    if op in ("~", "!~"):
        return lambda env: like(env, left, op == "~", right)
    if op in ORDER_OPS:
        return lambda env: ordering(env, left, op, right)
    raise FilterError(f"Unknown operator {op!r}.")
