"""Identifiers of the filter language -> operands, through an allow-list built from the schema.

Supported: fields (``title``), JSON paths (``meta.a.b``), relation paths (``author.org.name``,
at most 6 relations deep), back-relations (``comments_via_post.body``), the modifiers ``:lower``,
``:length``, ``:each``, ``:isset`` and ``:changed``, ``@request.*``, ``@collection.<name>[:alias].*``
and the datetime macros. Anything not found in the schema is a ``FilterError`` (400) — never a name
passed through to SQL.

Client filters (``client=True``) may not read hidden fields; each collection they reach through a
relation must have a list rule that is not locked, and that rule is applied to the related rows
(PocketBase's behaviour). API rules may read everything.

Per-field read rules apply where a column is read: every column reference of a client filter or
sort goes through ``readguard.guarded_column`` (see there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..collections.compiled import CompiledCollection
from .context import RequestInfo
from .macros import macro_value
from .operands import (
    Col,
    Env,
    Hop,
    Instance,
    Key,
    Lit,
    Many,
    Render,
    SharedJoin,
    element_value,
    json_elements_source,
    next_alias,
    null_row_source,
    rows_by_elements,
    scalar_subquery,
    table_source,
)
from .readguard import guarded_column, links_readable

MAX_NESTED_RELATIONS = 6
MODIFIERS = ("isset", "changed", "length", "each", "lower")
#: What ``@request.auth.<password or tokenKey>`` compares as when the record has one.
SECRET_MARKER = "[secret]"  # noqa: S105 - a placeholder, not a secret
PLAIN_AUTH_FIELDS = {"id", "collectionId", "collectionName", "email", "emailVisibility", "verified"}


class FilterError(ValueError):
    """An identifier, modifier or function the filter may not use (400)."""


class ForbiddenIdentifier(FilterError):
    """A client filter reaching for ``@request.*`` / ``@collection.*`` (403)."""


@dataclass
class Scope:
    compiled: CompiledCollection
    table: Any
    registry: Any
    info: RequestInfo
    client: bool
    #: compiles a rule text on a (possibly aliased) table of a collection, hidden fields allowed;
    #: ``rule_on(compiled, table, text, True)`` also gives None when the rule holds on every row
    #: for this caller (decided from request values alone)
    rule_on: Callable[..., Render | None]
    #: ``@collection`` aliases shared by the whole expression, by alias name
    shared: dict[str, SharedJoin] = field(default_factory=dict)
    #: set when the compiled result depends on the caller beyond the expression text (embedded
    #: list rules of related collections, field read rules): such results are never cached
    caller_dependent: bool = False
    #: set when the expression reads a column behind a read rule the caller may fail on some row
    reads_guarded: bool = False


Resolved = Lit | Col | Instance


def kind_of(f: Any) -> str:
    if f.type == "number":
        return "number"
    if f.type == "bool":
        return "bool"
    if f.type in ("json", "geoPoint"):
        return "jsonvalue"
    if f.type in ("select", "relation", "file") and f.is_multiple:
        return "array"
    return "text"


def affinity_of(kind: str) -> str | None:
    """The SQLite affinity PocketBase's columns give a stored field's values."""
    if kind in ("number", "bool"):
        return "numeric"
    if kind in ("text", "array"):
        return "text"
    return None


def split_modifier(prop: str) -> tuple[str, str]:
    name, _, modifier = prop.partition(":")
    if modifier and modifier not in MODIFIERS:
        raise FilterError(f"Unknown modifier {modifier!r}.")
    return name, modifier


def resolve_ident(name: str, scope: Scope) -> Lit | Col | Many:
    """The operand ``name`` stands for. Multi-valued results become ``Many`` whose every
    instance is a fresh resolution (fresh aliases), so one operand can appear in several
    subqueries of the same statement."""
    result = _resolve(name, scope)
    if not isinstance(result, Instance):
        return result
    pending = [result]

    def build() -> Instance:
        if pending:
            return pending.pop()
        again = _resolve(name, scope)
        assert isinstance(again, Instance)
        return again

    return Many(build, result.guard)


def _resolve(name: str, scope: Scope, fresh: bool = False) -> Resolved:
    lowered = name.lower()
    if lowered in ("null", "true", "false"):
        return Lit(None, "null") if lowered == "null" else Lit(lowered == "true", "bool")
    if name.startswith("@"):
        macro = macro_value(name)
        if macro is not None:
            return Lit(macro, "number" if isinstance(macro, int) else "text")
        if name.startswith("@request."):
            return _resolve_request(name, scope)
        if name.startswith("@collection."):
            return _resolve_collection(name, scope, fresh)
        raise FilterError(f"Unknown identifier {name!r}.")
    return _walk(scope.compiled, scope.table, name.split("."), scope, [], False, 0)


# -- fields and relation paths ------------------------------------------------------------------


def _field(compiled: CompiledCollection, name: str, scope: Scope) -> Any:
    f = compiled.fields.get(name)
    if f is None:
        raise FilterError(f"Unknown field {name!r}.")
    if f.hidden and scope.client:
        raise FilterError(f"Field {name!r} cannot be used in filters.")
    return f


def _column_render(table: Any, compiled: CompiledCollection, name: str) -> Render:
    column = table[compiled.columns[name].name]
    return lambda env: env.col(column)


def _walk(
    compiled: CompiledCollection,
    table: Any,
    props: list[str],
    scope: Scope,
    hops: list[Hop],
    multi: bool,
    depth: int,
) -> Resolved:
    """Follow ``props`` from ``compiled`` (already reached through ``hops``) to a value."""
    prop, rest = props[0], props[1:]
    name, modifier = split_modifier(prop)
    if not rest:
        return _final(compiled, table, name, modifier, scope, hops, multi)
    if modifier:
        raise FilterError(f"Modifiers are allowed only on the last part of {'.'.join(props)!r}.")
    field_def = compiled.fields.get(name)
    if field_def is not None and field_def.type in ("json", "geoPoint"):
        if field_def.hidden and scope.client:
            raise FilterError(f"Field {name!r} cannot be used in filters.")
        column, readable = guarded_column(table, compiled, name, scope)
        path = _json_path(column, rest)
        path.guard = readable
        return _finish(path, hops, multi)
    if depth >= MAX_NESTED_RELATIONS:
        raise FilterError(f"Relations are nested deeper than {MAX_NESTED_RELATIONS} levels.")
    if field_def is None and "_via_" in name:
        return _back_relation(compiled, table, name, rest, scope, hops, depth)
    field_def = _field(compiled, name, scope)
    if field_def.type != "relation":
        raise FilterError(f"Field {name!r} is not a relation.")
    target = scope.registry.get(field_def.opt("collectionId"))
    if target is None:
        raise FilterError(f"The relation {name!r} points to a missing collection.")
    if not field_def.is_multiple and rest == ["id"]:
        return _final(compiled, table, name, "", scope, hops, multi)
    source_column, readable = guarded_column(table, compiled, name, scope)
    alias = next_alias()
    aliased = target.table.with_alias(alias)
    target_id = _column_render(aliased, target, "id")
    # Either way the related row is found by its primary key.
    key = None
    if field_def.is_multiple:
        elements = next_alias("je")
        source = rows_by_elements(source_column, target.table, alias, elements)
        condition = _equals(target_id, element_value(elements).render)
        key = Key(
            target_id, [table_source(target.table, alias)], 1, _any_element_in(source_column), source_column
        )
    else:
        source = table_source(target.table, alias)
        condition = _equals(target_id, source_column)
    hop = Hop([source], [condition, *_rule_join(target, aliased, scope)], key=key)
    hop.guard = readable
    return _walk(target, aliased, rest, scope, [*hops, hop], multi or field_def.is_multiple, depth + 1)


def _back_relation(
    compiled: CompiledCollection,
    table: Any,
    name: str,
    rest: list[str],
    scope: Scope,
    hops: list[Hop],
    depth: int,
) -> Resolved:
    collection_name, _, field_name = name.partition("_via_")
    target = scope.registry.get(collection_name)
    back = target.fields.get(field_name) if target else None
    if target is None or back is None or back.type != "relation" or back.opt("collectionId") != compiled.id:
        raise FilterError(f"Invalid back-relation {name!r}.")
    if back.hidden and scope.client:
        raise FilterError(f"Field {field_name!r} cannot be used in filters.")
    own_id = _column_render(table, compiled, "id")
    alias = next_alias()
    aliased = target.table.with_alias(alias)
    # a related row whose linking field the caller cannot read is not linked (NULL never matches)
    back_column, _ = guarded_column(aliased, target, field_name, scope)
    sources = [table_source(target.table, alias)]
    if back.is_multiple:
        # one row per (related row, id it points to): the pointing side becomes a plain key
        elements = next_alias("je")
        sources.append(json_elements_source(back_column, elements))
        back_column = element_value(elements).render
    # Keyed on the outer row's id: a first-hop back-relation is matched through one
    # ``id IN (SELECT <pointer> ...)`` per statement rather than a scan per outer row.
    key = Key(back_column, sources, len(sources), _id_in(own_id), own_id)
    hop = Hop(sources, [_equals(own_id, back_column), *_rule_join(target, aliased, scope)], key=key)
    return _walk(target, aliased, rest, scope, [*hops, hop], True, depth + 1)


def _id_in(own_id: Render) -> Callable[[Env, str], str]:
    return lambda env, sub: f"({own_id(env)} IS NOT NULL AND {own_id(env)} IN ({sub}))"


def _any_element_in(array: Render) -> Callable[[Env, str], str]:
    def test(env: Env, sub: str) -> str:
        alias = next_alias("je")
        source = json_elements_source(array, alias)(env)
        return f"EXISTS (SELECT 1 FROM {source} WHERE {element_value(alias).render(env)} IN ({sub}))"

    return test


def _rule_join(target: CompiledCollection, aliased: Any, scope: Scope) -> list[Render]:
    """Client filters see only related rows the caller could list (PocketBase's rule joins)."""
    if not scope.client:
        return []
    rule = target.collection.listRule
    if rule is None:
        raise FilterError(f"The {target.name!r} collection can be filtered on only by superusers.")
    if not rule.strip():
        return []
    scope.caller_dependent = True
    render = scope.rule_on(target, aliased, rule)
    return [render] if render else []


def _final(
    compiled: CompiledCollection,
    table: Any,
    name: str,
    modifier: str,
    scope: Scope,
    hops: list[Hop],
    multi: bool,
) -> Resolved:
    if modifier in ("isset", "changed"):
        raise FilterError(f"The :{modifier} modifier is allowed only on @request.body fields.")
    field_def = _field(compiled, name, scope)
    kind = kind_of(field_def)
    column, readable = guarded_column(table, compiled, name, scope)
    guards: list[Render] = [readable] if readable is not None else []
    if modifier == "length":
        if field_def.type not in ("select", "relation", "file"):
            raise FilterError(f"The :length modifier needs a select, relation or file field, not {name!r}.")
        length = _array_length(column) if field_def.is_multiple else _single_length(column)
        value = Col(length, "number")
    elif modifier == "each":
        if field_def.type not in ("select", "relation", "file"):
            raise FilterError(f"The :each modifier needs a select, relation or file field, not {name!r}.")
        return _each_of_column(column, field_def.is_multiple, hops, readable)
    elif kind == "jsonvalue":
        # PocketBase reads a whole JSON field as json_extract(field, '$'): a native value.
        value = _json_path(column, [])
    else:
        value = Col(column, kind, affinity=affinity_of(kind))
        if modifier == "lower":
            value = Col(lambda env: _lower(env, column(env), kind), "text")
    if field_def.name == "email" and compiled.collection.is_auth and scope.client:
        visible = _column_render(table, compiled, "emailVisibility")
        guards.append(lambda env: f"{visible(env)} = {env.lit(True)}")
    if guards:
        value.guard = lambda env: " AND ".join(f"({g(env)})" for g in guards)
    return _finish(value, hops, multi)


def _finish(value: Col, hops: list[Hop], multi: bool) -> Resolved:
    if not hops:
        return value
    if not multi:
        scalar = scalar_subquery(hops, Col(value.render, value.kind, value.fallback))
        if value.guard is not None:
            scalar.guard = _exists(hops, value.guard)
        if any(hop.guard is not None for hop in hops):
            # a link the caller cannot read: the value is unreadable, the comparison false
            scalar.guard = links_readable(hops, scalar.guard)
        scalar.survivors = rule_join_survivors(hops)
        return scalar
    # multi-valued: the wrapped source columns already leave unreadable links out of the set
    where = [w for hop in hops for w in hop.where]
    if value.guard is not None:
        where.append(value.guard)
    return Instance(
        [s for hop in hops for s in hop.sources],
        where,
        Col(value.render, value.kind, value.fallback),
        hops[0].guard,
        key=hops[0].key,
    )


def rule_join_survivors(hops: list[Hop]) -> Render | None:
    """The rows PocketBase keeps when it joins a chain of single relations for a sort.

    It LEFT JOINs each related collection and puts that collection's list rule in the WHERE
    clause as ``(related.id IS NULL OR rule)``: a row without a related record stays, a row whose
    related record exists but fails the rule drops out of the page and of the total (checked with
    PocketBase 0.40.6). Each hop is ``[link, *rule conditions]`` (``_walk``); None without rules.
    """
    checks: list[Render] = []
    for index, hop in enumerate(hops):
        rules = hop.where[1:]
        if not rules:
            continue
        chain = hops[: index + 1]

        def check(env: Env, chain: list[Hop] = chain, rules: list[Render] = rules) -> str:
            sources = ", ".join(s(env) for h in chain for s in h.sources)
            links = " AND ".join(f"({h.where[0](env)})" for h in chain)
            passes = " AND ".join(f"({r(env)})" for r in rules)
            return f"NOT EXISTS (SELECT 1 FROM {sources} WHERE {links} AND ({passes}) IS NOT TRUE)"

        checks.append(check)
    if not checks:
        return None
    return lambda env: " AND ".join(c(env) for c in checks)


def _exists(hops: list[Hop], condition: Render) -> Render:
    def render(env: Env) -> str:
        sources = [s(env) for hop in hops for s in hop.sources]
        conditions = [w(env) for hop in hops for w in hop.where] + [condition(env)]
        return (
            f"EXISTS (SELECT 1 FROM {', '.join(sources)} WHERE {' AND '.join(f'({c})' for c in conditions)})"
        )

    return render


def _each_of_column(
    column: Render, multiple: bool, hops: list[Hop], readable: Render | None = None
) -> Instance:
    def array(env: Env) -> str:
        sql = column(env)
        if multiple:
            return sql
        # a single-value field as a one-item array ('' -> empty array)
        if env.pg:
            return f"(CASE WHEN {sql} = '' THEN '[]'::jsonb ELSE jsonb_build_array({sql}) END)"
        return f"(CASE WHEN {sql} = '' THEN '[]' ELSE json_array({sql}) END)"

    alias = next_alias("je")
    sources = [s for hop in hops for s in hop.sources] + [json_elements_source(array, alias)]
    where = [w for hop in hops for w in hop.where]
    if readable is not None and hops:
        where.append(readable)  # on a related row: its values are left out of the set
    guard = hops[0].guard if hops else readable
    key = hops[0].key if hops else None
    return Instance(sources, where, element_value(alias), guard, key=key)


def _lower(env: Env, sql: str, kind: str) -> str:
    text = _as_text(sql, kind)
    # ASCII-only lowering on PostgreSQL too, as SQLite (and so PocketBase) does
    return f'LOWER({text} COLLATE "C")' if env.pg else f"LOWER({text})"


def _single_length(column: Render) -> Render:
    return lambda env: f"(CASE WHEN {column(env)} = '' THEN 0 ELSE 1 END)"


def _array_length(column: Render) -> Render:
    def render(env: Env) -> str:
        if env.pg:
            return f"jsonb_array_length(CAST({column(env)} AS JSONB))"
        return f"json_array_length({column(env)})"

    return render


def _json_path(column: Render, path: list[str]) -> Col:
    for part in path:
        # ASCII only: "\u0661" is a digit (and "\u00e9" a letter) to Python, but not a JSON path
        # index or key that SQLite's json_extract accepts unquoted.
        if not part or not part.isascii() or not all(c.isalnum() or c == "_" for c in part):
            raise FilterError(f"Invalid JSON path part {part!r}.")

    def render(env: Env) -> str:
        if env.pg:
            if not path:
                return f"CAST({column(env)} AS JSONB)"
            return f"(CAST({column(env)} AS JSONB) #> {env.lit('{' + ','.join(path) + '}')})"
        json_path = "$"
        for part in path:
            json_path += f"[{part}]" if part.isdigit() else f".{part}"
        return f"json_extract({column(env)}, {env.lit(json_path)})"

    return Col(render, "jsonvalue", fallback="disabled")


def _equals(left: Render, right: Render) -> Render:
    return lambda env: f"{left(env)} = {right(env)}"


def _as_text(sql: str, kind: str) -> str:
    return sql if kind == "text" else f"CAST({sql} AS TEXT)"


# -- @request.* -------------------------------------------------------------------------------------


def _literal(value: Any) -> Lit:
    if value is None:
        return Lit(None, "null")
    if isinstance(value, bool):
        return Lit(value, "bool")
    if isinstance(value, int | float):
        return Lit(value, "number")
    if isinstance(value, str):
        return Lit(value, "text")
    return Lit(orjson.dumps(value).decode(), "text")


def _resolve_request(name: str, scope: Scope) -> Resolved:
    props = name.split(".")
    info = scope.info
    section = props[1] if len(props) > 1 else ""
    if section in ("method", "context") and len(props) == 2:
        return Lit(info.method.upper() if section == "method" else info.context, "text")
    if section == "auth" and len(props) > 2:
        return _resolve_auth(props[2:], scope)
    if section in ("query", "headers") and len(props) == 3:
        if section == "query":
            value = info.query.get(props[2])
        else:
            headers = {k.lower().replace("-", "_"): v for k, v in info.headers.items()}
            value = headers.get(props[2].lower())
        if isinstance(value, list):
            value = value[0] if value else None
        return _literal(value)
    if section == "body" and len(props) >= 3:
        return _resolve_body(props[2:], scope)
    raise FilterError(f"Unknown identifier {name!r}.")


def _resolve_auth(props: list[str], scope: Scope) -> Resolved:
    auth = scope.info.auth
    if auth is None:
        return Lit(None, "null")
    name, modifier = split_modifier(props[0])
    if len(props) == 1 and not modifier and name in ("collectionId", "collectionName"):
        return Lit(auth.collection.id if name == "collectionId" else auth.collection.name, "text")
    field_def = auth.collection.fields.get(name)
    if field_def is None:
        return Lit(None, "null")
    value = auth.record.get(name)
    if field_def.type == "password" or name == "tokenKey":
        # As in PocketBase a stored secret is a non-empty value (``= ''`` is false for a signed-in
        # record), but its content never goes into a statement: it compares as an opaque marker.
        if len(props) > 1:
            return Lit(None, "null")
        return _literal_field_value(None, SECRET_MARKER if value else "", modifier)
    if len(props) == 1:
        return _literal_field_value(field_def, value, modifier)
    if field_def.type in ("json", "geoPoint"):
        return _literal(_dig(value, props[1:]))
    if field_def.type != "relation":
        return Lit(None, "null")
    return _from_literal_ids(field_def, value, props[1:], scope)


def _dig(value: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isascii() and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _literal_field_value(field_def: Any, value: Any, modifier: str) -> Resolved:
    if modifier in ("isset", "changed"):
        raise FilterError(f"The :{modifier} modifier is allowed only on @request.body fields.")
    if modifier == "length":
        return Lit(len(value) if isinstance(value, list) else (1 if value else 0), "number")
    if modifier == "lower":
        return Lit(str(value or "").lower(), "text")
    if modifier == "each":
        items = value if isinstance(value, list) else ([value] if value not in (None, "") else [])
        return _literal_elements(items)
    if field_def is not None and field_def.type == "password":
        return Lit(None, "null")
    if isinstance(value, list):
        return Lit(orjson.dumps(value).decode(), "text")
    return _literal(value)


def _literal_elements(items: list[Any]) -> Instance:
    payload = orjson.dumps([str(i) for i in items]).decode()
    alias = next_alias("je")
    return Instance([json_elements_source(lambda env: env.lit(payload), alias)], [], element_value(alias))


def _from_literal_ids(field_def: Any, value: Any, rest: list[str], scope: Scope) -> Resolved:
    ids = [str(i) for i in (value if isinstance(value, list) else ([value] if value else []))]
    target = scope.registry.get(field_def.opt("collectionId"))
    if not ids or target is None:
        return Lit(None, "null")
    if not field_def.is_multiple and rest == ["id"]:
        return Lit(ids[0], "text")
    alias = next_alias()
    aliased = target.table.with_alias(alias)
    id_column = aliased[target.columns["id"].name]

    def condition(env: Env) -> str:
        return f"{env.col(id_column)} IN ({', '.join(env.lit(i) for i in ids)})"

    hop = Hop([table_source(target.table, alias)], [condition, *_rule_join(target, aliased, scope)])
    return _walk(target, aliased, rest, scope, [hop], field_def.is_multiple, 1)


def _resolve_body(props: list[str], scope: Scope) -> Resolved:
    body = scope.info.body or {}
    name, modifier = split_modifier(props[0])
    field_def = scope.compiled.fields.get(name)
    if modifier == "isset":
        if len(props) > 1:
            raise FilterError("The :isset modifier must be last.")
        return Lit(name in body, "bool")
    if modifier == "changed":
        raise FilterError("The :changed modifier must stand alone on the left of a comparison.")
    value = body.get(name)
    if field_def is not None and field_def.type == "relation" and len(props) > 1:
        return _from_literal_ids(field_def, value, props[1:], scope)
    if len(props) > 1:
        return _literal(_dig(value, props[1:]))
    if field_def is None:
        return Lit(None, "null") if modifier else _literal(value)
    return _literal_field_value(field_def, value, modifier)


# -- @collection.* ----------------------------------------------------------------------------------


def _resolve_collection(name: str, scope: Scope, fresh: bool) -> Resolved:
    """``@collection.<name>[:alias].<path>``: a row of another collection joined to the whole
    expression (every comparison naming the same alias talks about the same row)."""
    props = name.split(".")
    if len(props) < 3:
        raise FilterError(f"Invalid @collection identifier {name!r}.")
    collection_name, _, alias_name = props[1].partition(":")
    target = scope.registry.get(collection_name)
    if target is None:
        raise FilterError(f"Unknown collection {collection_name!r}.")
    if fresh:
        alias = next_alias("c")
        aliased = target.table.with_alias(alias)
        hop = Hop([table_source(target.table, alias)], _rule_join(target, aliased, scope))
        result = _walk(target, aliased, props[2:], scope, [hop], True, 1)
        assert isinstance(result, Instance)
        return result
    key = alias_name or target.name
    shared = scope.shared.get(key)
    if shared is None or shared.collection_id != target.id:
        alias = next_alias("c")
        aliased = target.table.with_alias(alias)
        shared = SharedJoin(
            target.id,
            aliased,
            alias,
            table_source(target.table, alias),
            _rule_join(target, aliased, scope),
            null_row_source(target, alias, scope.client),
        )
        scope.shared[key] = shared
    value = _walk(target, shared.table, props[2:], scope, [], False, 1)
    if isinstance(value, Col):
        value.fresh = lambda: _resolve_collection(name, scope, True)  # type: ignore[assignment]
    return value
