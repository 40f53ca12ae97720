"""Errors raised by the database layer, independent of any driver.

The HTTP layer maps ``DatabaseUnavailable`` to 503 with ``Retry-After``: the request did not take
effect and may simply be sent again.
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


class IntegrityViolation(DatabaseError):
    """A unique or foreign-key constraint refused a write."""


class SchemaMismatch(DatabaseError):
    """A statement named a table or column the database does not have (a stale schema cache)."""
