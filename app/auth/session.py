"""From an ``Authorization`` header to an ``AuthState``: find the record, verify the token with its key.

One indexed lookup per authenticated request: the record must still exist and its current
``tokenKey`` must verify the signature, so revocation takes effect immediately.
"""

from __future__ import annotations

from typing import Any

from ..core.collections.auth_options import token_secret
from ..core.collections.registry import Registry
from ..core.rules.context import AuthState
from ..db import Database
from ..db.sql import where
from . import tokens


def token_from_header(value: str | None) -> str:
    if not value:
        return ""
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value


def load_auth(
    db: Database,
    registry: Registry,
    token: str,
    token_type: str = "auth",  # noqa: S107 - a token type, not a secret
) -> AuthState | None:
    """The auth state for a valid token of ``token_type``; None when missing or invalid."""
    if not token or len(token) > 4096:
        return None
    try:
        claims = tokens.peek(token)
    except tokens.TokenError:
        return None
    compiled = registry.get(claims["collectionId"])
    if compiled is None or not compiled.collection.is_auth or compiled.id != claims["collectionId"]:
        return None
    record = load_record(db, compiled, claims["id"])
    if record is None:
        return None
    secret_key = {"auth": "authToken", "file": "fileToken"}.get(token_type, token_type)
    key = tokens.signing_key(
        str(record.get("tokenKey", "")), token_secret(compiled.collection.options, secret_key)
    )
    try:
        tokens.verify(token, key, token_type)
    except tokens.TokenError:
        return None
    return AuthState(collection=compiled, record=record)


def load_record(db: Database, compiled: Any, record_id: str) -> dict[str, Any] | None:
    if not record_id or len(record_id) > 255 or "\x00" in record_id:
        return None
    sql = where(compiled.table, compiled.id_column == record_id)._select(*compiled.all_columns)
    row = db.fetchone(sql)
    return compiled.row_to_python(row, compiled.collection.fields) if row else None
