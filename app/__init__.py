"""EmmettBase: a PocketBase-compatible backend on Emmett, served locally or on AWS Lambda.

The composition root is ``app.composition`` (ports, their defaults, ``build_runtime``); ``create_app``
puts the HTTP layer on top of it. The local door and the Lambda door call ``create_app`` with
different settings (and, in tests, different ports); the CLI calls ``build_runtime`` alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .composition import Ports
    from .runtime import Runtime

__version__ = "0.1.0"


def build_runtime(settings: Settings, ports: Ports | None = None) -> Runtime:
    """The domain services without the HTTP layer: ``app.composition.build_runtime``."""
    from .composition import build_runtime as build

    return build(settings, ports)


def create_app(settings: Settings | None = None, **ports: Any) -> Any:
    """Build the Emmett app.

    ``ports`` replace the adapter chosen from settings (``app.composition.Ports``): ``db=`` a
    ``app.db.Database``, ``rate_limiter=`` a ``RateLimiter``, ``mail_transport=`` a ``MailTransport``,
    ``file_storage=`` a ``FileStorage``, ``change_sink=`` a ``ChangeSink`` (default: an in-process
    ``FanOutSink``).
    The returned app carries ``app.runtime`` (settings and adapters) and ``app.api_module`` (the
    Emmett module under ``/api`` whose pipe turns errors into PocketBase envelopes).
    """
    from .api import mount
    from .composition import build_runtime, default_ports
    from .web import new_emmett_app

    settings = settings or Settings.from_env()
    emmett_app = new_emmett_app()
    # Only the multipart limit is given to Emmett: its generic max_content_length check crashes on
    # Granian's RSGI headers (emmett-core 1.4.6); app.api.request enforces the body size itself.
    emmett_app.config.request_multipart_max_size = settings.max_body_size
    runtime = build_runtime(settings, default_ports(settings, emmett_app, **ports))
    if settings.offload_requests and not settings.serverless:
        from .api.offload import Offload

        # as many worker threads as pooled connections: each request's work holds at most one
        runtime.offload = Offload(settings.db_pool_size, settings.db_pool_timeout)
    emmett_app.runtime = runtime
    emmett_app.api_module = mount(emmett_app, runtime)
    return emmett_app
