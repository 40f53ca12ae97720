"""The one offload hop of a request on the local door: its domain work runs on a worker thread.

pyDAL and the drivers are synchronous, so a statement run on the event loop's thread freezes
every socket of the process for its whole duration (a slow filter, a full scan). The API pipe
reads the request on the loop (``app.api.request.prefetch_body``), then hands the rest — auth
load, rate-limit check, the handler with its service calls, presenting the answer — to ``run``
as ONE unit, and writes the response on the loop again. One hop per request, not per statement.

The pool has as many threads as the database pool has connections: each running unit can hold a
connection, and none waits for one. Units beyond that wait for a free thread, up to
``settings.db_pool_timeout`` seconds, then get a 503 (``Retry-After``) instead of queuing forever.

The unit runs in a copy of the request's context (``contextvars``): Emmett's ``current`` request,
the transaction, the schema snapshot and the effect marker are ContextVars and follow it into the
thread. Handlers are coroutines; each worker thread has an event loop of its own to run them on,
so the few that await real I/O (an OAuth2 provider, a mail transport) work unchanged there.
Anything that must reach the server's loop goes through ``app.tools.loops``.
On Lambda (``settings.serverless``) there is no hop: one request per instance, nothing to unfreeze.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from ..core.errors import ServiceUnavailable
from ..tools import loops

T = TypeVar("T")

BUSY_MESSAGE = "The server is busy, please try again later."

_local = threading.local()


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on the calling worker thread's own event loop."""
    loop = getattr(_local, "loop", None)
    if loop is None:
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


class Offload:
    def __init__(self, size: int, wait_timeout: float):
        self.size = max(1, size)
        self.wait_timeout = wait_timeout
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="emmettbase-work")
        # Free threads, and the requests waiting for one (FIFO). Touched on the serving loop's
        # thread only (a release from a worker is posted there), so no lock is needed.
        self._free = self.size
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def run(self, unit: Callable[[], T]) -> T:
        """Run ``unit`` on a worker thread in a copy of the current context; wait for a free
        thread at most ``wait_timeout`` seconds (``ServiceUnavailable``)."""
        loop = asyncio.get_running_loop()
        if self._free > 0 and not self._waiters:
            self._free -= 1
        else:
            await self._wait(loop)
        loops.HOME.set(loop)  # what the unit publishes goes to this loop (app.tools.loops)
        future: Future[T] = self._executor.submit(contextvars.copy_context().run, unit)
        try:
            return await asyncio.wrap_future(future, loop=loop)
        finally:
            if future.done():
                self._release()
            else:  # the client went away: the thread is still busy; free its slot when it ends
                future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))

    async def _wait(self, loop: asyncio.AbstractEventLoop) -> None:
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.wait_timeout)
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():  # handed a thread as the wait ran out
                return
            raise ServiceUnavailable(BUSY_MESSAGE, retry_after=1) from None
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # cancelled after being handed a thread
                self._release()
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _release(self) -> None:
        # Hand the thread straight to the oldest live waiter, else mark it free.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    def close(self) -> None:
        """Finish the units in flight (shutdown: before the database pool closes)."""
        self._executor.shutdown(wait=True)
