"""Deciding a rule without the database when it only compares request values with constants.

``@request.auth.id != ""`` — the most common create rule — reads nothing of the record: once the
caller is known, both sides are literals. Such rules are decided here, so a create or update
does not spend a query re-reading the row it just wrote to learn what is already known. Only
text/null equality is folded (PocketBase's empty-equals-null semantics: ``NULL`` and ``""`` are
equal); anything else, or any operand that reads the record, is left to SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .operands import Lit
from .syntax import Compare, Ident, Logical, Node, Text

_FOLDABLE_KINDS = ("text", "null")


def fold(node: Node, operand: Callable[[Any], Any]) -> bool | None:
    """True or False when ``node`` is decided by literals alone; None when SQL must decide.
    ``operand`` resolves a parsed operand for the current caller."""
    if isinstance(node, Logical):
        results = [fold(item, operand) for item in node.items]
        decisive, other = (False, True) if node.kind == "and" else (True, False)
        if decisive in results:
            return decisive
        return other if all(result is other for result in results) else None
    return _fold_compare(node, operand)


def _fold_compare(node: Compare, operand: Callable[[Any], Any]) -> bool | None:
    if node.any_of or node.op not in ("=", "!="):
        return None
    sides = []
    for raw in (node.left, node.right):
        # Only request values and text constants: resolving a field could join other tables.
        if not (isinstance(raw, Text) or (isinstance(raw, Ident) and raw.name.startswith("@request."))):
            return None
        if isinstance(raw, Ident) and raw.name.endswith((":changed", ":isset", ":length", ":each", ":lower")):
            return None
        value = operand(raw)
        if not isinstance(value, Lit) or value.kind not in _FOLDABLE_KINDS:
            return None
        sides.append("" if value.value is None else str(value.value))
    equal = sides[0] == sides[1]
    return equal if node.op == "=" else not equal
