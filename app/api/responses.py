"""Response builders: JSON (orjson), empty, and the error envelope, each with PocketBase's headers.

Handlers return these ``HTTPResponse`` objects directly (routes use Emmett's ``http`` output), so no
per-request serialization layer sits between a handler and the wire.
"""

from __future__ import annotations

from typing import Any

import orjson
from emmett_core.http.response import HTTPBytesResponse, HTTPResponse

from ..core.errors import ApiError

JSON_TYPE = "application/json"

#: Sent on every response, as PocketBase 0.40 does.
SECURITY_HEADERS: dict[str, str] = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "x-xss-protection": "1; mode=block",
    "cross-origin-opener-policy": "same-origin",
}

_JSON_HEADERS = {**SECURITY_HEADERS, "content-type": JSON_TYPE}


def json_bytes(payload: Any) -> bytes:
    return orjson.dumps(payload)


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None, sort_keys: bool = False
) -> HTTPResponse:
    """``payload`` as JSON; ``sort_keys`` re-sorts keys (PocketBase sorts record keys, and ``expand``
    objects are added after a record's own keys)."""
    merged = {**_JSON_HEADERS, **headers} if headers else dict(_JSON_HEADERS)
    body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS) if sort_keys else orjson.dumps(payload)
    return HTTPBytesResponse(status, body, headers=merged)


def raw_json_response(body: bytes, status: int = 200) -> HTTPResponse:
    """A JSON body that is already serialized."""
    return HTTPBytesResponse(status, body, headers=dict(_JSON_HEADERS))


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> HTTPResponse:
    merged = {**SECURITY_HEADERS, **headers} if headers else dict(SECURITY_HEADERS)
    return HTTPResponse(status, headers=merged)


def error_response(error: ApiError) -> HTTPResponse:
    return json_response(error.envelope(), error.status, error.headers or None)
