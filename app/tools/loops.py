"""The event loop that owns the process's sockets, and the thread-safe way to hand it work.

On the local door request work runs on worker threads (``app.api.offload``); anything such work
publishes to the loop (a coroutine commit hook, later realtime messages) must go through
``loop.call_soon_threadsafe``: asyncio objects are not thread-safe. The offload sets ``HOME`` (a
ContextVar, so it follows the request into its thread) to the serving loop; without it (CLI,
Lambda) ``spawn`` uses the running loop of the calling thread, or runs the coroutine to completion
when there is none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any

log = logging.getLogger("emmettbase.loops")

#: The loop serving the current request (set by ``app.api.offload`` before it hops to a thread).
HOME: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("emmettbase_home_loop", default=None)
_pending: set[asyncio.Task[Any]] = set()


def spawn(awaitable: Coroutine[Any, Any, Any]) -> None:
    """Run ``awaitable`` as a task of the home loop, from any thread (errors are logged)."""
    home = HOME.get()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if home is not None and home is not running and not home.is_closed():
        home.call_soon_threadsafe(_start, awaitable)
    elif running is not None:
        _start(awaitable)
    else:
        asyncio.run(awaitable)


def _start(awaitable: Coroutine[Any, Any, Any]) -> None:
    task = asyncio.ensure_future(awaitable)
    _pending.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task[Any]) -> None:
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("a background task failed", exc_info=task.exception())


async def settle() -> None:
    """Wait for the tasks spawned on this event loop (including ones they spawn): the Lambda door
    calls it before it answers, so nothing is left for a later invocation."""
    loop = asyncio.get_running_loop()
    while True:
        mine = [task for task in _pending if task.get_loop() is loop and not task.done()]
        if not mine:
            return
        await asyncio.gather(*mine, return_exceptions=True)
