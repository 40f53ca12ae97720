"""Filter text -> syntax tree -> pyDAL ``Query``, with PocketBase's comparison semantics.

- Equality follows PocketBase's empty-value rules: ``x = ''`` and ``x = null`` both match an
  empty text (``'' = null`` is true); ``!=`` is the exact negation; JSON paths compare with ``IS``.
- ``~`` / ``!~`` are case-insensitive LIKE; a value without ``%`` is wrapped in ``%...%`` with
  ``%``, ``_`` and ``\\`` escaped, a value with ``%`` is used as the pattern.
- Multi-valued operands (``Many``): ``?op`` is true when ANY value matches; a plain op needs ALL
  values to match (and an empty set compares as NULL), like PocketBase's multi-match subqueries.
- ``@collection`` rows are joined to the whole expression: the expression must hold for some row
  (or, when the collection is empty, with that row's values as NULL).
- Values of the other side decide how a literal is typed, and mismatched kinds compare as text,
  so no comparison can make PostgreSQL raise a type error.

Every leaf is a pyDAL ``Query`` whose SQL is rendered at build time from pyDAL-expanded columns and
pyDAL-represented values; no request text ever becomes SQL text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydal.objects import Expression, Query

from ..errors import BadRequest, Forbidden
from .comparison import scalar_compare
from .context import RequestInfo
from .folding import fold
from .functions import call_operand
from .operands import Col, Env, Lit, Many, Render, SharedJoin, typed_null
from .resolver import FilterError, ForbiddenIdentifier, Scope, resolve_ident
from .syntax import Call, Compare, FilterSyntaxError, Ident, Logical, Node, Number, Text, parse, walk_operands

Operand = Lit | Col | Many


@lru_cache(maxsize=512)
def parse_cached(text: str) -> Node:
    return parse(text)


def leaf(db: Any, anchor: Any, render: Render) -> Query:
    """A pyDAL Query whose SQL is ``render(env)``; ``anchor`` (a column of the filtered table)
    tells pyDAL which table the query is about."""

    def op(first: Any, second: Any, query_env: dict[str, Any] | None = None) -> str:
        return render(Env(db, query_env))

    return Query(db, op, anchor, True)


def expression(db: Any, anchor: Any, render: Render, type_: str = "string") -> Expression:
    def op(first: Any, second: Any, query_env: dict[str, Any] | None = None) -> str:
        return render(Env(db, query_env))

    return Expression(db, op, anchor, True, type_)


def _nulls_lowest(render: Render) -> Render:
    """A sort key whose NULL (no related record) orders as SQLite's does, below every value:
    PostgreSQL puts NULLs last in ascending order, so it sorts by ``(value IS NOT NULL, value)``."""

    def sort_key(env: Env) -> str:
        value = render(env)
        return f"ROW({value} IS NOT NULL, {value})" if env.pg else value

    return sort_key


def _as_api_error(method: Callable[..., Any]) -> Callable[..., Any]:
    """Filter problems become 400s (403 for forbidden identifiers) at the public entry points."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ForbiddenIdentifier as exc:
            raise Forbidden(str(exc)) from None
        except FilterError as exc:
            raise BadRequest(INVALID_FILTER, detail=str(exc)) from None

    wrapper.__doc__ = method.__doc__
    return wrapper


INVALID_FILTER = "Something went wrong while processing your request."


COMPILED_CACHE_SIZE = 512


def _request_independent(node: Node) -> bool:
    for operand in walk_operands(node):
        if (
            isinstance(operand, Ident)
            and operand.name.startswith("@")
            and not operand.name.startswith("@collection.")
        ):
            return False
        if isinstance(operand, Call) and operand.name == "strftime":
            return False
    return True


class RulesCompiler:
    def __init__(self, registry: Any):
        self.registry = registry
        self._compiled: OrderedDict[tuple[Any, ...], Query] = OrderedDict()
        # Requests run on worker threads (app.api.offload): the LRU's reorder and eviction must
        # not interleave (a popitem racing a move_to_end raises KeyError).
        self._compiled_lock = threading.Lock()

    # -- public entry points ---------------------------------------------------------------------

    @_as_api_error
    def rule(self, compiled: Any, text: str, info: RequestInfo) -> Query | None:
        """An API rule (trusted text: hidden fields and ``@request`` allowed); None when the rule
        holds for this caller whatever the record (it only compares request values)."""
        node = self._parse(text)
        scope = self._scope(compiled, compiled.table, info, client=False)
        if fold(node, lambda raw: self._operand(raw, scope)) is True:
            return None
        return self._query(compiled, compiled.table, text, info, client=False, node=node)

    @_as_api_error
    def client_filter(self, compiled: Any, text: str, info: RequestInfo) -> Query:
        """A client ``filter``: non-superusers may not use ``@request``/``@collection``, hidden
        fields, or relations into collections they could not list."""
        client = not info.is_superuser
        node = self._parse(text)
        if client:
            names = [o.name.lower() for o in walk_operands(node) if isinstance(o, Ident)]
            for source in ("@collection", "@request"):
                if any(name.startswith(source) for name in names):
                    raise ForbiddenIdentifier(f"Only superusers can filter by {source}.")
        return self._query(compiled, compiled.table, text, info, client=client, node=node)

    @_as_api_error
    def sort_column(self, compiled: Any, name: str, info: RequestInfo) -> tuple[Expression, Query | None]:
        """A relation path (``author.name``) usable in ORDER BY, and the condition the listed rows
        must then meet (None for none): rows whose related record the caller may not list drop
        out, as in PocketBase."""
        scope = self._scope(compiled, compiled.table, info, client=not info.is_superuser)
        if name.startswith("@"):
            raise FilterError(f"Invalid sort field {name!r}.")
        operand = resolve_ident(name, scope)
        if not isinstance(operand, Col) or scope.shared:
            raise FilterError(f"Cannot sort by {name!r}.")
        if scope.reads_guarded:
            # as for a plain field with a read rule: the order would tell the hidden values
            raise FilterError(f"Cannot sort by {name!r}: it reads a field with a read rule.")
        db = compiled.table._db
        survivors = operand.survivors
        keep = leaf(db, compiled.id_column, survivors) if survivors is not None else None
        return expression(db, compiled.id_column, _nulls_lowest(operand.render)), keep

    def check_collection_rules(self, collection: Any) -> dict[str, Any]:
        """Errors of a definition's rule expressions, keyed by rule name (PocketBase's
        ``validation_invalid_rule``). The definition may not be saved yet: it is compiled on the side."""
        from ..collections.compiled import CompiledCollection

        db = self.registry.db
        compiled = CompiledCollection(collection, db.dal, db.dialect)
        try:
            return self._rule_errors(collection, compiled)
        finally:
            compiled.release()  # a side compile: its pyDAL table must not stay registered

    def _rule_errors(self, collection: Any, compiled: Any) -> dict[str, Any]:
        from ...db.sql import where
        from ..collections.model import AUTH_RULE_NAMES, RULE_NAMES

        overlay = _Overlay(self.registry, compiled)
        errors: dict[str, Any] = {}
        names = RULE_NAMES + (AUTH_RULE_NAMES if collection.is_auth else ())
        checks: list[tuple[tuple[str, ...], str | None]] = [
            ((name,), collection.rule(name)) for name in names
        ]
        checks += [(("fields", str(i), "readRule"), f.read_rule) for i, f in enumerate(collection.fields)]
        if collection.is_auth:
            mfa_rule = (collection.options.get("mfa") or {}).get("rule")
            checks.append((("mfa", "rule"), mfa_rule if isinstance(mfa_rule, str) else None))
        for path, rule in checks:
            if rule is None or not rule.strip():
                continue
            try:
                scope = self._scope(compiled, compiled.table, RequestInfo(), False, registry=overlay)
                render = self._with_joins(self._node(self._parse(rule), scope), scope)
                query = leaf(compiled.table._db, compiled.id_column, render)
                where(compiled.table, query)._select(compiled.id_column)
            except FilterError as exc:
                node = errors
                for key in path[:-1]:
                    node = node.setdefault(key, {})
                node[path[-1]] = {
                    "code": "validation_invalid_rule",
                    "message": f"Invalid rule. Raw error: {exc}",
                }
        return errors

    @_as_api_error
    def matches_collection(self, data: dict[str, Any], text: str) -> bool:
        """Evaluate a filter on a collection definition (the collections list API), in Python."""
        return evaluate_plain(self._parse(text), data)

    # -- internals --------------------------------------------------------------------------------

    def _parse(self, text: str) -> Node:
        try:
            return parse_cached(text)
        except FilterSyntaxError as exc:
            raise FilterError(str(exc)) from None

    def _scope(
        self, compiled: Any, table: Any, info: RequestInfo, client: bool, registry: Any = None
    ) -> Scope:
        return Scope(compiled, table, registry or self.registry, info, client, self._rule_on(info, registry))

    def _rule_on(self, info: RequestInfo, registry: Any = None) -> Callable[..., Render | None]:
        """Compiles a trusted rule (list rules of related collections, field read rules) on a
        collection's table or alias, for embedding into another query. With ``fold_true``, a
        rule that holds for this caller whatever the row (request values only) gives None."""

        def compile_on(target: Any, table: Any, rule: str, fold_true: bool = False) -> Render | None:
            if not rule or not rule.strip():
                return None
            node = self._parse(rule)
            scope = self._scope(target, table, info, client=False, registry=registry)
            if fold_true and fold(node, lambda raw: self._operand(raw, scope)) is True:
                return None
            return self._with_joins(self._node(node, scope), scope)

        return compile_on

    def _query(
        self, compiled: Any, table: Any, text: str, info: RequestInfo, client: bool, node: Node | None = None
    ) -> Query:
        node = node if node is not None else self._parse(text)
        # Expressions that read nothing of the request (and no clock) compile to the same query
        # for every caller: keep those in a bounded LRU. A schema reload compiles new collection
        # objects, so stale entries are never hit again and simply age out.
        key = (id(compiled), id(table), text, client) if _request_independent(node) else None
        if key is not None:
            with self._compiled_lock:
                cached = self._compiled.get(key)
                if cached is not None:
                    self._compiled.move_to_end(key)
                    return cached
        scope = self._scope(compiled, table, info, client)
        render = self._with_joins(self._node(node, scope), scope)
        query = leaf(table._db, table[compiled.id_column.name], render)
        if key is not None and not scope.caller_dependent:
            with self._compiled_lock:
                self._compiled[key] = query
                if len(self._compiled) > COMPILED_CACHE_SIZE:
                    self._compiled.popitem(last=False)
        return query

    def _with_joins(self, render: Render, scope: Scope) -> Render:
        """Wrap the expression in the ``@collection`` joins it uses (join semantics)."""
        for shared in scope.shared.values():
            render = _joined(render, shared)
        return render

    def _node(self, node: Node, scope: Scope) -> Render:
        if isinstance(node, Logical):
            parts = [self._node(item, scope) for item in node.items]
            glue = " AND " if node.kind == "and" else " OR "
            return lambda env: "(" + glue.join(part(env) for part in parts) + ")"
        return self._compare(node, scope)

    def _compare(self, node: Compare, scope: Scope) -> Render:
        if isinstance(node.left, Ident) and node.left.name.endswith(":changed"):
            return self._changed(node, scope)
        left = self._operand(node.left, scope)
        right = self._operand(node.right, scope)
        return compare(left, node.base_op, right, node.any_of)

    def _changed(self, node: Compare, scope: Scope) -> Render:
        name = node.left.name  # type: ignore[union-attr]
        if not name.startswith("@request.body.") or name.count(".") != 2:
            raise FilterError("The :changed modifier is allowed only on @request.body.<field>.")
        field = name[len("@request.body.") : -len(":changed")]
        if field not in scope.compiled.fields:
            raise FilterError(f"Unknown field {field!r}.")
        isset = compare(resolve_ident(f"@request.body.{field}:isset", scope), "=", Lit(True, "bool"), False)
        differs = compare(
            resolve_ident(f"@request.body.{field}", scope), "!=", resolve_ident(field, scope), False
        )

        def changed(env: Env) -> str:
            return f"({isset(env)} AND {differs(env)})"

        return compare_bool(changed, node.base_op, self._operand(node.right, scope))

    def _operand(self, operand: Any, scope: Scope) -> Operand:
        if isinstance(operand, Text):
            return Lit(operand.value, "text")
        if isinstance(operand, Number):
            value = operand.value
            return Lit(int(value) if value.is_integer() else value, "number")
        if isinstance(operand, Ident):
            return resolve_ident(operand.name, scope)
        if isinstance(operand, Call):
            return call_operand(operand, lambda arg: self._operand(arg, scope), scope.registry.db.dialect)
        raise FilterError("Unsupported operand.")


class _Overlay:
    """The registry, plus a collection that is being validated and is not saved yet."""

    def __init__(self, registry: Any, extra: Any):
        self.registry = registry
        self.extra = extra
        self.db = registry.db

    def get(self, key: str) -> Any:
        if key in (self.extra.id, self.extra.name):
            return self.extra
        return self.registry.get(key)


def _joined(render: Render, shared: SharedJoin) -> Render:
    def wrapped(env: Env) -> str:
        conditions = [w(env) for w in shared.where] + [render(env)]
        where = " AND ".join(f"({c})" for c in conditions)
        with_row = f"EXISTS (SELECT 1 FROM {shared.source(env)} WHERE {where})"
        # With no row to join, PocketBase's LEFT JOIN still evaluates the expression, with NULLs:
        # the same alias bound to a single row of NULLs.
        assert shared.null_source is not None
        without_row = f"EXISTS (SELECT 1 FROM {shared.null_source(env)} WHERE ({render(env)}))"
        empty = f"NOT EXISTS (SELECT 1 FROM {shared.source(env)})"
        return f"({with_row} OR ({empty} AND {without_row}))"

    return wrapped


# -- comparisons ----------------------------------------------------------------------------------


def compare(left: Operand, op: str, right: Operand, any_of: bool) -> Render:
    many = isinstance(left, Many) or isinstance(right, Many)
    base = _compare_many(left, op, right, any_of) if many else scalar_compare(left, op, right)  # type: ignore[arg-type]
    extras: list[Render] = []
    for side in (left, right):
        if isinstance(side, Col | Many) and side.guard is not None:
            # a value the caller may not read on this row: the comparison is false there
            extras.append(side.guard)
        if not many and isinstance(side, Col) and side.fresh is not None and not any_of:
            extras.append(_every_row(side, op, left, right))  # type: ignore[arg-type]
    if not extras:
        return base
    return lambda env: "(" + " AND ".join([base(env), *(e(env) for e in extras)]) + ")"


def _every_row(side: Col, op: str, left: Lit | Col, right: Lit | Col) -> Render:
    """For a plain op on an ``@collection`` value: no row of that collection may fail it."""
    assert side.fresh is not None
    fresh = Many(side.fresh)

    def predicate(value: Col) -> Render:
        check = scalar_compare(value, op, right) if side is left else scalar_compare(left, op, value)
        return lambda env: f"({check(env)}) IS NOT TRUE"

    return lambda env: f"NOT {fresh.exists(env, predicate)}"


def _compare_many(left: Operand, op: str, right: Operand, any_of: bool) -> Render:
    if isinstance(left, Many) and isinstance(right, Many):
        return _many_vs_many(left, op, right, any_of)
    many_on_left = isinstance(left, Many)
    many = left if isinstance(left, Many) else right
    other = right if many_on_left else left
    assert isinstance(many, Many) and not isinstance(other, Many)

    def predicate(value: Col) -> Render:
        return scalar_compare(value, op, other) if many_on_left else scalar_compare(other, op, value)

    def negated(value: Col) -> Render:
        check = predicate(value)
        return lambda env: f"({check(env)}) IS NOT TRUE"

    def render(env: Env) -> str:
        instance = many.build()
        null_value = typed_null(instance.value.kind)
        fallback = predicate(null_value)(env)
        probe = Many(lambda: instance)
        # the fallback first: it is mostly a constant false that spares the second subquery
        some = f"({probe.exists(env, predicate)} OR (({fallback}) IS TRUE AND NOT {many.exists(env, None)}))"
        if any_of:
            return some
        return f"({some} AND NOT {many.exists(env, negated)})"

    return render


def _many_vs_many(left: Many, op: str, right: Many, any_of: bool) -> Render:
    """Both sides multi-valued: PocketBase joins both, so an empty side takes part as one NULL."""

    def exists(env: Env, negate: bool, left_empty: bool = False, right_empty: bool = False) -> str:
        a = None if left_empty else left.build()
        b = None if right_empty else right.build()
        a_value = a.value if a else typed_null(left.build().value.kind)
        b_value = b.value if b else typed_null(right.build().value.kind)
        check = scalar_compare(a_value, op, b_value)(env)
        if negate:
            check = f"({check}) IS NOT TRUE"
        sources = [s(env) for inst in (a, b) if inst for s in inst.sources]
        conditions = [w(env) for inst in (a, b) if inst for w in inst.where] + [check]
        where = " AND ".join(f"({c})" for c in conditions)
        if not sources:
            return f"({where})"
        return f"EXISTS (SELECT 1 FROM {', '.join(sources)} WHERE {where})"

    def empty(env: Env, many: Many) -> str:
        return f"NOT {many.exists(env, None)}"

    def some(env: Env) -> str:
        return (
            f"({exists(env, False)}"
            f" OR ({empty(env, left)} AND {exists(env, False, left_empty=True)})"
            f" OR ({empty(env, right)} AND {exists(env, False, right_empty=True)})"
            f" OR ({empty(env, left)} AND {empty(env, right)} AND {exists(env, False, True, True)} IS TRUE))"
        )

    if any_of:
        return some
    return lambda env: f"({some(env)} AND NOT {exists(env, True)})"


def compare_bool(render: Render, op: str, right: Operand) -> Render:
    """Compare a boolean SQL condition (``:changed``) with a literal."""
    if not isinstance(right, Lit) or op not in ("=", "!="):
        raise FilterError("The :changed modifier compares only with true or false.")
    truthy = right.value in (True, 1, "true", "1")
    positive = truthy == (op == "=")
    return render if positive else (lambda env: f"NOT {render(env)}")


# -- the collections list API filters definitions, not rows ------------------------------------


def evaluate_plain(node: Node, data: dict[str, Any]) -> bool:
    if isinstance(node, Logical):
        results = (evaluate_plain(item, data) for item in node.items)
        return all(results) if node.kind == "and" else any(results)

    def value(operand: Any) -> Any:
        if isinstance(operand, Text | Number):
            return operand.value
        if isinstance(operand, Ident):
            if operand.name in ("true", "false"):
                return operand.name == "true"
            if operand.name == "null":
                return None
            if operand.name not in ("id", "name", "type", "system", "created", "updated"):
                raise FilterError(f"Unknown field {operand.name!r}.")
            return data.get(operand.name)
        raise FilterError("Unsupported operand.")

    left, right, op = value(node.left), value(node.right), node.base_op
    if op in ("~", "!~"):
        found = str(right or "").lower().strip("%") in str(left or "").lower()
        return found if op == "~" else not found
    if op in ("=", "!="):
        same = (left or "") == (right or "") if not isinstance(left, bool) else left == right
        return same if op == "=" else not same
    try:
        return bool({"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op])
    except TypeError:
        return False
