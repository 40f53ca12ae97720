"""The pipe every API route runs in: paths the router matched only loosely are refused, rate
limits are applied, errors become PocketBase envelopes, CORS headers are added.

On the local door it is also the request's one offload hop (``app.api.offload``): the body is
received on the event loop, then everything that may touch the database — the rate-limit check
(it loads the auth), the handler and its retries, the error envelope — runs as one unit on a
worker thread; the response goes back to the loop to be written. On Lambda it all runs inline.

It is the one place where an exception turns into a status code, so no handler formats errors
itself and no stack trace, SQL or secret reaches a client outside ``--dev`` (RELIABILITY.md VAL-4).
"""

from __future__ import annotations

import asyncio
import logging
import random
from functools import partial
from typing import Any

from emmett import current
from emmett.pipeline import Pipe
from emmett_core.http.response import HTTPResponse

from ..core.errors import (
    GENERIC_MESSAGE,
    ApiError,
    InternalError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from ..db.errors import DatabaseUnavailable, SchemaMismatch
from ..tools import effects
from .cors import Cors
from .offload import run_coroutine
from .ratelimit import RateLimitGuard, guard_for
from .request import prefetch_body
from .responses import error_response

log = logging.getLogger("emmettbase.api")

#: Attempts of a request that meets a stale schema (other processes renaming fields in a loop):
#: each one reloads the schema first. When they run out the client gets a 503 to retry later.
SCHEMA_ATTEMPTS = 5
#: Upper bound of the random pause before retry n (times n), in seconds: a writer that queued
#: behind a schema change on the writer lock would otherwise meet the next change in lockstep.
SCHEMA_RETRY_JITTER = 0.01

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
        log.warning("database unavailable: %s%s", exc, f" ({exc.__cause__})" if exc.__cause__ else "")
        return ServiceUnavailable(getattr(exc, "public_message", None), retry_after=exc.retry_after)
    if isinstance(exc, SchemaMismatch):
        # The schema kept changing under the request (or changed after it took effect): nothing
        # is wrong with the request itself, so it is a retry-later, never a 500.
        log.warning("schema changed under a request: %s", exc)
        return ServiceUnavailable(retry_after=1)
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
        #: ``app.api.offload.Offload`` on the local door, None on Lambda (inline)
        self.offload = getattr(runtime, "offload", None)
        self.max_body = runtime.settings.max_body_size

    # ``pipe_request``, not ``pipe``: Emmett runs a ``pipe`` for websocket routes as well, where
    # there is no request to answer and no JSON envelope to give; websocket routes under /api
    # (realtime) bypass this pipe and own their protocol.
    async def pipe_request(self, next_pipe: Any, **kwargs: Any) -> HTTPResponse:
        offload = self.offload
        if offload is None:
            response = await self._handle(next_pipe, kwargs)
        else:
            try:
                await prefetch_body(self.max_body)
                response = await offload.run(partial(self._handle_on_thread, next_pipe, kwargs))
            except Exception as exc:  # no free thread in time (503), or the body's error
                response = error_response(to_api_error(exc, self.dev))
        self.cors.apply(current.request.headers.get("origin"), response._headers)
        return response

    def _handle_on_thread(self, next_pipe: Any, kwargs: dict[str, Any]) -> HTTPResponse:
        return run_coroutine(self._handle(next_pipe, kwargs))

    async def _handle(self, next_pipe: Any, kwargs: dict[str, Any]) -> HTTPResponse:
        """The request's work, answered in the envelope whatever goes wrong."""
        if self.registry is not None:
            self.registry.begin_request()
        try:
            request = current.request
            if request.path.endswith("/"):
                # Emmett's router strips trailing slashes before matching; PocketBase's does not,
                # and no API route ends in one: ``/api/health/`` is a 404 there, so it is here.
                raise NotFound()
            guard = self.rate_limit
            if guard is not None:
                # Before the handler (and outside its schema-reload retry): a refused request costs
                # no work, and a retried one is counted once. Its labels come from the route
                # matched and its arguments, so a path reaches a handler only counted as its route.
                guard.check(request.name, kwargs)
            response = await self._run(next_pipe, kwargs)
        except Exception as exc:
            response = error_response(to_api_error(exc, self.dev))
        return response

    async def _run(self, next_pipe: Any, kwargs: dict[str, Any]) -> HTTPResponse:
        """The handler, run again after a schema reload when it met a stale schema (another
        process changed it since our cache was checked) and nothing has taken effect yet: write
        transactions find a stale schema right after BEGIN (the schema fence), before any hook
        ran, so a retry never repeats a hook, a mail or a commit. Rate limits were counted before."""
        registry = self.registry
        for attempt in range(1, SCHEMA_ATTEMPTS + 1):
            done = effects.track()
            try:
                return await next_pipe(**kwargs)
            except SchemaMismatch:
                if registry is None:
                    raise
                registry.invalidate()
                if done[0] or attempt == SCHEMA_ATTEMPTS:
                    raise  # answered 503 by to_api_error: retrying here could repeat an effect
                registry.begin_request()
                await asyncio.sleep(random.uniform(0, SCHEMA_RETRY_JITTER * attempt))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover
