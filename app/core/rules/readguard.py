"""Per-field read rules (``fields[].readRule``) inside client filters and sorts: one mechanism.

``guarded_column`` is the only way the resolver reads a stored column for a client. For a column
behind a read rule the caller may fail on some row, it renders
``CASE WHEN <read rule> THEN <column> END``: on a row the caller may not read, the value is NULL to
everything built on it — a comparison, a JSON or geoPoint path, a modifier, a function argument,
the source column of a relation hop or the linking column of a back-relation — whatever the
operator or the way the hop is joined. So no guarded value can change a result.

The read-rule condition is also handed back so that the resolver can make comparisons on such a
value false (``Col.guard``, ``Many.guard``, ``links_readable`` for chains of single relations), and
``Scope.reads_guarded`` tells the sort resolver to refuse (400). Rules that hold on every row for
this caller (decided from request values alone) add nothing, and collections without read rules
compile exactly as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .operands import Env, Hop, Render

if TYPE_CHECKING:
    from ..collections.compiled import CompiledCollection
    from .resolver import Scope


def guarded_column(
    table: Any, compiled: CompiledCollection, name: str, scope: Scope
) -> tuple[Render, Render | None]:
    """The column ``name`` as a client may read it, and the condition under which it may (None:
    always). The one place read rules apply: a column the caller cannot read on a row renders as
    NULL there, so no operator, path, modifier, function or hop built on it sees the value."""
    column = table[compiled.columns[name].name]
    raw: Render = lambda env: env.col(column)  # noqa: E731
    if not scope.client:
        return raw, None
    field_def = compiled.fields.get(name)
    rule = field_def.read_rule if field_def is not None else None
    if not rule or not rule.strip():
        return raw, None
    scope.caller_dependent = True
    readable = scope.rule_on(compiled, table, rule, True)
    if readable is None:  # the rule holds on every row for this caller
        return raw, None
    scope.reads_guarded = True
    return (lambda env: f"(CASE WHEN {readable(env)} THEN {raw(env)} END)"), readable


def links_readable(hops: list[Hop], value_guard: Render | None) -> Render:
    """Every guarded link of a chain of single relations is readable: the first one's rule is on
    the filtered row itself; a later one's on a related row, so no row reached by the links before
    it may fail it."""

    def render(env: Env) -> str:
        parts = [] if value_guard is None else [value_guard(env)]
        for index, hop in enumerate(hops):
            if hop.guard is None:
                continue
            if index == 0:
                parts.append(hop.guard(env))
                continue
            sources = [s(env) for h in hops[:index] for s in h.sources]
            conditions = [w(env) for h in hops[:index] for w in h.where] + [f"({hop.guard(env)}) IS NOT TRUE"]
            where = " AND ".join(f"({c})" for c in conditions)
            parts.append(f"NOT EXISTS (SELECT 1 FROM {', '.join(sources)} WHERE {where})")
        return " AND ".join(f"({p})" for p in parts)

    return render
