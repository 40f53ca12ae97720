"""Collection indexes: parse PocketBase's ``CREATE INDEX`` strings into a structure, render them back.

A collection's ``indexes`` are SQL text in PocketBase's format. They are never executed as given:
each is parsed into an ``IndexDef`` (name, unique, columns with optional ``COLLATE NOCASE`` and
direction, and at most a ``WHERE <column> != ''`` condition) whose parts are checked against the
schema, then rendered with quoted identifiers for the target dialect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,62}"
_IDENT = rf'(?:`({_NAME})`|"({_NAME})"|\[({_NAME})\]|({_NAME}))'
_INDEX_RE = re.compile(
    rf"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?{_IDENT}\s+ON\s+{_IDENT}\s*\((.*?)\)"
    rf"\s*(?:WHERE\s+(.*?))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COLUMN_RE = re.compile(rf"^\s*{_IDENT}\s*(COLLATE\s+NOCASE\s*)?(ASC|DESC)?\s*$", re.IGNORECASE)
_WHERE_RE = re.compile(rf"^\s*{_IDENT}\s*(?:!=|<>)\s*''\s*$", re.IGNORECASE)


class IndexError_(ValueError):
    """The index text is outside the supported form."""


@dataclass(frozen=True)
class IndexColumn:
    name: str
    nocase: bool = False
    desc: bool = False


@dataclass(frozen=True)
class IndexDef:
    name: str
    table: str
    unique: bool
    columns: tuple[IndexColumn, ...]
    where_not_empty: str | None = None


def _ident(groups: tuple[str | None, ...]) -> str:
    return next(g for g in groups if g)


def parse_index(text: str) -> IndexDef:
    match = _INDEX_RE.match(text or "")
    if not match:
        raise IndexError_("Invalid CREATE INDEX statement.")
    groups = match.groups()
    unique = bool(groups[0])
    name = _ident(groups[1:5])
    table = _ident(groups[5:9])
    columns: list[IndexColumn] = []
    for part in _split_columns(groups[9]):
        column = _COLUMN_RE.match(part)
        if not column:
            raise IndexError_(f"Unsupported index column expression {part.strip()!r}.")
        cgroups = column.groups()
        columns.append(
            IndexColumn(
                _ident(cgroups[0:4]), nocase=bool(cgroups[4]), desc=(cgroups[5] or "").upper() == "DESC"
            )
        )
    if not columns:
        raise IndexError_("The index has no columns.")
    where = None
    if groups[10]:
        condition = _WHERE_RE.match(groups[10])
        if not condition:
            raise IndexError_("Only WHERE <column> != '' conditions are supported.")
        where = _ident(condition.groups())
    return IndexDef(name=name, table=table, unique=unique, columns=tuple(columns), where_not_empty=where)


def _split_columns(body: str) -> list[str]:
    if "(" in body or ")" in body:
        raise IndexError_("Expressions are not supported in index columns.")
    return [part for part in body.split(",")]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def render_index(index: IndexDef, table: str, dialect: str) -> str:
    """SQL for ``index`` on ``table`` (the collection's current name) in ``dialect``."""
    parts = []
    for column in index.columns:
        if column.nocase:
            expr = (
                f"{quote(column.name)} COLLATE NOCASE"
                if dialect == "sqlite"
                else f"lower({quote(column.name)})"
            )
        else:
            expr = quote(column.name)
        parts.append(expr + (" DESC" if column.desc else ""))
    unique = "UNIQUE " if index.unique else ""
    sql = f"CREATE {unique}INDEX {quote(index.name)} ON {quote(table)} ({', '.join(parts)})"
    if index.where_not_empty:
        sql += f" WHERE {quote(index.where_not_empty)} != ''"
    return sql


def format_index(index: IndexDef, table: str) -> str:
    """The PocketBase-style text stored in the collection definition."""
    cols = ", ".join(
        f"`{c.name}`" + (" COLLATE NOCASE" if c.nocase else "") + (" DESC" if c.desc else "")
        for c in index.columns
    )
    text = f"CREATE {'UNIQUE ' if index.unique else ''}INDEX `{index.name}` ON `{table}` ({cols})"
    if index.where_not_empty:
        text += f" WHERE `{index.where_not_empty}` != ''"
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
