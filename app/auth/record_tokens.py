"""Tokens of auth records: which secret signs which token type, issuing, and finding the record a
token belongs to.

The signing key of every token is the record's ``tokenKey`` plus the collection's secret for that
token type (PocketBase's scheme), so rotating ``tokenKey`` revokes them all at once. Auth tokens
also carry ``auth_time`` (when the user actually signed in, kept across refreshes), so refreshing
stops after the collection's ``authToken.maxLifetime`` (RELIABILITY.md AUTH-4).
"""

from __future__ import annotations

import time
from typing import Any

from ..core.collections.auth_options import token_duration, token_secret
from ..db import Database
from . import tokens

SECRET_OPTION = {
    "auth": "authToken",
    "file": "fileToken",
    "verification": "verificationToken",
    "passwordReset": "passwordResetToken",
    "emailChange": "emailChangeToken",
}
#: How long a sign-in can be kept alive by refreshing, unless the collection says otherwise.
DEFAULT_MAX_LIFETIME = 30 * 24 * 3600


def _key(compiled: Any, record: dict[str, Any], token_type: str) -> str:
    secret = token_secret(compiled.collection.options, SECRET_OPTION[token_type])
    return tokens.signing_key(str(record.get("tokenKey") or ""), secret)


def new_token(
    compiled: Any, record: dict[str, Any], token_type: str, duration: int = 0, **claims: Any
) -> str:
    """A token of ``token_type`` for ``record``; ``duration`` 0 means the collection's setting."""
    lifetime = duration or token_duration(compiled.collection.options, SECRET_OPTION[token_type])
    return tokens.issue(
        str(record["id"]), compiled.id, token_type, _key(compiled, record, token_type), lifetime, **claims
    )


def new_auth_token(
    compiled: Any,
    record: dict[str, Any],
    refreshable: bool = True,
    duration: int = 0,
    auth_time: int | None = None,
) -> str:
    return new_token(
        compiled,
        record,
        "auth",
        duration,
        refreshable=refreshable,
        auth_time=int(time.time()) if auth_time is None else auth_time,
    )


def max_lifetime(compiled: Any) -> int:
    value = (compiled.collection.options.get("authToken") or {}).get("maxLifetime")
    return int(value) if isinstance(value, int | float) and value > 0 else DEFAULT_MAX_LIFETIME


def auth_time(compiled: Any, claims: dict[str, Any]) -> int:
    """When the sign-in behind an auth token happened (older tokens: derived from ``exp``)."""
    value = claims.get("auth_time")
    if isinstance(value, int):
        return value
    return int(claims.get("exp", 0)) - token_duration(compiled.collection.options, "authToken")


def find_by_token(
    db: Database, registry: Any, token: str, token_type: str
) -> tuple[Any, dict[str, Any], dict[str, Any]] | None:
    """(compiled collection, record, verified claims) for a valid token of ``token_type``."""
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
    try:
        verified = tokens.verify(token, _key(compiled, record, token_type), token_type)
    except tokens.TokenError:
        return None
    return compiled, record, verified


def load_record(db: Database, compiled: Any, record_id: str) -> dict[str, Any] | None:
    if not record_id or len(record_id) > 255 or "\x00" in record_id:
        return None
    row = db.fetchone(compiled.load_sql, (record_id,))
    return compiled.row_to_python(row, compiled.collection.fields) if row else None
