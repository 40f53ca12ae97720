"""The schema cache: every collection compiled once per schema version, per process.

Many processes (Granian workers, Lambda instances) serve the same database. A schema change bumps a
token in ``_params``; each process re-reads that token at most once per ``ttl`` seconds and reloads
when it changed, so a change made by one process is seen by the others within a second. A statement
that still meets a stale schema raises ``SchemaMismatch``; the API reloads and retries (bounded).

Write transactions are fenced (``app.db.database``): right after BEGIN they read the stored token,
and ``_fence_check`` refuses to go on when it is not the one the request's snapshot came from. The
mismatch is then raised before any hook or statement ran, so the retry repeats nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import orjson

from ...db import Database, SchemaMismatch
from ...db.sql import where
from .compiled import CompiledCollection
from .model import Collection, collection_from_json
from .tables import SCHEMA_VERSION_KEY, bootstrap, internal_tables, is_missing_table_error

log = logging.getLogger("emmettbase.schema")


class Registry:
    def __init__(self, db: Database, ttl: float = 1.0, per_request: bool = True):
        self.db = db
        self.ttl = ttl
        #: check the version once in every API request (AC-9: a rule change made by another
        #: process applies to the very next request); otherwise at most every ``ttl`` seconds
        self.per_request = per_request
        #: per request: [version checked yet, the version of the snapshot its first lookup used]
        self._request: ContextVar[list[Any] | None] = ContextVar(f"schema_request_{id(self)}", default=None)
        self.internal = internal_tables(db.dal)
        self._by_key: dict[str, CompiledCollection] = {}
        self._ordered: list[CompiledCollection] = []
        self._version: str | None = None
        self._checked_at = 0.0
        self._version_sql: str | None = None
        self._lock = threading.RLock()
        db.set_fence(self._fence_sql, self._fence_check)

    # -- lookups ------------------------------------------------------------------------------

    def get(self, name_or_id: str) -> CompiledCollection | None:
        self.ensure_fresh()
        found = self._by_key.get(name_or_id)
        if found is None:
            found = self._by_key.get("lower:" + name_or_id.lower())
        return found

    def get_after_miss(self, name_or_id: str) -> CompiledCollection | None:
        """Like ``get``, but a miss forces a version check first (the collection may be brand new)."""
        found = self.get(name_or_id)
        if found is None and self.refresh(force=True):
            found = self.get(name_or_id)
        return found

    def collection(self, name_or_id: str) -> Collection | None:
        compiled = self.get(name_or_id)
        return compiled.collection if compiled else None

    def all(self) -> list[CompiledCollection]:
        self.ensure_fresh()
        return list(self._ordered)

    def __iter__(self) -> Iterator[CompiledCollection]:
        return iter(self.all())

    def references_to(self, collection_id: str) -> list[tuple[CompiledCollection, Any]]:
        """(collection, relation field) pairs pointing at ``collection_id``, sorted by collection name."""
        refs = []
        for compiled in sorted(self.all(), key=lambda c: c.name):
            for field in compiled.relations:
                if field.opt("collectionId") == collection_id:
                    refs.append((compiled, field))
        return refs

    @property
    def version(self) -> str | None:
        """The schema version token currently loaded (changes with every schema or settings change)."""
        return self._version

    # -- freshness ----------------------------------------------------------------------------

    def begin_request(self) -> None:
        """Mark the start of an API request: its first lookup checks the stored version (one
        indexed read), so requests that never touch a collection (health) cost nothing."""
        if self.per_request:
            self._request.set([False, None])

    def ensure_fresh(self) -> None:
        marker = self._request.get()
        if marker is not None and not marker[0]:
            marker[0] = True
            self.refresh(force=True)
            marker[1] = self._version
            return
        if self._version is None or time.time() - self._checked_at > self.ttl:
            self.refresh()

    def refresh(self, force: bool = False) -> bool:
        """Reload when the stored version differs from ours; True when a reload happened."""
        if self._version is not None and not force and time.time() - self._checked_at <= self.ttl:
            return False
        # The check runs outside the lock: requests on worker threads (app.api.offload) check the
        # version concurrently, one indexed read each; only a reload is serialized.
        stored = self._stored_version()
        self._checked_at = time.time()
        if stored is not None and stored == self._version:
            return False
        with self._lock:
            if stored is not None and stored == self._version:
                return False  # another thread reloaded it meanwhile
            self._load()
            return True

    def invalidate(self) -> None:
        """Forget the cached version (after a local change, or when a statement met a stale schema)."""
        with self._lock:
            self._version = None

    def _fence_sql(self) -> str | None:
        """The statement a write transaction runs after BEGIN (None before the first load)."""
        return None if self._version is None else self._version_query()

    def _fence_check(self, row: tuple[Any, ...] | None) -> None:
        stored = row[0] if row else None
        marker = self._request.get()
        seen = marker[1] if marker is not None and marker[1] is not None else self._version
        if stored != seen or stored != self._version:
            raise SchemaMismatch("The schema changed since this request read it.")

    def _version_query(self) -> str:
        sql = self._version_sql
        if sql is None:  # built once: this runs on every API request
            params = self.internal.params
            sql = self._version_sql = where(params, params.key == SCHEMA_VERSION_KEY)._select(params.value)
        return sql

    def _stored_version(self) -> str | None:
        sql = self._version_query()
        try:
            value = self.db.scalar(sql)
        except Exception as exc:
            if is_missing_table_error(exc):
                return None
            raise
        return value

    def _load(self) -> None:
        table = self.internal.collections
        sql = where(table)._select(table.definition, orderby=table.created | table.id)
        # The version is read before the rows: a change landing in between makes the next check
        # reload again, instead of leaving new rows cached under an old version.
        try:
            version = self._stored_version()
            rows = self.db.fetchall(sql)
        except Exception as exc:
            if not is_missing_table_error(exc):
                raise
            version = None
        if version is None:
            log.info("first start: creating the system tables")
            bootstrap(self.db, self.internal)
            version = self._stored_version()
            rows = self.db.fetchall(sql)
        from .system import builtin_collections

        loaded_ids = {orjson.loads(definition).get("id") for (definition,) in rows}
        if any(c.system and c.id not in loaded_ids for c in builtin_collections()):
            # a database created by an older version: add the built-in collections it lacks
            bootstrap(self.db, self.internal)
            version = self._stored_version()
            rows = self.db.fetchall(sql)
        compiled: list[CompiledCollection] = []
        for (definition,) in rows:
            collection = collection_from_json(orjson.loads(definition))
            compiled.append(CompiledCollection(collection, self.db.dal, self.db.dialect))
        by_key: dict[str, CompiledCollection] = {}
        for item in compiled:
            by_key[item.id] = item
            by_key[item.name] = item
            by_key["lower:" + item.name.lower()] = item
        previous = self._ordered
        self._by_key, self._ordered, self._version = by_key, compiled, version
        # The old snapshot's tables leave the shared pyDAL object now (requests in flight keep
        # their own references): without this every schema change leaked a full set of tables.
        for old in previous:
            old.release()
