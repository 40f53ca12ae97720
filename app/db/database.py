"""The database port: pyDAL builds the SQL, this module runs it on pooled connections.

Emmett's ``Database`` (pyDAL) is kept as a pure SQL builder: tables are defined on it with
``migrate=False`` and queries are built as pyDAL ``Query`` objects, whose values pyDAL quotes.
It never opens a connection itself. Statements run here, on connections from ``ConnectionPool``,
without Emmett's per-request ``db.pipe`` (which costs a pool checkout, BEGIN and COMMIT per request).

Failure policy (RELIABILITY.md SLS-2):
- a read outside a transaction that meets a dead connection reconnects once and runs again;
- a transaction whose ``BEGIN`` meets a dead connection reconnects once (nothing ran yet);
- a connection that dies inside a transaction raises ``DatabaseUnavailable``: the transaction is
  lost as a whole (PostgreSQL is atomic), the HTTP layer answers 503 with ``Retry-After``;
- a statement that outlives its time budget (``settings.db_statement_timeout_ms``: PostgreSQL's
  ``statement_timeout``, on SQLite ``app.db.budget``) raises ``StatementTimeout``, also a 503.

Statements run synchronously on the calling thread: on the local door a request's work runs on a
worker thread (``app.api.offload``), on Lambda on the event loop's. A transaction is bound to the
current context (a ContextVar: it follows the request's copied context into its thread, and never
leaks to another thread), and reads inside it reuse its connection so they see its writes.

The schema fence: every write transaction reads the schema version token right after ``BEGIN``
(``set_fence``; the registry checks it against the snapshot the request compiled its statements
from), so a stale cache is found before any hook or statement ran and the request can be retried
without repeating anything. No schema change can land while the transaction runs: SQLite's
``BEGIN IMMEDIATE`` already excludes other writers, and on PostgreSQL write transactions hold a
shared advisory lock that a schema change (``transaction(schema_change=True)``) takes exclusively
before its DDL. On PostgreSQL the lock and the read go in the same round trip as ``BEGIN``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from emmett import sdict
from emmett.orm import Database as EmmettDatabase

from ..settings import Settings
from ..tools import effects
from . import budget
from .drivers import (
    integrity_errors,
    is_busy,
    is_connection_lost,
    is_schema_mismatch,
    is_storage_fault,
    is_timeout,
    postgres_connector,
    sqlite_connector,
)
from .errors import DatabaseUnavailable, IntegrityViolation, SchemaMismatch, ShuttingDown, StatementTimeout
from .pool import ConnectionPool, PooledConnection
from .storage import StorageGuard, checked_connector
from .writelock import WriterLock

log = logging.getLogger("emmettbase.db")

#: The PostgreSQL advisory lock key of the schema fence (any constant shared by all processes).
SCHEMA_LOCK_KEY = 4_771_556_113_980_442_731

_BUILDER_URIS = {
    "sqlite": "sqlite:memory",
    "postgres": "postgres://emmettbase@localhost:5432/emmettbase",
}


class ConnectionLost(DatabaseUnavailable):
    """The server closed the connection under a statement."""


class Transaction:
    """The handle a ``with db.transaction()`` block works with."""

    __slots__ = ("_after_commit", "_after_rollback", "_db", "changes", "conn")

    def __init__(self, db: Database, conn: PooledConnection):
        self._db = db
        self.conn = conn
        self._after_commit: list[Callable[[], Any]] = []
        self._after_rollback: list[Callable[[], Any]] = []
        #: the typed changes of this transaction's writes (``app.core.events``), published once
        #: committed, dropped on rollback
        self.changes: list[Any] = []

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self._db._run(self.conn, sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._db._fetch(self.conn, sql, params, one=False)

    def fetchone(self, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        return self._db._fetch(self.conn, sql, params, one=True)

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` once the transaction has committed (never on rollback)."""
        self._after_commit.append(callback)

    def on_rollback(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` once the transaction has rolled back (never after a commit)."""
        self._after_rollback.append(callback)


class Database:
    def __init__(
        self,
        dialect: str,
        pool: ConnectionPool,
        builder: EmmettDatabase,
    ):
        self.dialect = dialect
        self.pool = pool
        self.dal = builder
        self._tx: ContextVar[Transaction | None] = ContextVar(f"emmettbase_tx_{id(self)}", default=None)
        self._integrity_errors = integrity_errors(dialect)
        #: SQLite only: queues writers of all processes sharing the file (``app.db.writelock``).
        self.writer_lock: WriterLock | None = None
        #: SQLite only: refuses to touch a read-only WAL index or a deleted file (``app.db.storage``)
        self.storage_guard: StorageGuard | None = None
        #: the schema fence (module docstring): the statement to run after BEGIN, or None to skip
        self._fence_sql: Callable[[], str | None] | None = None
        self._fence_check: Callable[[tuple[Any, ...] | None], None] | None = None
        #: receives each committed transaction's changes (the runtime's ``ChangeSink.publish``)
        self.publish_changes: Callable[[list[Any]], None] | None = None

    def set_fence(
        self, sql: Callable[[], str | None], check: Callable[[tuple[Any, ...] | None], None]
    ) -> None:
        """Run ``sql()`` right after BEGIN in every write transaction and pass its row to ``check``,
        which raises (``SchemaMismatch``) to abort the transaction before anything else runs."""
        self._fence_sql, self._fence_check = sql, check

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        emmett_app: Any,
        password_provider: Callable[[], str] | None = None,
    ) -> Database:
        dialect = settings.dialect
        if dialect == "postgres":
            connect = postgres_connector(
                settings.database_url,
                settings.db_connect_timeout,
                settings.db_statement_timeout_ms,
                password_provider,
            )
        else:
            connect = sqlite_connector(
                settings.sqlite_path, settings.sqlite_busy_timeout_ms, settings.db_statement_timeout_ms
            )
        pool = ConnectionPool(
            connect, settings.db_pool_size, settings.db_idle_timeout, settings.db_pool_timeout
        )
        database = cls(dialect, pool, make_sql_builder(emmett_app, dialect))
        if dialect == "sqlite" and settings.sqlite_path not in ("", ":memory:"):
            database.writer_lock = WriterLock(
                settings.sqlite_path + "-writer.lock", settings.sqlite_busy_timeout_ms / 1000
            )
            database.storage_guard = StorageGuard(settings.sqlite_path)
            pool.wrap_connect(lambda connect: checked_connector(connect, settings.sqlite_path))
        return database

    # -- reads ------------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._tx.get() is not None

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._read(sql, params, one=False)

    def fetchone(self, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        return self._read(sql, params, one=True)

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.fetchone(sql, params)
        return row[0] if row else None

    def _read(self, sql: str, params: Sequence[Any] | None, one: bool) -> Any:
        tx = self._tx.get()
        if tx is not None:
            return self._fetch(tx.conn, sql, params, one)
        if self.storage_guard is not None:
            self.storage_guard.check(write=False)
        for attempt in (1, 2):
            conn = self.pool.acquire()
            try:
                rows = self._fetch(conn, sql, params, one)
            except ConnectionLost:
                self.pool.discard(conn)
                if attempt == 2:
                    raise
                log.warning("database connection lost; reconnecting for a read")
                continue
            except BaseException:
                self.pool.release(conn)
                raise
            self.pool.release(conn)
            return rows
        raise AssertionError("unreachable")  # pragma: no cover

    # -- writes -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self, schema_change: bool = False) -> Iterator[Transaction]:
        """One transaction bound to the current context; nested blocks join the outer one.

        ``schema_change``: the transaction runs DDL; it waits for the write transactions in
        flight and keeps new ones out until it commits (the schema fence, module docstring)."""
        outer = self._tx.get()
        if outer is not None:
            yield outer
            return
        if self.storage_guard is not None:
            self.storage_guard.check(write=True)
        lock = self.writer_lock
        if lock is not None:
            lock.acquire()
        rolled_back: Transaction | None = None
        try:
            fence = None if schema_change or self._fence_sql is None else self._fence_sql()
            conn, fenced = self._begin(schema_change, fence)
            tx = Transaction(self, conn)
            token = self._tx.set(tx)
            try:
                if fence is not None and self._fence_check is not None:
                    if self.dialect == "sqlite":
                        fenced = self._run(conn, fence).fetchone()
                    self._fence_check(fenced)
                yield tx
                self._run(conn, "COMMIT")
                effects.note()
            except BaseException:
                self._rollback(conn)
                tx.changes.clear()
                rolled_back = tx
                raise
            finally:
                self._tx.reset(token)
                self.pool.release(conn)
        finally:
            if lock is not None:
                lock.release()
            if rolled_back is not None:  # outside the transaction's context and writer lock
                _run_callbacks(rolled_back._after_rollback, "after-rollback")
        if tx.changes and self.publish_changes is not None:
            try:
                self.publish_changes(tx.changes)
            except Exception:
                log.exception("publishing committed changes failed")
        _run_callbacks(tx._after_commit, "after-commit")

    def record_change(self, change: Any) -> None:
        """Collect ``change`` in the current transaction (published once it commits). Outside a
        transaction (the write already committed on its own) it is published at once."""
        tx = self._tx.get()
        if tx is not None:
            tx.changes.append(change)
        elif self.publish_changes is not None:
            self.publish_changes([change])

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` after the current transaction commits (immediately when there is none)."""
        tx = self._tx.get()
        if tx is None:
            callback()
        else:
            tx.on_commit(callback)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run one statement: in the current transaction, or in a transaction of its own."""
        tx = self._tx.get()
        if tx is not None:
            return tx.execute(sql, params)
        with self.transaction() as own:
            return own.execute(sql, params)

    def executescript(self, statements: Sequence[str]) -> None:
        """Run DDL statements in one transaction (atomic on PostgreSQL and SQLite)."""
        with self.transaction() as tx:
            for statement in statements:
                tx.execute(statement)

    def _begin(self, schema_change: bool, fence: str | None) -> tuple[PooledConnection, Any]:
        """A connection with its transaction open, and (PostgreSQL) the fence's row."""
        begin = "BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN"
        if self.dialect == "postgres":
            if schema_change:
                begin = f"BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})"
            elif fence is not None:
                begin = f"BEGIN; SELECT pg_advisory_xact_lock_shared({SCHEMA_LOCK_KEY}); {fence}"
        for attempt in (1, 2):
            conn = self.pool.acquire()
            try:
                cursor = self._run(conn, begin)
                row = cursor.fetchone() if fence is not None and self.dialect == "postgres" else None
            except ConnectionLost:
                self.pool.discard(conn)
                if attempt == 2:
                    raise
                log.warning("database connection lost; reconnecting before a transaction")
                continue
            except BaseException:
                if self.dialect == "postgres":  # the fence failed after BEGIN: close that transaction
                    self._rollback(conn)
                self.pool.release(conn)
                raise
            return conn, row
        raise AssertionError("unreachable")  # pragma: no cover

    def _rollback(self, conn: PooledConnection) -> None:
        if conn.broken:
            return
        try:
            self._run(conn, "ROLLBACK")
        except Exception:
            conn.broken = True

    # -- execution --------------------------------------------------------------------------

    def _run(self, conn: PooledConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
        raw = conn.raw
        try:
            if self.dialect == "sqlite":
                raw.arm()  # this statement's time budget starts now (fetching included)
                return raw.execute(sql, params or ())
            cursor = raw.cursor()
            cursor.execute(sql, params)
            return cursor
        except Exception as exc:
            raise self._translate(conn, exc) from exc

    def _fetch(self, conn: PooledConnection, sql: str, params: Sequence[Any] | None, one: bool) -> Any:
        cursor = self._run(conn, sql, params)
        try:
            # SQLite runs most of a query while rows are fetched: its budget can end here too.
            return cursor.fetchone() if one else cursor.fetchall()
        except Exception as exc:
            raise self._translate(conn, exc) from exc

    def _translate(self, conn: PooledConnection, exc: Exception) -> Exception:
        """The database-layer error for a driver error (the error itself when it is none)."""
        if isinstance(exc, self._integrity_errors):
            return IntegrityViolation(str(exc))
        if is_connection_lost(self.dialect, conn.raw, exc):
            conn.broken = True
            return ConnectionLost("The database connection was lost.")
        if is_timeout(self.dialect, exc):
            if budget.stopping():
                return ShuttingDown("The server is shutting down.")
            log.warning("a statement ran out of its time budget and was stopped")
            return StatementTimeout()
        if is_busy(self.dialect, exc):
            return DatabaseUnavailable("The database is busy.")
        if is_storage_fault(self.dialect, exc):
            # The storage failed under the statement (turned read-only, full, I/O errors):
            # replace this connection and the idle ones, so nothing opened in a degraded state
            # outlives the fault and the app recovers by itself once the storage does.
            conn.broken = True
            self.pool.close_all()
            return DatabaseUnavailable("The database storage is not writable.", retry_after=5)
        if is_schema_mismatch(self.dialect, exc):
            return SchemaMismatch(str(exc))
        return exc

    def close(self) -> None:
        self.pool.close_all()
        if self.writer_lock is not None:
            self.writer_lock.close()


def _run_callbacks(callbacks: list[Callable[[], Any]], what: str) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("%s callback failed", what)


def make_sql_builder(emmett_app: Any, dialect: str) -> EmmettDatabase:
    """Emmett's ``Database`` configured to build SQL for ``dialect`` and never to connect."""
    builder = EmmettDatabase(
        emmett_app,
        config=sdict(uri=_BUILDER_URIS[dialect], auto_connect=False, auto_migrate=False),
        check_reserved=None,
    )

    def refuse_to_connect(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the pyDAL builder never connects: run SQL through app.db.Database")

    builder._adapter.connector = refuse_to_connect
    return builder
