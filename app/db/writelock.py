"""One writer at a time across the processes that share a SQLite file.

SQLite allows a single writer; when several ``emmettbase serve`` workers write at once, the losers
of ``BEGIN IMMEDIATE`` wait in SQLite's busy handler, which sleeps 1, 2, 5, 10 ... ms between
retries while the winner's transaction takes a fraction of a millisecond, so throughput collapses
and latency spikes. A blocking ``flock`` on a side file queues writers in the kernel instead and
wakes the next one as soon as the lock is released. Transactions never span an ``await``
(docs/decisions.md), so the lock is held for one short synchronous block; a process that dies
releases it with its file descriptor.

The wait is bounded by the busy timeout: a worker stalled while holding the lock (stopped by a
debugger, swapped out, stuck in a hook) must not freeze every other worker forever. ``flock``
itself has no timeout, so a contended lock is polled with a non-blocking ``flock`` at short,
growing intervals (0.05 ms to 2 ms: a writer holds it for well under a millisecond); when the
timeout passes the caller gets ``DatabaseUnavailable`` (503 with ``Retry-After``).
"""

from __future__ import annotations

import errno
import os
import threading
import time
from typing import Any

from .errors import DatabaseUnavailable

BUSY_MESSAGE = "The database is busy."


class WriterLock:
    def __init__(self, path: str, timeout: float = 5.0):
        self.path = path
        #: seconds a writer waits for the lock before giving up (the SQLite busy timeout)
        self.timeout = timeout
        self._fd: int | None = None
        self._threads = threading.Lock()  # flock is per process: threads of one process queue here
        self._fcntl: Any = None
        try:
            import fcntl

            self._fcntl = fcntl
        except ImportError:  # pragma: no cover - not POSIX: SQLite's own busy handling only
            self._fcntl = None

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            raise DatabaseUnavailable(BUSY_MESSAGE)
        if self._fcntl is None:
            return
        try:
            if self._fd is None:
                # the data folder may not exist yet when the very first statement is a write
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._lock_until(self._fd, deadline)
        except BaseException:
            self._threads.release()
            raise

    def _lock_until(self, fd: int, deadline: float) -> None:
        fcntl = self._fcntl
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            now = time.monotonic()
            if now >= deadline:
                raise DatabaseUnavailable(BUSY_MESSAGE)
            time.sleep(min(pause, deadline - now))
            pause = min(pause * 2, 0.002)

    def release(self) -> None:
        try:
            if self._fcntl is not None and self._fd is not None:
                self._fcntl.flock(self._fd, self._fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
