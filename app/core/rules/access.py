"""The single access decision point: every yes/no on records goes through ``Access``.

The records API, batch, expand (and later file downloads and realtime fan-out) ask it. A rule is
``None`` (locked: superusers only), ``""`` (everyone) or a filter expression that the rules
compiler turns into a pyDAL ``Query``. Superusers bypass every rule.

List, view, update and delete rules are returned as queries that the caller puts into the very
statement it runs (rows failing the rule are filtered out, or the write matches nothing), so no
check-then-write race is possible. A create rule is checked against the would-be record inside the
create's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ..errors import BadRequest, Forbidden
from .context import RequestInfo

Action = Literal["list", "view", "create", "update", "delete"]
RULE_OF = {
    "list": "listRule",
    "view": "viewRule",
    "create": "createRule",
    "update": "updateRule",
    "delete": "deleteRule",
}
LOCKED_MESSAGE = "Only superusers can perform this action."

#: Sentinel returned instead of a query when a rule allows every row.
ALLOW_ALL = None


class Access:
    def __init__(self, compiler: Any = None):
        #: Turns (compiled collection, rule text, request info) into a pyDAL Query; set by the rules
        #: compiler. Without one, only the rules ``None`` and ``""`` are understood and any other
        #: expression allows nothing (fail closed).
        self.compiler = compiler

    def rule_query(self, compiled: Any, action: Action, info: RequestInfo) -> Any:
        """The query restricting ``action`` on ``compiled`` for this request (None: every row).

        Raises ``Forbidden`` when the rule is locked and the caller is not a superuser.
        """
        if info.is_superuser:
            return ALLOW_ALL
        rule = compiled.collection.rule(RULE_OF[action])
        if rule is None:
            raise Forbidden(LOCKED_MESSAGE)
        return self._compile(compiled, rule, info)

    def read_guards(self, compiled: Any, info: RequestInfo) -> list[tuple[str, Any]]:
        """(field name, query) for every field with a read rule the caller is subject to; a row
        shows the field only where the query holds. Superusers are subject to none."""
        if info.is_superuser or not compiled.read_guarded:
            return []
        return [(f.name, self._compile(compiled, f.read_rule, info)) for f in compiled.read_guarded]

    def rule_query_text(self, compiled: Any, rule: str, info: RequestInfo) -> Any:
        """A rule's query for this caller, ``rule`` given as text (auth collections' extra rules)."""
        return self._compile(compiled, rule, info)

    def ensure_unlocked(self, compiled: Any, action: Action, info: RequestInfo) -> None:
        """Refuse early (403) when the action's rule is locked and the caller is not a superuser."""
        if not info.is_superuser and compiled.collection.rule(RULE_OF[action]) is None:
            raise Forbidden(LOCKED_MESSAGE)

    def expand_query(self, compiled: Any, info: RequestInfo) -> Any | bool:
        """The view-rule query for records reached through ``expand``; False: none may be shown."""
        if info.is_superuser:
            return ALLOW_ALL
        rule = compiled.collection.rule("viewRule")
        if rule is None:
            return False
        return self._compile(compiled, rule, info)

    def check_create(self, compiled: Any, info: RequestInfo, probe: Any = None) -> None:
        """Allow or refuse a create. ``probe(query) -> bool`` evaluates a rule query against the
        would-be record (the records service provides it, inside the create's transaction)."""
        if info.is_superuser:
            return
        rule = compiled.collection.rule("createRule")
        if rule is None:
            raise Forbidden(LOCKED_MESSAGE)
        query = self._compile(compiled, rule, info)
        if query is ALLOW_ALL:
            return
        if probe is None or not probe(query):
            raise BadRequest("Failed to create record.")

    def record_allowed(
        self, compiled: Any, rule: str | None, info: RequestInfo, exists: Callable[[Any], bool]
    ) -> bool:
        """Whether one stored record passes ``rule`` for this caller (``authRule``, ``manageRule``).
        ``exists(query)`` tells whether the record matches a rule query."""
        if info.is_superuser:
            return True
        if rule is None:
            return False
        query = self._compile(compiled, rule, info)
        return query is ALLOW_ALL or exists(query)

    def _compile(self, compiled: Any, rule: str, info: RequestInfo) -> Any:
        if not rule.strip():
            return ALLOW_ALL
        if self.compiler is None:
            return deny_all(compiled)
        return self.compiler(compiled, rule, info)


def deny_all(compiled: Any) -> Any:
    """A query no row satisfies (ids are never NULL)."""
    return compiled.id_column == None  # noqa: E711 - pyDAL builds IS NULL from == None
