"""Per-field read rules (``fields[].readRule``, an EmmettBase extension): which rows may show a field.

Each guarded field becomes one extra SELECT expression, 1 where the caller passes the field's rule
for that row; the field is removed from the row's JSON where it is 0. One query either way: no
per-record round trips.
"""

from __future__ import annotations

from typing import Any

from ..collections.compiled import CompiledCollection, View
from ..rules.compiler import expression
from ..rules.operands import Render


def guard_flags(compiled: CompiledCollection, guards: list[tuple[str, Any]]) -> list[Any]:
    """One SELECT expression per read-guarded field: 1 where the caller may see it."""
    db = compiled.table._db
    return [expression(db, compiled.id_column, _flag(query), "integer") for _, query in guards]


def _flag(query: Any) -> Render:
    if query is None:
        return lambda env: "1"
    return lambda env: f"(CASE WHEN {env.col(query)} THEN 1 ELSE 0 END)"


def drop_guarded(
    view: View, wires: list[dict[str, Any]], rows: list[Any], guards: list[tuple[str, Any]]
) -> None:
    """Remove each guarded field from the rows whose flag (after ``view``'s columns) is 0."""
    offset = len(view.columns)
    for wire, row in zip(wires, rows, strict=True):
        for index, (name, _) in enumerate(guards):
            if not row[offset + index]:
                wire.pop(name, None)
