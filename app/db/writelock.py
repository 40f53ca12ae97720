"""One writer at a time across the processes that share a SQLite file.

SQLite allows a single writer; when several ``emmettbase serve`` workers write at once, the losers
of ``BEGIN IMMEDIATE`` wait in SQLite's busy handler, which sleeps 1, 2, 5, 10 ... ms between
retries while the winner's transaction takes a fraction of a millisecond, so throughput collapses
and latency spikes. A blocking ``flock`` on a side file queues writers in the kernel instead and
wakes the next one as soon as the lock is released. Transactions never span an ``await``
(docs/decisions.md), so the lock is held for one short synchronous block; a process that dies
releases it with its file descriptor.
"""

from __future__ import annotations

import os
import threading
from typing import Any


class WriterLock:
    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None
        self._threads = threading.Lock()  # flock is per process: threads of one process queue here
        self._fcntl: Any = None
        try:
            import fcntl

            self._fcntl = fcntl
        except ImportError:  # pragma: no cover - not POSIX: SQLite's own busy handling only
            self._fcntl = None

    def acquire(self) -> None:
        self._threads.acquire()
        if self._fcntl is None:
            return
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fcntl.flock(self._fd, self._fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

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
