"""The pipe every API route runs in: rate limits are applied, errors become PocketBase envelopes,
CORS headers are added.

It is the one place where an exception turns into a status code, so no handler formats errors
itself and no stack trace, SQL or secret reaches a client outside ``--dev`` (RELIABILITY.md VAL-4).
"""

from __future__ import annotations

import logging
from typing import Any

from emmett import current
from emmett.pipeline import Pipe
from emmett_core.http.response import HTTPResponse

from ..core.errors import GENERIC_MESSAGE, ApiError, InternalError, PayloadTooLarge, ServiceUnavailable
from ..db.errors import DatabaseUnavailable, SchemaMismatch
from .cors import Cors
from .ratelimit import RateLimitGuard, guard_for
from .responses import error_response

log = logging.getLogger("emmettbase.api")

_EMMETT_STATUS_MESSAGES = {
    400: "Failed to load the submitted data due to invalid formatting.",
    408: "Request timeout.",
    413: PayloadTooLarge.default_message,
}


def to_api_error(exc: BaseException, dev: bool) -> ApiError:
    """Map any exception a handler let through to the ApiError the client will see."""
    if isinstance(exc, ApiError):
        if dev and exc.detail and exc.detail not in exc.message:
            exc.message = f"{exc.message} ({exc.detail})"
        return exc
    if isinstance(exc, DatabaseUnavailable):
        log.warning("database unavailable: %s", exc)
        return ServiceUnavailable(getattr(exc, "public_message", None), retry_after=exc.retry_after)
    if isinstance(exc, HTTPResponse):
        # Emmett raises bare HTTP responses for framing problems (bad multipart, oversized body).
        status = exc.status_code if exc.status_code >= 400 else 400
        error = ApiError(_EMMETT_STATUS_MESSAGES.get(status, GENERIC_MESSAGE))
        error.status = status
        return error
    log.exception("unhandled error while serving %s", _describe_request())
    return InternalError(f"{GENERIC_MESSAGE} ({type(exc).__name__}: {exc})" if dev else None)


def _describe_request() -> str:
    try:
        request = current.request
        return f"{request.method} {request.path}"
    except Exception:
        return "a request"


class ApiPipe(Pipe):
    """Wraps every API handler; handlers return finished ``HTTPResponse`` objects."""

    output = "http"

    def __init__(self, cors: Cors, runtime: Any):
        self.cors = cors
        self.dev = bool(runtime.settings.dev)
        self.registry = runtime.registry
        self.rate_limit: RateLimitGuard | None = guard_for(runtime) if runtime.rate_limiter else None

    async def pipe(self, next_pipe: Any, **kwargs: Any) -> HTTPResponse:
        if self.registry is not None:
            self.registry.begin_request()
        try:
            guard = self.rate_limit
            if guard is not None:
                # Before the handler (and outside its schema-reload retry): a refused request costs
                # no work, and a retried one is counted once.
                guard.check()
            try:
                response = await next_pipe(**kwargs)
            except SchemaMismatch:
                # Another process changed the schema since our cache was checked: reload, retry once.
                if self.registry is None:
                    raise
                self.registry.invalidate()
                response = await next_pipe(**kwargs)
        except Exception as exc:
            response = error_response(to_api_error(exc, self.dev))
        self.cors.apply(current.request.headers.get("origin"), response._headers)
        return response
