"""The Lambda door for HTTP: the Emmett ASGI app wrapped by Mangum behind API Gateway (HTTP API v2).

Lambda resolves ``app.adapters.lambda_http.handler`` once per container, during its init phase:
that builds the app from the environment (``EMMETTBASE_SERVERLESS=1`` defaults: one pooled
database connection, data under /tmp). Nothing connects to the database until a request needs it.
The runtime comes from the composition root (``app.composition``) like every other entry point;
``create_app`` adds the HTTP layer on top.
"""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from ..asgi import ASGIApp


def build_handler(settings: Any = None, **ports: Any) -> Mangum:
    from .. import create_app
    from ..composition import lambda_settings

    # settle: coroutine commit hooks finish before the handler returns, never in a later invocation
    return Mangum(ASGIApp(create_app(settings or lambda_settings(), **ports), settle=True), lifespan="off")


def __getattr__(name: str) -> Any:
    if name == "handler":
        value = build_handler()
        globals()["handler"] = value
        return value
    raise AttributeError(name)
