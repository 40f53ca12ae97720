"""Run the app on Granian for ``emmettbase serve``.

Granian speaks RSGI to Emmett natively (the fastest path, FACTS.md); the Lambda door uses the ASGI
entry instead. Workers are separate processes that rebuild the app from the environment, so the
CLI passes its options down as ``EMMETTBASE_*`` variables. The event loop is pinned to uvloop:
Granian's ``auto`` picks rloop when installed, under which Emmett leaked memory in our probes.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .settings import Settings


def rsgi_factory() -> Any:
    """Granian's target in each worker: the Emmett app built from the environment."""
    from . import create_app

    app = create_app(Settings.from_env())
    _hint_without_superusers(app.runtime)
    return app


def _hint_without_superusers(runtime: Any) -> None:
    """No superuser is ever created with a default password (RELIABILITY.md AUTH-10): say how to
    make the first one instead."""
    from .core.superusers import has_superusers

    if not has_superusers(runtime.records):
        print(
            "No superuser yet: create one with `emmettbase superuser create EMAIL PASSWORD`"
            f" --dir {runtime.settings.data_path}",
            file=sys.stderr,
            flush=True,
        )


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
