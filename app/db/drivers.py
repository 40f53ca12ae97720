"""Driver glue: open a raw DB-API connection per dialect and tell a lost connection from a bad query.

SQLite runs in autocommit mode (``isolation_level=None``) with WAL and a busy timeout; write
transactions are opened explicitly with ``BEGIN IMMEDIATE``. PostgreSQL runs through psycopg2 in
autocommit mode too, so a read is one round trip with no BEGIN/COMMIT around it. Everything that
would be a ``SET`` statement goes into the startup packet instead, so nothing here pins a session
behind RDS Proxy. JSON columns come back as text on both dialects: the record serializer embeds
them as they are, without parsing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from . import budget
from .errors import DatabaseUnavailable

RawConnection = Any


def sqlite_connector(
    path: str, busy_timeout_ms: int, statement_timeout_ms: int = 0
) -> Callable[[], RawConnection]:
    """A factory of SQLite connections on ``path`` (the folder is created on first use), each
    statement limited to ``statement_timeout_ms`` (0 = none; see ``app.db.budget``)."""

    def connect() -> RawConnection:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        conn = sqlite3.connect(
            path,
            isolation_level=None,
            check_same_thread=False,
            timeout=busy_timeout_ms / 1000,
            factory=budget.BudgetedConnection,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        budget.install(conn, statement_timeout_ms)
        return conn

    return connect


def postgres_dsn_parts(url: str) -> dict[str, Any]:
    """Turn ``postgres://user:pass@host:port/db?sslmode=...`` into psycopg2 keyword arguments."""
    parts = urlsplit(url)
    kwargs: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "dbname": unquote(parts.path.lstrip("/")) or "postgres",
    }
    if parts.username:
        kwargs["user"] = unquote(parts.username)
    if parts.password:
        kwargs["password"] = unquote(parts.password)
    for item in filter(None, parts.query.split("&")):
        key, _, value = item.partition("=")
        kwargs[unquote(key)] = unquote(value)
    return kwargs


def postgres_connector(
    url: str,
    connect_timeout: float,
    statement_timeout_ms: int,
    password_provider: Callable[[], str] | None = None,
) -> Callable[[], RawConnection]:
    """A factory of autocommit psycopg2 connections.

    ``password_provider`` is called for every new physical connection (IAM database auth signs a
    fresh token each time).
    """
    import psycopg2
    import psycopg2.extras

    base = postgres_dsn_parts(url)
    # No JIT: it pays off only for long analytic queries, and compiling the large generated
    # expressions a guest filter may hold (200 `:each` or relation conditions) took seconds per
    # statement, up to the statement timeout (docs/rules.md "Limits"); the row estimates of JSON
    # array functions (100 rows each) push even small relation filters over its cost threshold.
    # A DSN's options come after, so they can turn it back on.
    options = f"-c jit=off {base.pop('options', '')}".strip()
    if statement_timeout_ms:
        options = f"{options} -c statement_timeout={int(statement_timeout_ms)}".strip()

    def connect() -> RawConnection:
        kwargs = dict(base)
        if password_provider is not None:
            kwargs["password"] = password_provider()
        try:
            conn = psycopg2.connect(
                connect_timeout=max(1, int(connect_timeout)),
                application_name="emmettbase",
                client_encoding="UTF8",
                options=options or None,
                **kwargs,
            )
        except psycopg2.OperationalError as exc:
            raise DatabaseUnavailable(f"Cannot connect to PostgreSQL: {exc}".strip()) from exc
        conn.autocommit = True
        # pyDAL quotes string literals by doubling quotes only; that is exact only when backslashes
        # are ordinary characters. PostgreSQL reports the setting at startup, no query needed.
        if conn.get_parameter_status("standard_conforming_strings") != "on":
            conn.close()
            raise DatabaseUnavailable("PostgreSQL must run with standard_conforming_strings = on.")
        psycopg2.extras.register_default_json(conn, loads=_keep_text)
        psycopg2.extras.register_default_jsonb(conn, loads=_keep_text)
        return conn

    return connect


def _keep_text(value: str) -> str:
    return value


def is_connection_lost(dialect: str, conn: RawConnection, exc: BaseException) -> bool:
    """True when ``exc`` means the connection itself is gone (not a bad statement)."""
    if dialect != "postgres":
        return False
    import psycopg2

    if not isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
        return False
    return bool(getattr(conn, "closed", 0))


def is_busy(dialect: str, exc: BaseException) -> bool:
    """True for lock contention that a later retry may win (SQLite ``database is locked``)."""
    if dialect == "sqlite":
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
    import psycopg2.errors

    return isinstance(exc, psycopg2.errors.LockNotAvailable | psycopg2.errors.SerializationFailure)


#: SQLite's messages when the file system refuses (read-only, full, gone, I/O errors).
_SQLITE_STORAGE = (
    "readonly database",
    "disk I/O error",
    "database or disk is full",
    "unable to open database file",
)


def is_storage_fault(dialect: str, exc: BaseException) -> bool:
    """True when SQLite's storage failed under a statement (not the statement's fault)."""
    if dialect != "sqlite" or not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc)
    return any(m in text for m in _SQLITE_STORAGE)


def is_timeout(dialect: str, exc: BaseException) -> bool:
    """True when the database stopped a statement that ran out of its time budget."""
    if dialect == "sqlite":
        return budget.is_interrupt(exc)
    import psycopg2.errors

    return isinstance(exc, psycopg2.errors.QueryCanceled)


def integrity_errors(dialect: str) -> tuple[type[BaseException], ...]:
    if dialect == "sqlite":
        return (sqlite3.IntegrityError,)
    import psycopg2

    return (psycopg2.IntegrityError,)


#: SQLite's messages for a table or column that is not (or no longer) there: ``no such table: x``,
#: ``no such column: y`` (reads, updates) and ``table x has no column named y`` (inserts).
_SQLITE_MISSING = ("no such table", "no such column", "has no column named")


def is_schema_mismatch(dialect: str, exc: BaseException) -> bool:
    """True when a statement failed on an unknown table or column (a stale schema cache)."""
    if dialect == "sqlite":
        text = str(exc)
        return isinstance(exc, sqlite3.OperationalError) and any(m in text for m in _SQLITE_MISSING)
    import psycopg2.errors

    # 42P01 undefined_table (``relation "x" does not exist``) and 42703 undefined_column
    # (``column "y" of relation "x" does not exist``, ``column x.y does not exist``).
    return isinstance(exc, psycopg2.errors.UndefinedTable | psycopg2.errors.UndefinedColumn)
