"""The Lambda door for HTTP: the Emmett ASGI app wrapped by Mangum behind API Gateway (HTTP API v2).

Lambda resolves ``app.adapters.lambda_http.handler`` once per container, during its init phase:
that builds the app from the environment (``EMMETTBASE_SERVERLESS=1`` defaults: one pooled
database connection, data under /tmp). Nothing connects to the database until a request needs it.
"""

from __future__ import annotations

import os
from typing import Any

from mangum import Mangum

from ..asgi import ASGIApp


def build_handler(settings: Any = None, **ports: Any) -> Mangum:
    from .. import create_app
    from ..settings import Settings

    if settings is None:
        env = dict(os.environ)
        env.setdefault("EMMETTBASE_SERVERLESS", "1")
        settings = Settings.from_env(env)
    # settle: coroutine commit hooks finish before the handler returns, never in a later invocation
    return Mangum(ASGIApp(create_app(settings, **ports), settle=True), lifespan="off")


def __getattr__(name: str) -> Any:
    if name == "handler":
        value = build_handler()
        globals()["handler"] = value
        return value
    raise AttributeError(name)
