"""Collection indexes: PocketBase's ``CREATE INDEX`` strings as a checked structure, rendered per engine.

A collection's ``indexes`` are SQL text in PocketBase's (SQLite's) syntax. They are never executed
as given: each is parsed into an ``IndexDef`` - name, unique, indexed items (a column or an
expression, optional ``COLLATE NOCASE``, direction) and an optional partial-index ``WHERE`` - whose
identifiers and types are checked against the collection's fields (``index_check``), then rendered
from the structure with quoted identifiers for the target engine (``render_index``).

Expressions are a small tree (``Col``, ``Lit``, ``Func``, ``Binary``, ``Not``, ``IsNull``, ``In``)
over an allow-list of deterministic functions (``FUNCTIONS``); nothing else can be expressed, so no
subquery, other table or side-effecting function can reach the DDL. Plain definitions (columns,
``COLLATE NOCASE``, ``ASC``/``DESC``, ``WHERE col != ''``: every system collection and the stored
canonical form of such indexes) are read by a regular expression; anything else goes through a
real SQL parser (sqlglot, ``index_parse``), imported only then so a cold start never pays for it.

On PostgreSQL ``COLLATE NOCASE`` becomes ``lower(expr)`` (a unique index then refuses values that
differ only in case, as NOCASE does; ``lower`` folds all of Unicode where NOCASE folds ASCII only)
and ``json_extract(col, '$.a.b')`` becomes ``(col #>> '{a,b}')`` (text on PostgreSQL, where SQLite
keeps the JSON value's type).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,62}"
NAME_RE = re.compile(rf"^{_NAME}$")
_IDENT = rf'(?:`({_NAME})`|"({_NAME})"|\[({_NAME})\]|({_NAME}))'
_INDEX_RE = re.compile(
    rf"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?{_IDENT}\s+ON\s+{_IDENT}\s*\(([^()]*)\)"
    rf"\s*(?:WHERE\s+([^()]*?))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COLUMN_RE = re.compile(rf"^\s*{_IDENT}\s*(COLLATE\s+NOCASE\s*)?(ASC|DESC)?\s*$", re.IGNORECASE)
_WHERE_RE = re.compile(rf"^\s*{_IDENT}\s*(?:!=|<>)\s*''\s*$", re.IGNORECASE)
#: json_extract paths: keys that are identifiers and array positions, at most 8 steps.
JSON_PATH_RE = re.compile(r"^\$(?:\.[A-Za-z_][A-Za-z0-9_]{0,62}|\[[0-9]{1,6}\]){1,8}$")
MAX_NODES = 64
MAX_TEXT = 4096
MAX_LITERAL = 1024


class IndexError_(ValueError):
    """The index text is outside the supported form."""


# -- the expression tree ----------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    name: str


@dataclass(frozen=True)
class Lit:
    value: str | int | float | bool | None


@dataclass(frozen=True)
class Func:
    name: str  # a key of FUNCTIONS
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Binary:
    op: str  # one of COMPARISONS or "AND" / "OR"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class IsNull:
    operand: Expr
    negated: bool = False


@dataclass(frozen=True)
class In:
    operand: Expr
    items: tuple[Lit, ...]
    negated: bool = False


Expr = Union[Col, Lit, Func, Binary, Not, IsNull, In]  # noqa: UP007 (a runtime alias)

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
#: Allowed functions -> (argument kinds, result kind). All are deterministic on both engines
#: (PostgreSQL requires IMMUTABLE functions in indexes).
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "lower": (("text",), "text"),
    "upper": (("text",), "text"),
    "trim": (("text",), "text"),
    "ltrim": (("text",), "text"),
    "rtrim": (("text",), "text"),
    "length": (("text",), "number"),
    "json_extract": (("json", "path"), "text"),
}


@dataclass(frozen=True)
class IndexColumn:
    expr: Expr
    nocase: bool = False
    desc: bool = False

    @property
    def name(self) -> str:
        """The column's name when the item is a plain column, else ``""``."""
        return self.expr.name if isinstance(self.expr, Col) else ""


@dataclass(frozen=True)
class IndexDef:
    name: str
    table: str
    unique: bool
    columns: tuple[IndexColumn, ...]
    where: Expr | None = None

    def identifiers(self) -> list[str]:
        """Every column name the index refers to, in order of appearance."""
        found: list[str] = []
        for node in (*(c.expr for c in self.columns), *([self.where] if self.where else [])):
            _walk(node, lambda n: found.append(n.name) if isinstance(n, Col) else None)
        return found


def _walk(node: Expr, visit: Callable[[Expr], object]) -> int:
    """Call ``visit`` on every node; returns the number of nodes."""
    visit(node)
    children: tuple[Expr, ...] = ()
    if isinstance(node, Func):
        children = node.args
    elif isinstance(node, Binary):
        children = (node.left, node.right)
    elif isinstance(node, Not | IsNull):
        children = (node.operand,)
    elif isinstance(node, In):
        children = (node.operand, *node.items)
    return 1 + sum(_walk(child, visit) for child in children)


# -- parsing ----------------------------------------------------------------------------------


def _ident(groups: tuple[str | None, ...]) -> str:
    return next(g for g in groups if g)


def parse_index(text: str) -> IndexDef:
    """The ``IndexDef`` of ``text``; ``IndexError_`` when it is not a plain index definition."""
    if not isinstance(text, str) or not text.strip():
        raise IndexError_("Invalid CREATE INDEX statement.")
    if len(text) > MAX_TEXT:
        raise IndexError_(f"An index definition is at most {MAX_TEXT} characters.")
    return _parse(text)


@lru_cache(maxsize=256)
def _parse(text: str) -> IndexDef:
    # Cached: identity lookups and DDL re-read the same stored texts (an IndexDef is immutable).
    simple = _parse_simple(text)
    if simple is not None:
        return simple
    from .index_parse import parse_with_sqlglot  # the SQL parser: only for expression indexes

    index = parse_with_sqlglot(text)
    if sum(_walk(n, lambda _n: None) for n in _roots(index)) > MAX_NODES:
        raise IndexError_(f"The index expression is too complex (at most {MAX_NODES} terms).")
    return index


def _roots(index: IndexDef) -> list[Expr]:
    return [c.expr for c in index.columns] + ([index.where] if index.where is not None else [])


def _parse_simple(text: str) -> IndexDef | None:
    match = _INDEX_RE.match(text)
    if not match:
        return None
    groups = match.groups()
    columns: list[IndexColumn] = []
    for part in groups[9].split(","):
        column = _COLUMN_RE.match(part)
        if not column:
            return None
        cgroups = column.groups()
        desc = (cgroups[5] or "").upper() == "DESC"
        columns.append(IndexColumn(Col(_ident(cgroups[0:4])), nocase=bool(cgroups[4]), desc=desc))
    where: Expr | None = None
    if groups[10]:
        condition = _WHERE_RE.match(groups[10])
        if not condition:
            return None
        where = Binary("!=", Col(_ident(condition.groups())), Lit(""))
    name, table = _ident(groups[1:5]), _ident(groups[5:9])
    return IndexDef(name=name, table=table, unique=bool(groups[0]), columns=tuple(columns), where=where)


# -- rendering --------------------------------------------------------------------------------


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _backtick(name: str) -> str:
    return "`" + name + "`"  # names are checked identifiers (NAME_RE)


Ident = Callable[[str], str]


def render_expr(node: Expr, dialect: str, ident: Ident = quote) -> str:
    """SQL for ``node``: ``dialect`` is "sqlite" or "postgres" (``"pocketbase"`` for the stored
    text, SQLite syntax with backticks)."""

    def sql(n: Expr) -> str:
        if isinstance(n, Col):
            return ident(n.name)
        if isinstance(n, Lit):
            return _render_literal(n.value)
        if isinstance(n, Func):
            if n.name == "json_extract" and dialect == "postgres":
                path = str(n.args[1].value)  # type: ignore[union-attr]
                steps = re.findall(r"\.([A-Za-z0-9_]+)|\[([0-9]+)\]", path)
                return f"({sql(n.args[0])} #>> '{{{','.join(key or pos for key, pos in steps)}}}')"
            return f"{n.name}({', '.join(sql(a) for a in n.args)})"
        if isinstance(n, Binary):
            return f"({sql(n.left)} {n.op} {sql(n.right)})"
        if isinstance(n, Not):
            return f"(NOT {sql(n.operand)})"
        if isinstance(n, IsNull):
            return f"({sql(n.operand)} IS {'NOT ' if n.negated else ''}NULL)"
        items = ", ".join(sql(item) for item in n.items)
        return f"({sql(n.operand)} {'NOT ' if n.negated else ''}IN ({items}))"

    return sql(node)


def _render_literal(value: str | int | float | bool | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _item(column: IndexColumn, dialect: str, ident: Ident) -> str:
    expr = render_expr(column.expr, dialect, ident)
    if column.nocase:
        expr = f"lower({expr})" if dialect == "postgres" else f"{expr} COLLATE NOCASE"
    return expr + (" DESC" if column.desc else "")


def _where(condition: Expr, dialect: str, ident: Ident) -> str:
    text = render_expr(condition, dialect, ident)
    if isinstance(condition, Binary | Not | IsNull | In):
        text = text[1:-1]  # the outermost parentheses are the WHERE's own
    return f" WHERE {text}"


def render_index(index: IndexDef, table: str, dialect: str) -> str:
    """SQL for ``index`` on ``table`` (the collection's current name) in ``dialect``."""
    items = ", ".join(_item(c, dialect, quote) for c in index.columns)
    unique = "UNIQUE " if index.unique else ""
    sql = f"CREATE {unique}INDEX {quote(index.name)} ON {quote(table)} ({items})"
    if index.where is not None:
        sql += _where(index.where, dialect, quote)
    return sql


def format_index(index: IndexDef, table: str) -> str:
    """The PocketBase-style text stored in the collection definition (SQLite syntax, backticks)."""
    items = ", ".join(_item(c, "sqlite", _backtick) for c in index.columns)
    text = f"CREATE {'UNIQUE ' if index.unique else ''}INDEX `{index.name}` ON `{table}` ({items})"
    if index.where is not None:
        text += _where(index.where, "sqlite", _backtick)
    return text


def unique_column(indexes: list[str], name: str) -> IndexColumn | None:
    """The column of a single-column UNIQUE index on ``name`` among ``indexes`` (PocketBase's
    requirement for identity fields), or None."""
    for text in indexes:
        try:
            index = parse_index(text)
        except IndexError_:
            continue
        if index.unique and len(index.columns) == 1 and index.columns[0].name == name:
            return index.columns[0]
    return None
