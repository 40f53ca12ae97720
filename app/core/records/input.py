"""Applying submitted data to a record: casting, field modifiers and protected fields.

Keys name fields (``title``) or modifiers (``views+`` add, ``+tags`` prepend, ``tags-`` remove).
Plain values are applied first, then modifiers, each in the order submitted, so ``{"views": 1,
"views+": 2}`` gives 3. Unknown keys are ignored, as PocketBase does. Casting errors are collected
per field and raised together as one 400.

Rules read the body (``@request.body``) as PocketBase does, cast and *after* modifiers:
``rules_info`` turns ``{"roles+": "admin"}`` into ``{"roles": <current roles + admin>}`` against
the record the write starts from, so a modifier key counts as setting the field and ``:changed``,
``:length``, ``:each`` see the resulting value. The records service calls it for every create and
update whose rules read the body (API, batch, multipart alike): the one place the body reaches
the rules.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..collections.compiled import CompiledCollection
from ..collections.fields import InvalidValue
from ..rules.context import RequestInfo

#: Field types whose submitted value rules read as sent.
_AS_SENT = ("password", "autodate")

#: Keys that are part of the auth flows, not fields.
AUTH_INPUT_KEYS = {"passwordConfirm", "oldPassword"}


def split_modifier(key: str, compiled: CompiledCollection) -> tuple[str, str] | None:
    """(field name, op) for ``key``; op is ``=``, ``+``, ``^+`` or ``-``; None for unknown keys."""
    if key in compiled.fields:
        return key, "="
    if key.endswith("+") and key[:-1] in compiled.fields:
        return key[:-1], "+"
    if key.startswith("+") and key[1:] in compiled.fields:
        return key[1:], "^+"
    if key.endswith("-") and key[:-1] in compiled.fields:
        return key[:-1], "-"
    return None


def has_modifiers(compiled: CompiledCollection, data: dict[str, Any]) -> bool:
    """Whether ``data`` holds a modifier key of a field (``views+``, ``+tags``, ``tags-``)."""
    for key in data:
        if key.endswith(("+", "-")) or key.startswith("+"):
            parsed = split_modifier(key, compiled)
            if parsed is not None and parsed[1] != "=":
                return True
    return False


def rules_read_body(compiled: CompiledCollection, info: RequestInfo, *names: str) -> bool:
    """Whether one of the rules ``names`` a write checks reads ``@request.body`` (only then is
    the body resolved; superusers bypass the rules)."""
    if info.is_superuser:
        return False
    return any("@request.body" in (compiled.collection.rule(name) or "").lower() for name in names)


def rules_info(
    compiled: CompiledCollection, current: dict[str, Any], data: dict[str, Any], info: RequestInfo
) -> RequestInfo:
    """``info`` with the body as rules must see it (PocketBase's ``@request.body``): every field
    key holds the value the write will store, cast as the field casts it (``"true"`` is ``true``,
    a JSON text is its JSON), modifiers applied to ``current`` after any plain value of the same
    field, and modifier keys replaced by their field. Keys that are not fields, passwords (their
    plain text never reaches a rule) and values the field refuses (the write fails) stay as sent."""
    body = dict(data)
    values: dict[str, Any] = {}
    modifiers: list[tuple[str, str, str, Any]] = []
    for key, raw in data.items():
        parsed = split_modifier(key, compiled)
        if parsed is None or compiled.fields[parsed[0]].type in _AS_SENT:
            continue
        name, op = parsed
        if op != "=":
            modifiers.append((key, name, op, raw))
            continue
        field = compiled.fields[name]
        try:
            values[name] = field.kind.prepare(field, raw)
        except InvalidValue:
            continue
    for key, name, op, raw in modifiers:
        field = compiled.fields[name]
        if name in data and name not in values:
            continue  # the plain value is refused, and so is the write
        try:
            base = values[name] if name in values else current.get(name, field.kind.zero(field))
            values[name] = field.kind.modify(field, base, op, raw)
        except InvalidValue:
            continue
        del body[key]
    for name, value in values.items():
        field = compiled.fields[name]
        body[name] = field.kind.to_wire(field, value)
    return replace(info, body=body)


def apply_input(
    compiled: CompiledCollection,
    record: dict[str, Any],
    data: dict[str, Any],
    *,
    is_new: bool,
    privileged: bool,
) -> tuple[set[str], dict[str, Any]]:
    """Apply ``data`` onto ``record`` in place; returns (changed field names, field errors)."""
    errors: dict[str, Any] = {}
    changed: set[str] = set()
    plain: list[tuple[str, Any]] = []
    modifiers: list[tuple[str, str, Any]] = []
    for key, value in data.items():
        parsed = split_modifier(key, compiled)
        if parsed is None:
            continue
        name, op = parsed
        field = compiled.fields[name]
        if not _writable(compiled, field, is_new, privileged):
            continue
        if op == "=":
            plain.append((name, value))
        else:
            modifiers.append((name, op, value))
    for name, value in plain:
        field = compiled.fields[name]
        try:
            record[name] = field.kind.prepare(field, value)
            changed.add(name)
        except InvalidValue as exc:
            errors[name] = exc.error
    for name, op, value in modifiers:
        if name in errors:
            continue
        field = compiled.fields[name]
        try:
            record[name] = field.kind.modify(field, record.get(name, field.kind.zero(field)), op, value)
            changed.add(name)
        except InvalidValue as exc:
            errors[name] = exc.error
    return changed, errors


def _writable(compiled: CompiledCollection, field: Any, is_new: bool, privileged: bool) -> bool:
    if field.type == "autodate":
        return False
    if field.name == "id":
        return is_new
    # Hidden fields are not client-settable (tokenKey included), except an auth record's password.
    return not field.hidden or privileged or field.type == "password"
