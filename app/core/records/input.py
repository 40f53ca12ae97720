"""Applying submitted data to a record: casting, field modifiers and protected fields.

Keys name fields (``title``) or modifiers (``views+`` add, ``+tags`` prepend, ``tags-`` remove).
Plain values are applied first, then modifiers, each in the order submitted, so ``{"views": 1,
"views+": 2}`` gives 3. Unknown keys are ignored, as PocketBase does. Casting errors are collected
per field and raised together as one 400.
"""

from __future__ import annotations

from typing import Any

from ..collections.compiled import CompiledCollection
from ..collections.fields import InvalidValue

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
