"""The HTTP API: thin Emmett route modules over the domain, all under one error/CORS pipe.

``mount(app, runtime)`` registers every endpoint group. Handlers only translate HTTP to calls of
``app.core`` and back; they never decide access or format errors themselves.
"""

from __future__ import annotations

from typing import Any

from emmett import current

from ..core.errors import ApiError, InternalError, NotFound
from ..runtime import Runtime
from . import auth, auth_flows, batch, collections, health, mail_test, oauth2, records, settings
from .cors import Cors
from .pipes import ApiPipe
from .responses import JSON_TYPE, SECURITY_HEADERS, empty_response, json_bytes


def mount(app: Any, runtime: Runtime) -> Any:
    """Register every endpoint group; returns the ``/api`` module (its pipe wraps each route)."""
    cors = Cors(runtime.settings.origins)
    api = app.module(__name__, "api", url_prefix="/api", pipeline=[ApiPipe(cors, runtime)])
    health.mount(api)
    collections.mount(api, runtime)
    records.mount(api, runtime)
    auth.mount(api, runtime)
    oauth2.mount(api, runtime)
    auth_flows.mount(api, runtime)
    batch.mount(api, runtime)
    settings.mount(api, runtime)
    mail_test.mount(api, runtime)
    _mount_preflight(app, cors)
    _mount_fallback_errors(app, cors)
    return api


def _mount_preflight(app: Any, cors: Cors) -> None:
    @app.route("/<any:path>", name="preflight", methods=["options"], output="http")
    async def preflight(path: str) -> Any:
        headers = current.request.headers
        return empty_response(
            204, cors.preflight_headers(headers.get("origin"), headers.get("access-control-request-headers"))
        )


def _mount_fallback_errors(app: Any, cors: Cors) -> None:
    """Errors raised outside the API pipe (no route matched, a crash in Emmett) keep the envelope."""

    def render(error: ApiError) -> str:
        headers = current.response.headers
        for key, value in SECURITY_HEADERS.items():
            headers[key] = value
        headers["content-type"] = JSON_TYPE
        cors.apply(current.request.headers.get("origin"), headers._data)
        return json_bytes(error.envelope()).decode()

    @app.on_error(404)
    async def not_found() -> str:
        return render(NotFound())

    @app.on_error(500)
    async def internal_error() -> str:
        return render(InternalError())
