"""A small connection pool: LIFO reuse, a size cap, and idle expiry by wall-clock time.

Emmett's own pool opens a new connection whenever it holds fewer than its size and never checks
a pooled one; this pool reuses the most recent connection first (so an idle Lambda keeps one) and
drops connections idle longer than ``idle_timeout`` seconds. Wall-clock time is used on purpose: a
frozen Lambda's monotonic clock does not advance while the server side times the session out.

Requests run on a thread pool as large as this pool (``app.api.offload``), so each thread gets a
connection of its own. When all are out, ``acquire`` waits up to ``wait_timeout`` seconds for one
to come back (then ``DatabaseUnavailable``, a 503) — except on a thread that already holds one:
it would wait for itself, so it fails at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from .drivers import RawConnection
from .errors import DatabaseUnavailable


class PooledConnection:
    """A raw driver connection plus the bookkeeping the pool needs."""

    __slots__ = ("broken", "last_used", "raw")

    def __init__(self, raw: RawConnection):
        self.raw = raw
        self.last_used = time.time()
        self.broken = False


class ConnectionPool:
    def __init__(
        self,
        connect: Callable[[], RawConnection],
        size: int,
        idle_timeout: float = 0,
        wait_timeout: float = 10.0,
    ):
        self._connect = connect
        self.size = max(1, size)
        self.idle_timeout = idle_timeout
        self.wait_timeout = wait_timeout
        self._idle: list[PooledConnection] = []
        self._open = 0
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self._held = threading.local()  # connections the current thread holds
        #: the most connections out at the same time since start (observability, tests)
        self.peak_in_use = 0
        self._in_use = 0

    def wrap_connect(
        self, wrap: Callable[[Callable[[], RawConnection]], Callable[[], RawConnection]]
    ) -> None:
        """Wrap the connection factory (``app.db.storage.checked_connector`` on SQLite)."""
        self._connect = wrap(self._connect)

    @property
    def open_count(self) -> int:
        return self._open

    def acquire(self) -> PooledConnection:
        now = time.time()
        expired: list[PooledConnection] = []
        deadline = 0.0
        with self._lock:
            conn = None
            while True:
                while self._idle:
                    candidate = self._idle.pop()
                    if self.idle_timeout and now - candidate.last_used > self.idle_timeout:
                        expired.append(candidate)
                        self._open -= 1
                        continue
                    conn = candidate
                    break
                if conn is not None or self._open < self.size:
                    break
                if getattr(self._held, "count", 0):
                    raise DatabaseUnavailable("No free database connection.")
                if not deadline:
                    deadline = time.monotonic() + self.wait_timeout
                left = deadline - time.monotonic()
                if left <= 0 or not self._returned.wait(left):
                    raise DatabaseUnavailable("No free database connection.")
            if conn is None:
                self._open += 1
            self._in_use += 1
            self.peak_in_use = max(self.peak_in_use, self._in_use)
        for stale in expired:
            _close_quietly(stale.raw)
        if conn is None:
            try:
                conn = PooledConnection(self._connect())
            except BaseException:
                with self._lock:
                    self._open -= 1
                    self._in_use -= 1
                    self._returned.notify()
                raise
        self._held.count = getattr(self._held, "count", 0) + 1
        return conn

    def release(self, conn: PooledConnection) -> None:
        if conn.broken:
            self.discard(conn)
            return
        conn.last_used = time.time()
        self._held.count = max(0, getattr(self._held, "count", 0) - 1)
        with self._lock:
            self._idle.append(conn)
            self._in_use -= 1
            self._returned.notify()

    def discard(self, conn: PooledConnection) -> None:
        self._held.count = max(0, getattr(self._held, "count", 0) - 1)
        with self._lock:
            self._open -= 1
            self._in_use -= 1
            self._returned.notify()
        _close_quietly(conn.raw)

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for conn in idle:
            _close_quietly(conn.raw)


def _close_quietly(raw: RawConnection) -> None:
    # Closing a connection the server already dropped may fail; there is nothing left to do then.
    with contextlib.suppress(Exception):
        raw.close()
