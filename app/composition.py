"""The composition root: the runtime's ports, their default implementations, and ``build_runtime``.

Every entry point builds its runtime here: the local server and the HTTP Lambda (through
``app.create_app``, which adds the HTTP layer on top), the CLI, and the coming WebSocket, stream and
migration Lambdas. Nothing here imports the HTTP layer (``app.api``), so a caller that needs only
the domain (the CLI's database commands, a stream consumer) never loads routes; an import-linter
contract in pyproject.toml keeps it so.

A port is a Protocol declared by the layer that consumes it: ``RateLimiter`` in
``app.auth.rate_limiter``, ``MailTransport`` in ``app.mail`` (its consumer is the ``Mailer``),
``FileStorage`` in ``app.core.files``, ``ChangeSink`` in ``app.core.events``. The database is the
concrete ``app.db.Database`` (pyDAL builds its SQL; tests give one on their own database).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .auth.rate_limiter import RateLimiter
    from .core.events import ChangeSink
    from .core.files import FileStorage
    from .db import Database
    from .mail import MailTransport
    from .runtime import Runtime


@dataclass
class Ports:
    """The adapters a runtime runs on; ``default_ports`` chooses them from the settings."""

    db: Database
    rate_limiter: RateLimiter
    file_storage: FileStorage
    #: None: the ``Mailer`` picks SMTP, SES or .eml files per message from the current settings.
    mail_transport: MailTransport | None = None
    #: None: an in-process ``FanOutSink`` (realtime subscribes there).
    change_sink: ChangeSink | None = None


def lambda_settings() -> Settings:
    """Settings for any Lambda entry point (HTTP, and the coming WebSocket, stream and migration
    handlers): the environment, with ``EMMETTBASE_SERVERLESS=1`` unless it says otherwise."""
    env = dict(os.environ)
    env.setdefault("EMMETTBASE_SERVERLESS", "1")
    return Settings.from_env(env)


def default_ports(settings: Settings, emmett_app: Any = None, **given: Any) -> Ports:
    """The ports ``settings`` call for; a port passed by name in ``given`` is used as is.

    pyDAL's ``Database`` (the SQL builder inside ``app.db.Database``) needs an Emmett ``App`` for
    its configuration: ``emmett_app`` is the HTTP app when there is one, else a bare one is made
    here, so callers without HTTP never need to build it themselves.
    """
    unknown = set(given) - set(Ports.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown ports: {', '.join(sorted(unknown))}")
    if given.get("db") is None:
        from .db import Database
        from .web import new_emmett_app

        given["db"] = Database.from_settings(settings, emmett_app or new_emmett_app())
    if given.get("rate_limiter") is None:
        from .ratelimit import default_limiter

        given["rate_limiter"] = default_limiter(settings)
    if given.get("file_storage") is None:
        from .files.local import LocalFileStorage

        given["file_storage"] = LocalFileStorage(os.path.join(settings.data_path, "storage"))
    return Ports(**given)


def build_runtime(settings: Settings, ports: Ports | None = None) -> Runtime:
    """The domain services over ``ports`` (``default_ports(settings)`` when None), without HTTP."""
    from .runtime import Runtime

    ports = ports or default_ports(settings)
    runtime = Runtime(
        settings=settings,
        db=ports.db,
        rate_limiter=ports.rate_limiter,
        file_storage=ports.file_storage,
        mail_transport=ports.mail_transport,
    )
    if ports.change_sink is not None:
        runtime.use_change_sink(ports.change_sink)
    if settings.modules:
        from .modules import load_modules

        load_modules(runtime)
    return runtime
