"""From an ``Authorization`` header to an ``AuthState``: find the record, verify the token with its key.

One indexed lookup per authenticated request: the record must still exist and its current
``tokenKey`` must verify the signature, so revocation takes effect immediately.
"""

from __future__ import annotations

from ..core.collections.registry import Registry
from ..core.rules.context import AuthState
from ..db import Database
from .record_tokens import find_by_token, load_record

__all__ = ["load_auth", "load_record", "token_from_header"]


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
    found = find_by_token(db, registry, token, token_type)
    if found is None:
        return None
    compiled, record, claims = found
    return AuthState(collection=compiled, record=record, claims=claims)
