"""Record tokens: HS256 JWTs signed with the record's ``tokenKey`` plus a per-collection secret.

Claims are PocketBase's ``{id, collectionId, type, refreshable, exp}``. Because the key includes
``tokenKey``, rotating it (password or email change) revokes every token the record had. Only HS256
is accepted, and the token ``type`` must match what the caller expects.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

ALGORITHM = "HS256"


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
    claims: dict[str, Any] = {
        "collectionId": collection_id,
        "exp": int(time.time()) + int(duration),
        "id": record_id,
        "type": token_type,
    }
    if refreshable is not None:
        claims["refreshable"] = refreshable
    claims.update(extra)
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def peek(token: str) -> dict[str, Any]:
    """The claims without verifying the signature (to find which record and key to verify with)."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenError("unsupported algorithm")
        claims = jwt.decode(token, options={"verify_signature": False}, algorithms=[ALGORITHM])
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from None
    if not isinstance(claims.get("id"), str) or not isinstance(claims.get("collectionId"), str):
        raise TokenError("missing claims")
    return claims


def verify(token: str, key: str, token_type: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from None
    if claims.get("type") != token_type:
        raise TokenError("wrong token type")
    return dict(claims)
