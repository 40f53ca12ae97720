"""Database access: pyDAL builds SQL; ``Database`` runs it on pooled SQLite or PostgreSQL connections."""

from .database import Database, Transaction
from .errors import DatabaseError, DatabaseUnavailable, IntegrityViolation, SchemaMismatch

__all__ = [
    "Database",
    "DatabaseError",
    "DatabaseUnavailable",
    "IntegrityViolation",
    "SchemaMismatch",
    "Transaction",
]
