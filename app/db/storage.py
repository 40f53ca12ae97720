"""SQLite storage checks: the database file is still the one we opened, and its WAL index is writable.

Three faults of the data directory are invisible to SQLite until it is too late:

- The WAL index (``data.db-shm``) is memory-mapped. When the file turns read-only under a running
  server (a read-only remount, ``chattr +i``), the next write into the mapping is a SIGBUS that
  kills the whole process. Checking ``access(W_OK)`` on it before a connection is used turns that
  into a 503 for the request; once the fault clears, requests go through again. (A fault landing
  between the check and the statement can still hit; the check narrows that to microseconds.)
- When the data directory is deleted (or the file replaced) under a running server, SQLite keeps
  writing into the unlinked file and every write answered 200 is lost at the next restart. The
  file's device and inode are remembered on first sight; when the path no longer leads to them,
  writes are refused with a 503 (reads still see the open file).
- SQLite silently opens a file it cannot write read-only, and such a connection stays read-only
  in the pool after the storage is fixed, failing every write. ``checked_connector`` refuses to
  open it instead: ``serve`` does not start on read-only storage, and a running server gets a 503
  and connects afresh on a later request.

A read costs one ``access`` system call, a write transaction one ``stat`` more (each well under a
microsecond on bare metal; a few microseconds on a loaded VM).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any

from .errors import DatabaseUnavailable

READ_ONLY = "The database storage is not writable."
REMOVED = "The database file was removed or replaced under the running server; restart it."


class StorageGuard:
    def __init__(self, path: str):
        self.path = path
        self.shm = path + "-shm"
        self._identity: tuple[int, int] | None = None

    def check(self, write: bool) -> None:
        """Raise ``DatabaseUnavailable`` when using a connection now would crash or lose data."""
        if write or self._identity is None:  # reads only until the file's identity is known
            self._check_identity()
        if not os.access(self.shm, os.W_OK) and os.path.exists(self.shm):
            raise DatabaseUnavailable(READ_ONLY, retry_after=5)

    def _check_identity(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._identity is not None:
                raise DatabaseUnavailable(REMOVED, retry_after=30) from None
            return  # not created yet: the first connection creates it
        identity = (st.st_dev, st.st_ino)
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            raise DatabaseUnavailable(REMOVED, retry_after=30)


def checked_connector(connect: Callable[[], Any], path: str) -> Callable[[], Any]:
    """``connect``, refusing a file it could only open read-only, with the storage's failures
    (cannot create the folder, cannot open the file) as ``DatabaseUnavailable``."""

    def open_connection() -> Any:
        if not os.access(path, os.W_OK) and os.path.exists(path):
            raise DatabaseUnavailable(f"The SQLite database {path} is not writable.", retry_after=5)
        try:
            return connect()
        except (sqlite3.OperationalError, OSError) as exc:
            raise DatabaseUnavailable(
                f"Cannot open the SQLite database {path}: {exc}", retry_after=5
            ) from exc

    return open_connection
