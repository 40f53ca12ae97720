"""Finding an auth record by an identity value (email, username, ...), as PocketBase does.

A field can identify a record only when it has a single-column UNIQUE index; when that index
column is ``COLLATE NOCASE`` the match ignores ASCII case (``lower()`` on PostgreSQL, where the
index is built on ``lower(column)`` too), otherwise it is exact.
"""

from __future__ import annotations

from typing import Any

from ..core.collections import indexes
from ..core.collections.fields.text import EMAIL_RE
from ..core.collections.indexes import IndexColumn
from ..db import Database
from ..db.sql import where

MAX_IDENTITY_LENGTH = 255


def unique_column(compiled: Any, name: str) -> IndexColumn | None:
    """The single-column unique index column of field ``name``, if the collection has one."""
    return indexes.unique_column(compiled.collection.indexes, name)


def find_by_field(db: Database, compiled: Any, name: str, value: str) -> dict[str, Any] | None:
    if not value or len(value) > MAX_IDENTITY_LENGTH or "\x00" in value or name not in compiled.fields:
        return None
    column = unique_column(compiled, name)
    if column is None:
        return None
    target = compiled.columns[name]
    query = target.lower() == value.lower() if column.nocase else target == value
    sql = where(compiled.table, query)._select(*compiled.all_columns, limitby=(0, 1))
    row = db.fetchone(sql)
    return compiled.row_to_python(row, compiled.collection.fields) if row else None


def find_by_email(db: Database, compiled: Any, email: str) -> dict[str, Any] | None:
    return find_by_field(db, compiled, "email", email)


def is_email(value: Any) -> bool:
    """The email format record fields accept (so a lookup can skip values that cannot match)."""
    return isinstance(value, str) and len(value) <= MAX_IDENTITY_LENGTH and bool(EMAIL_RE.match(value))
