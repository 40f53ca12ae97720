"""Errors raised by the database layer, independent of any driver.

The HTTP layer maps ``DatabaseUnavailable`` (and so ``StatementTimeout``) to 503 with
``Retry-After``: the request did not take effect and may simply be sent again.
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class of the errors the database layer raises on purpose."""


class DatabaseUnavailable(DatabaseError):
    """The database could not be reached, or the connection died inside a transaction.

    Raised only when nothing was committed, so a client may retry safely.
    """

    def __init__(self, message: str = "The database is temporarily unavailable.", retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class StatementTimeout(DatabaseUnavailable):
    """A statement ran out of its time budget (``EMMETTBASE_DB_STATEMENT_TIMEOUT_MS``) and was
    stopped by the database; its transaction, if any, is rolled back."""

    public_message = "The request took too long to process and was stopped."

    def __init__(self, message: str = "The statement ran out of its time budget."):
        super().__init__(message, retry_after=5)


class ShuttingDown(DatabaseUnavailable):
    """The server is stopping: a running SQLite statement was interrupted."""

    public_message = "The server is shutting down. Please retry."


class IntegrityViolation(DatabaseError):
    """A unique or foreign-key constraint refused a write."""


class SchemaMismatch(DatabaseError):
    """A statement named a table or column the database does not have (a stale schema cache)."""
