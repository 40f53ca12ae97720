"""Superuser accounts managed from outside the API (the CLI): create, update, upsert, delete by email."""

from __future__ import annotations

from typing import Any

from ..db.sql import where
from .collections.system import SUPERUSERS
from .errors import NotFound
from .records.service import RecordService
from .rules.context import RequestInfo

SYSTEM = RequestInfo(context="system")


def find_superuser(records: RecordService, email: str) -> dict[str, Any] | None:
    compiled = records.collection(SUPERUSERS)
    sql = where(compiled.table, compiled.columns["email"] == email)._select(
        compiled.id_column, limitby=(0, 1)
    )
    row = records.db.fetchone(sql)
    return {"id": row[0]} if row else None


def has_superusers(records: RecordService) -> bool:
    compiled = records.collection(SUPERUSERS)
    sql = where(compiled.table, compiled.id_column != "")._select(compiled.id_column, limitby=(0, 1))
    return records.db.fetchone(sql) is not None


def create_superuser(records: RecordService, email: str, password: str) -> dict[str, Any]:
    data = {"email": email, "password": password, "passwordConfirm": password}
    _, record = records.create(SUPERUSERS, data, SYSTEM)
    return record


def update_superuser(records: RecordService, email: str, password: str) -> dict[str, Any]:
    found = find_superuser(records, email)
    if found is None:
        raise NotFound(f"Superuser {email!r} not found.")
    _, record = records.update(
        SUPERUSERS, found["id"], {"password": password, "passwordConfirm": password}, SYSTEM
    )
    return record


def upsert_superuser(records: RecordService, email: str, password: str) -> dict[str, Any]:
    if find_superuser(records, email) is None:
        return create_superuser(records, email, password)
    return update_superuser(records, email, password)


def delete_superuser(records: RecordService, email: str) -> None:
    found = find_superuser(records, email)
    if found is None:
        raise NotFound(f"Superuser {email!r} not found.")
    records.delete(SUPERUSERS, found["id"], SYSTEM)
