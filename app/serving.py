"""Run the app on Granian for ``emmettbase serve``.

Granian speaks RSGI to Emmett natively (the fastest path, FACTS.md); the Lambda door uses the ASGI
entry instead. With one worker (the default) Granian runs embedded in the CLI's own process; with
more, workers are separate processes that rebuild the app from the environment, so the CLI passes
its options down as ``EMMETTBASE_*`` variables either way. The event loop is pinned to uvloop:
Granian's ``auto`` picks rloop when installed, under which Emmett leaked memory in our probes.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from .settings import Settings


def rsgi_factory() -> Any:
    """Granian's target in each worker: the Emmett app built from the environment."""
    from . import create_app

    return HealthFastPath(create_app(Settings.from_env()))


class HealthFastPath:
    """The RSGI app Granian serves: ``GET /api/health`` answered before the framework, the rest
    handed to Emmett.

    Load balancers and uptime monitors call the health route more than anything else; it reads no
    data, so its answer is prepared once — the very bytes and headers the API route sends (see
    ``app.api.health``). Requests that could get another answer (``HEAD``, an ``Origin`` for CORS,
    an ``Authorization`` header, or rate-limit rules about paths) take the normal route.
    """

    def __init__(self, app: Any):
        from .api.cors import Cors
        from .api.health import HEALTHY
        from .api.responses import json_bytes, json_response

        self.app = app
        self.runtime = app.runtime
        response = json_response(HEALTHY)
        headers = dict(response._headers)
        Cors(app.runtime.settings.origins).apply(None, headers)
        self.body = json_bytes(HEALTHY)
        self.headers = list(headers.items())

    def __rsgi_init__(self, loop: Any) -> None:
        self.app.__rsgi_init__(loop)
        _interrupt_statements_on_stop()

    def __rsgi_del__(self, loop: Any) -> None:
        # Granian calls this once the worker stopped serving; Emmett has no RSGI shutdown hook of
        # its own, so the runtime (pending mail, database connections) is closed here.
        handler = getattr(self.app, "__rsgi_del__", None)
        try:
            if handler is not None:
                handler(loop)
        finally:
            self.runtime.close()

    def __rsgi__(self, scope: Any, protocol: Any) -> Any:
        if (
            scope.proto == "http"
            and scope.path == "/api/health"
            and scope.method == "GET"
            and self._plain(scope)
        ):
            return self._healthy(protocol)
        return self.app.__rsgi__(scope, protocol)

    async def _healthy(self, protocol: Any) -> None:
        protocol.response_bytes(200, self.headers, self.body)

    def _plain(self, scope: Any) -> bool:
        headers = scope.headers
        if headers.get("origin") or headers.get("authorization"):
            return False
        guard = self.runtime.rate_limit_guard
        if guard is None:
            return True
        try:
            rules = guard.policy(fresh=False).rules
        except Exception:
            # The settings cannot be read (database down): an error here would escape to Granian
            # as an empty 500. The API route answers instead, in the error envelope.
            return False
        return not (rules.enabled and rules.has_path_labels)


def _interrupt_statements_on_stop() -> None:
    """Make SIGINT/SIGTERM also interrupt a running SQLite statement (``app.db.budget``).

    A statement holds its thread (the loop's on Lambda, a worker's locally: ``app.api.offload``),
    and shutdown waits for the request's unit to end. The Python-level handler, though,
    runs as soon as the interpreter gets control — which SQLite's progress handler gives it every
    few thousand steps — so it is wrapped to flip the stop switch first. Called once Granian has
    set up its handlers (``__rsgi_init__``), in the process's main thread.
    """
    import signal

    from .db import budget

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: Any, previous: Any = previous) -> None:
            budget.request_stop()
            if callable(previous):
                previous(signum, frame)

        try:
            signal.signal(sig, handler)
        except ValueError:  # not the main thread: the budget alone bounds statements here
            return


def export_settings(settings: Settings) -> None:
    """Put the options the CLI resolved into the environment the workers will read."""
    os.environ["EMMETTBASE_HTTP"] = settings.http
    os.environ["EMMETTBASE_DATA_DIR"] = settings.data_path
    os.environ["EMMETTBASE_DEV"] = "1" if settings.dev else "0"
    os.environ["EMMETTBASE_WORKERS"] = str(settings.workers)
    if settings.database_url:
        os.environ["EMMETTBASE_DATABASE_URL"] = settings.database_url


def serve(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM: in this process with one worker, else with worker processes."""
    export_settings(settings)
    if settings.workers == 1:
        _serve_in_process(settings)
    else:
        _serve_workers(settings)


def _serve_in_process(settings: Settings) -> None:
    """One worker: Granian embedded in this process's uvloop, so ``emmettbase serve`` is a single
    process (about 30 MB less than a supervisor plus one worker process)."""
    import asyncio
    import logging
    import signal

    import uvloop
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server.embed import Server

    # Granian labels its embedded mode experimental at every start; our tests cover what we use.
    logging.getLogger("_granian").addFilter(lambda record: "experimental" not in record.getMessage())
    host, port = settings.listen
    server = Server(
        rsgi_factory,
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        factory=True,
        websockets=True,
        log_level=LogLevels.debug if settings.dev else LogLevels.warning,
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        await server.serve()

    uvloop.run(main())


#: Seconds a stopping worker gets to finish its requests before it is killed.
WORKERS_KILL_TIMEOUT = 10


def _serve_workers(settings: Settings) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    class Supervisor(Granian):  # type: ignore[misc, valid-type]
        def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
            # A forked worker inherits this handler until Granian installs the worker's own,
            # after the app is built. There it only set a flag on the supervisor's copied state:
            # a stop signal in that window was swallowed, the worker served on and the supervisor
            # waited for it. In a worker it ends the worker, which has served nothing yet.
            if os.getpid() != self.pid:
                os._exit(128 + int(args[0] if args else signal.SIGTERM))
            super().signal_handler_interrupt(*args, **kwargs)

    host, port = settings.listen
    server = Supervisor(
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
        # Stopping waits this long for a worker to finish, then kills it: the supervisor never
        # outlives a worker that cannot stop.
        workers_kill_timeout=WORKERS_KILL_TIMEOUT,
    )
    server.serve()
