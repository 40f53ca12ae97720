"""Run the app on Granian for ``emmettbase serve``.

Granian speaks RSGI to Emmett natively (the fastest path, FACTS.md); the Lambda door uses the ASGI
entry instead. Workers are separate processes that rebuild the app from the environment, so the
CLI passes its options down as ``EMMETTBASE_*`` variables. The event loop is pinned to uvloop:
Granian's ``auto`` picks rloop when installed, under which Emmett leaked memory in our probes.
"""

from __future__ import annotations

import os
from typing import Any

from .settings import Settings


def rsgi_factory() -> Any:
    """Granian's target in each worker: the Emmett app built from the environment."""
    from . import create_app

    return create_app(Settings.from_env())


def export_settings(settings: Settings) -> None:
    """Put the options the CLI resolved into the environment the workers will read."""
    os.environ["EMMETTBASE_HTTP"] = settings.http
    os.environ["EMMETTBASE_DATA_DIR"] = settings.data_path
    os.environ["EMMETTBASE_DEV"] = "1" if settings.dev else "0"
    os.environ["EMMETTBASE_WORKERS"] = str(settings.workers)
    if settings.database_url:
        os.environ["EMMETTBASE_DATABASE_URL"] = settings.database_url


def serve(settings: Settings) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    export_settings(settings)
    host, port = settings.listen
    server = Granian(
        "app.serving:rsgi_factory",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=settings.workers,
        loop=Loops.uvloop,
        factory=True,
        websockets=True,
        log_level=LogLevels.debug if settings.dev else LogLevels.warning,
        respawn_failed_workers=True,
    )
    server.serve()
