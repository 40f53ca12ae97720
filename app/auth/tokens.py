"""Record tokens: HS256 JWTs signed with the record's ``tokenKey`` plus a per-collection secret.

Claims are PocketBase's ``{id, collectionId, type, exp}`` plus, per type, ``refreshable`` (auth),
``email`` (verification, passwordReset, emailChange) and ``newEmail`` (emailChange). Because the
key includes ``tokenKey``, rotating it (password or email change) revokes every token the record
had. Verification is strict (RELIABILITY.md AUTH-1/2): HS256 only, no key-selecting headers
(``kid``, ``jku``, ``jwk``, ``x5u``, ``x5c``), ``exp`` required, ``nbf`` honoured, any ``aud``
refused, and the ``type`` must be the one the caller expects.
"""

from __future__ import annotations

import time
from functools import lru_cache
from types import ModuleType
from typing import Any

ALGORITHM = "HS256"
#: Tokens remembered as parsed / verified (one process; a few hundred bytes each).
CACHE_SIZE = 4096
TOKEN_TYPES = ("auth", "file", "verification", "passwordReset", "emailChange")
# Headers that would let a token choose its own key or algorithm parameters.
_FORBIDDEN_HEADERS = frozenset({"kid", "jku", "jwk", "x5u", "x5c", "crit"})


def _jwt() -> ModuleType:
    """PyJWT, imported on first use: it loads ``cryptography`` (~40 ms) for algorithms we never
    accept, which a Lambda cold start serving an anonymous request should not pay for."""
    import jwt

    return jwt


class TokenError(Exception):
    """The token is malformed, expired, of the wrong type, or its signature does not verify."""


def signing_key(token_key: str, secret: str) -> str:
    return token_key + secret


def issue(
    record_id: str,
    collection_id: str,
    token_type: str,
    key: str,
    duration: int,
    refreshable: bool | None = None,
    **extra: Any,
) -> str:
    issued = int(time.time())
    claims: dict[str, Any] = {
        "collectionId": collection_id,
        "exp": issued + int(duration),
        "id": record_id,
        "type": token_type,
    }
    if refreshable is not None:
        claims["refreshable"] = refreshable
    claims.update(extra)
    return str(_jwt().encode(claims, key, algorithm=ALGORITHM))


def _check_header(header: dict[str, Any]) -> None:
    if header.get("alg") != ALGORITHM or _FORBIDDEN_HEADERS & set(header):
        raise TokenError("unsupported token header")


def peek(token: str) -> dict[str, Any]:
    """The claims without verifying the signature (to find which record and key to verify with)."""
    return dict(_parsed(token))


@lru_cache(maxsize=CACHE_SIZE)
def _parsed(token: str) -> dict[str, Any]:
    jwt = _jwt()
    try:
        decoded = jwt.api_jwt.decode_complete(
            token, options={"verify_signature": False}, algorithms=[ALGORITHM]
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from None
    _check_header(decoded["header"])
    claims = decoded["payload"]
    if not isinstance(claims.get("id"), str) or not isinstance(claims.get("collectionId"), str):
        raise TokenError("missing claims")
    return dict(claims)


def verify(token: str, key: str, token_type: str) -> dict[str, Any]:
    """The verified claims of a token of ``token_type`` signed with ``key``.

    A client sends the same token with every request: a successful verification is remembered
    for that exact token and key (a rotated ``tokenKey`` is another key, so revocation still
    applies at once), and only the time claims are checked again.
    """
    claims = _verified(token, key, token_type)
    now = time.time()
    if claims["exp"] <= now or claims.get("nbf", 0) > now:
        raise TokenError("expired or not yet valid")
    return dict(claims)


@lru_cache(maxsize=CACHE_SIZE)
def _verified(token: str, key: str, token_type: str) -> dict[str, Any]:
    jwt = _jwt()
    try:
        # No audience is expected: PyJWT then refuses any token that carries one.
        decoded = jwt.api_jwt.decode_complete(
            token, key, algorithms=[ALGORITHM], options={"require": ["exp"]}
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from None
    _check_header(decoded["header"])
    claims = decoded["payload"]
    if claims.get("type") != token_type:
        raise TokenError("wrong token type")
    if not isinstance(claims.get("exp"), int | float) or not isinstance(claims.get("nbf", 0), int | float):
        raise TokenError("invalid time claims")
    return dict(claims)
