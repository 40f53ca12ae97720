"""EmmettBase: a PocketBase-compatible backend on Emmett, served locally or on AWS Lambda.

``create_app`` is the composition root and the only place where adapters are chosen: the local
door and the Lambda door call it with different settings (and, in tests, different ports).
"""

from __future__ import annotations

from typing import Any

from .settings import Settings

__version__ = "0.1.0"


def build_runtime(settings: Settings, emmett_app: Any = None, **ports: Any) -> Any:
    """The domain services over the chosen adapters, without the HTTP layer (used by the CLI)."""
    from .db import Database
    from .mail.background import BackgroundMail
    from .mail.mailer import Mailer
    from .ratelimit import default_limiter
    from .runtime import Runtime
    from .web import new_emmett_app

    emmett_app = emmett_app or new_emmett_app()
    db = ports.pop("db", None) or Database.from_settings(settings, emmett_app)
    rate_limiter = ports.pop("rate_limiter", None) or default_limiter(settings)
    mail_transport = ports.pop("mail_transport", None)
    if ports:
        raise TypeError(f"unknown ports: {', '.join(sorted(ports))}")
    runtime = Runtime(settings=settings, db=db, rate_limiter=rate_limiter)
    runtime.mailer = Mailer(settings, runtime.app_settings, mail_transport)
    runtime.mail_queue = BackgroundMail(runtime.mailer, inline=settings.serverless)
    if settings.modules:
        from .modules import load_modules

        load_modules(runtime)
    return runtime


def create_app(settings: Settings | None = None, **ports: Any) -> Any:
    """Build the Emmett app.

    ``ports`` replace the adapter chosen from settings: ``db=`` a ``app.db.Database``,
    ``rate_limiter=`` a ``app.ratelimit.RateLimiter``, ``mail_transport=`` a ``app.mail.MailTransport``.
    The returned app carries ``app.runtime`` (settings and adapters) and ``app.api_module`` (the
    Emmett module under ``/api`` whose pipe turns errors into PocketBase envelopes).
    """
    from .api import mount
    from .web import new_emmett_app

    settings = settings or Settings.from_env()
    emmett_app = new_emmett_app()
    # Only the multipart limit is given to Emmett: its generic max_content_length check crashes on
    # Granian's RSGI headers (emmett-core 1.4.6); app.api.request enforces the body size itself.
    emmett_app.config.request_multipart_max_size = settings.max_body_size
    runtime = build_runtime(settings, emmett_app, **ports)
    if not settings.serverless:
        from .api.offload import Offload

        # as many worker threads as pooled connections: each request's work holds at most one
        runtime.offload = Offload(settings.db_pool_size, settings.db_pool_timeout)
    emmett_app.runtime = runtime
    emmett_app.api_module = mount(emmett_app, runtime)
    return emmett_app
