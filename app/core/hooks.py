"""Typed record hooks: before/after a create, update or delete, in the transaction or after commit.

    @hooks.on_record_create("posts")                 # before the INSERT, in the transaction
    def stamp(event: RecordEvent) -> None:
        event.record["slug"] = slugify(event.record["title"])

    @hooks.on_record_create("posts", stage="after")  # after the INSERT, same transaction
    @hooks.on_record_delete(stage="commit")          # every collection, once committed

``before`` and ``after`` hooks run synchronously inside the write's transaction: raising anything
rolls the whole write back (a batch included) and the client gets the error (an ``ApiError`` keeps
its status, anything else is a 400 for that write). ``commit`` hooks run after the commit and
cannot undo it; realtime delivery and webhooks are built on them. A ``commit`` hook may be a
coroutine function: it is scheduled on the server's event loop (``app.tools.loops``; thread-safe:
requests run on worker threads). On Lambda nothing may outlive the invocation (the instance
freezes once the handler returns), so the Lambda door awaits what was scheduled
(``app.tools.loops.settle``) before it answers.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..tools import loops

log = logging.getLogger("emmettbase.hooks")

Action = Literal["create", "update", "delete"]
Stage = Literal["before", "after", "commit"]
STAGES: tuple[Stage, ...] = ("before", "after", "commit")
ACTIONS: tuple[Action, ...] = ("create", "update", "delete")


@dataclass
class RecordEvent:
    """What a hook receives. ``record`` is the record's python values (mutable in ``before``)."""

    action: Action
    collection: Any
    record: dict[str, Any]
    original: dict[str, Any] | None = None
    auth: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def collection_name(self) -> str:
        return str(self.collection.name)


Hook = Callable[[RecordEvent], Any]


class Hooks:
    def __init__(self) -> None:
        self._hooks: dict[tuple[Action, Stage], list[tuple[frozenset[str], Hook]]] = {
            (action, stage): [] for action in ACTIONS for stage in STAGES
        }

    def register(self, action: Action, stage: Stage, hook: Hook, collections: tuple[str, ...] = ()) -> Hook:
        if action not in ACTIONS or stage not in STAGES:
            raise ValueError(f"unknown hook {action}/{stage}")
        if stage != "commit" and inspect.iscoroutinefunction(hook):
            raise TypeError(f"{stage!r} hooks run inside the transaction and must be plain functions")
        self._hooks[(action, stage)].append((frozenset(collections), hook))
        return hook

    def _decorator(
        self, action: Action, collections: tuple[str, ...], stage: Stage
    ) -> Callable[[Hook], Hook]:
        def decorate(hook: Hook) -> Hook:
            return self.register(action, stage, hook, collections)

        return decorate

    def on_record_create(self, *collections: str, stage: Stage = "before") -> Callable[[Hook], Hook]:
        return self._decorator("create", collections, stage)

    def on_record_update(self, *collections: str, stage: Stage = "before") -> Callable[[Hook], Hook]:
        return self._decorator("update", collections, stage)

    def on_record_delete(self, *collections: str, stage: Stage = "before") -> Callable[[Hook], Hook]:
        return self._decorator("delete", collections, stage)

    def has(self, action: Action, stage: Stage) -> bool:
        return bool(self._hooks[(action, stage)])

    def _matching(self, event: RecordEvent, stage: Stage) -> list[Hook]:
        names = {event.collection.name, event.collection.id}
        return [hook for scope, hook in self._hooks[(event.action, stage)] if not scope or scope & names]

    def run(self, event: RecordEvent, stage: Stage) -> None:
        """Run in-transaction hooks; their exceptions propagate (and roll back the write)."""
        for hook in self._matching(event, stage):
            hook(event)

    def run_after_commit(self, event: RecordEvent) -> None:
        """Run commit hooks; a failing one is logged and never affects the committed write."""
        for hook in self._matching(event, "commit"):
            try:
                result = hook(event)
                if inspect.isawaitable(result):
                    _schedule(result)
            except Exception:
                log.exception("after-commit hook %r failed", hook)


def _schedule(awaitable: Any) -> None:
    loops.spawn(awaitable)
