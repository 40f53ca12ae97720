"""Changes as data: typed records of every committed write, and the ``ChangeSink`` port they go to.

Every write transaction collects one change per affected record or collection
(``Database.record_change``): the records service (create, update, delete, batch, cascade delete,
cascade detach, truncate, auth leftovers), the auth flows' own writes (MFA, OTP, auth origins,
password rehash), hooks' writes made through the records service, code-first collections (which
are written through the same service) and the collections store (create, update, delete, import).

The sink contract (what a ``ChangeSink`` may rely on):
- ``publish`` is called once per committed transaction, after the commit, with every change of
  that transaction in the order the writes happened (a batch is one call); never while the
  transaction is open, never for a transaction that rolled back.
- one change per affected record and write: a record created then updated in one transaction
  gives two changes (the second's ``before`` is the first's ``after``); a cascade gives one change
  per record it deleted or detached; an update that changes no value still gives one (its hooks
  run too, as in PocketBase).
- ``before``/``after`` are the stored values (python values per field, not the API's JSON):
  ``before`` is None for a create, ``after`` is None for a delete. They include hidden and secret
  fields (password hashes, ``tokenKey``): a consumer that sends them anywhere applies the
  collection's visibility rules itself.
- ``auth`` is the ``AuthState`` of the caller that made the write (None for guests and the server
  acting for itself).
- ``publish`` runs on the writer's thread, synchronously, before the request answers (on Lambda
  before the handler returns): it must be quick and must not write to the database. An exception
  is logged and never undoes the write.
- writes made with raw SQL outside ``Database.record_change`` (e.g. a hook calling
  ``runtime.db.execute`` itself) are invisible here: write through ``runtime.records``.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, Protocol

log = logging.getLogger("emmettbase.events")

ChangeAction = Literal["create", "update", "delete"]

# Event ids: a random per-process prefix and a counter (no uuid4 on the hot path); unique across
# processes and Lambda containers, and ordered within one process.
_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count(1)


def new_event_id() -> str:
    return f"{_PREFIX}{next(_COUNTER):010x}"


class RecordChange(NamedTuple):
    """One record written by a committed transaction (a tuple: immutable and cheap to build)."""

    id: str
    collection_id: str
    collection_name: str
    action: ChangeAction
    record_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    auth: Any = None

    @property
    def row(self) -> dict[str, Any]:
        """The record as it is now (``after``), or as it was before its delete."""
        return self.after if self.after is not None else (self.before or {})


class CollectionChange(NamedTuple):
    """One collection definition created, updated or deleted (``before``/``after``: its JSON)."""

    id: str
    action: ChangeAction
    collection_id: str
    collection_name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


Change = RecordChange | CollectionChange


def record_change(
    collection: Any,
    action: ChangeAction,
    record_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    auth: Any = None,
) -> RecordChange:
    """A ``RecordChange`` for a compiled collection (anything with ``id`` and ``name``)."""
    return RecordChange(
        new_event_id(), collection.id, collection.name, action, record_id, before, after, auth
    )


def collection_change(
    action: ChangeAction, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> CollectionChange:
    current = after if after is not None else (before or {})
    return CollectionChange(
        new_event_id(), action, str(current.get("id", "")), str(current.get("name", "")), before, after
    )


class ChangeSink(Protocol):
    """The port committed changes go to (realtime, the outbox and file cleanup consume it)."""

    def publish(self, changes: Sequence[Change]) -> None: ...


class NullSink:
    """Drops every change."""

    def publish(self, changes: Sequence[Change]) -> None:
        return None


class FanOutSink:
    """The in-process default: hands each committed batch to every subscriber, in order.

    A failing subscriber is logged and does not stop the others."""

    def __init__(self) -> None:
        self._subscribers: tuple[Callable[[Sequence[Change]], Any], ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Callable[[Sequence[Change]], Any]) -> Callable[[], None]:
        """Add ``subscriber``; returns the function that removes it."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def publish(self, changes: Sequence[Change]) -> None:
        for subscriber in self._subscribers:  # a snapshot: (un)subscribing never races this loop
            try:
                subscriber(changes)
            except Exception:
                log.exception("change subscriber %r failed", subscriber)
