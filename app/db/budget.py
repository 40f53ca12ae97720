"""The time budget of every SQLite statement, and the stop switch for shutdown.

PostgreSQL enforces its budget itself (``statement_timeout``, sent in the startup packet by
``drivers.postgres_connector``). SQLite has no such setting: each connection made here carries a
deadline that ``Database._run`` arms before every statement, and a progress handler, called by
SQLite every few thousand virtual-machine steps, interrupts the statement once the deadline has
passed — or at once when the process is shutting down, so SIGTERM is not stuck behind a long
query. An interrupted statement raises ``sqlite3.OperationalError`` ("interrupted"), which
``Database._run`` turns into ``StatementTimeout`` / ``ShuttingDown``. The deadline lives on the
connection, and a connection serves one thread at a time (requests run on worker threads,
``app.api.offload``), so each thread's statement keeps its own budget.
"""

from __future__ import annotations

import sqlite3
import time

#: SQLite virtual-machine steps between two checks (about a tenth of a millisecond of work)
CHECK_EVERY = 10_000

_stopping = False


def request_stop() -> None:
    """Interrupt running SQLite statements of this process and refuse new ones (shutdown)."""
    global _stopping
    _stopping = True


def stopping() -> bool:
    return _stopping


class BudgetedConnection(sqlite3.Connection):
    """A SQLite connection whose statements stop at ``deadline`` (``time.monotonic()``)."""

    budget: float = 0.0  # seconds per statement; 0 = unlimited
    deadline: float = 0.0  # 0 = none armed

    def arm(self) -> None:
        if self.budget:
            self.deadline = time.monotonic() + self.budget

    def interrupted(self) -> int:
        # Returning non-zero makes SQLite abandon the statement (SQLITE_INTERRUPT).
        if _stopping:
            return 1
        deadline = self.deadline
        return 1 if deadline and time.monotonic() > deadline else 0


def install(conn: BudgetedConnection, budget_ms: int) -> None:
    conn.budget = max(0, budget_ms) / 1000
    conn.set_progress_handler(conn.interrupted, CHECK_EVERY)


def is_interrupt(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted"
