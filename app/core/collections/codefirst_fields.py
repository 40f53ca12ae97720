"""One Emmett ``Field`` (type, options, ``validation``) as one PocketBase field, for code-first models.

Emmett validates with a dict (``presence``, ``len``, ``in``, ``is``, ``gt``...); a PocketBase field
has a type, ``required`` and a few options. The mapping keeps Emmett's meaning where a collection
can express it and refuses the rest (``CodeFirstError`` names the model and the field):

- a field is ``required`` when Emmett would refuse PocketBase's blank value (``""``, ``0``, no
  relation, ``null`` JSON): ``presence``, a minimum length, ``is: email``, a set without ``""``, a
  pattern that refuses ``""``, numeric bounds that exclude 0. ``allow: "empty"`` keeps it optional.
  ``presence`` on a number or bool adds nothing: they always hold a value (0, false) in PocketBase;
- bounds become PocketBase's inclusive ``min``/``max`` (``gt: 0`` on ``decimal(10,2)`` is ``min: 0.01``);
- Emmett's implicit validation of the type (``len <= length`` for strings, ``is: int``...) is honoured
  the same way Emmett applies it (``Field.string()`` is ``max: 512``, ``Field.text()`` ``max: 32768``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .fields import InvalidValue
from .model import Field

DEFAULT_LENGTH = {"string": 512, "text": 2**15, "password": 512}
_DECIMAL_RE = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
TIME_PATTERN = r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"

#: Field keyword arguments that only matter to Emmett's forms and representation (ignored).
_IGNORED_KWARGS = {"label", "represent", "widget", "writable"}
_SUPPORTED_KWARGS = {"length", "default", "notnull", "unique", "readable", "comment", *_IGNORED_KWARGS}

_COMMON_KEYS = {"presence", "empty", "allow", "message"}
_FAMILY_KEYS = {
    "text": {"unique", "len", "in", "is", "match"},
    "number": {"unique", "gt", "gte", "lt", "lte", "in", "is"},
    "bool": {"in"},
    "date": {"unique", "is", "format"},
    "json": {"is"},
    "relation": {"unique"},
}
_FAMILY_OF = {
    "string": "text",
    "text": "text",
    "int": "number",
    "bigint": "number",
    "float": "number",
    "bool": "bool",
    "date": "date",
    "datetime": "date",
    "time": "date",
    "json": "json",
    "jsonb": "json",
}


class CodeFirstError(ValueError):
    """A model declaration that cannot become a collection; the message names model and field."""


@dataclass
class FieldPlan:
    """A converted field: the PocketBase field, its default (or None) and whether it is unique."""

    field: Field
    default: Any = None
    unique: bool = False


def convert_field(
    model: str,
    name: str,
    declared: Any,
    model_validation: Any,
    *,
    auto_validation: bool = True,
    default: Any = None,
    hidden: bool = False,
) -> FieldPlan:
    """Map one declared Emmett field of ``model`` (its class name, for messages) to a PocketBase field."""
    where = f"{model}.{name}"
    kind = str(declared._type)
    if declared._args:
        raise CodeFirstError(f"{where}: positional field arguments are not supported; use keywords.")
    kwargs = dict(declared._kwargs)
    unknown = sorted(set(kwargs) - _SUPPORTED_KWARGS)
    if unknown:
        raise CodeFirstError(f"{where}: field option(s) {', '.join(unknown)} are not supported.")
    decimal_match = _DECIMAL_RE.match(kind)
    family = "number" if decimal_match else _FAMILY_OF.get(kind)
    if family is None:
        raise CodeFirstError(f"{where}: Emmett field type {kind!r} has no collection field type.")
    explicit = _explicit_validation(where, declared, model_validation)
    rules: dict[str, Any] = {}
    if declared._auto_validation and auto_validation:
        rules.update(_implicit_validation(kind, kwargs))
    rules.update(explicit)
    _check_keys(where, family, rules)
    if "default" in kwargs and kwargs["default"] is not None:
        default = kwargs["default"] if default is None else default
    allow_empty = _allow_empty(where, rules)
    presence = _presence(where, rules)
    if family == "text":
        field, refuses_blank = _text_field(where, name, kind, rules, explicit)
    elif family == "number":
        scale = int(decimal_match.group(2)) if decimal_match else None
        field, refuses_blank = _number_field(where, name, kind, rules, scale)
        presence = False
    elif family == "bool":
        field, refuses_blank = _bool_field(where, name, rules)
        presence = False
    elif family == "date":
        field, refuses_blank = _date_field(where, name, kind, rules)
    else:
        field, refuses_blank = Field(name=name, type="json"), False
    required = not allow_empty and (presence or refuses_blank)
    if default is not None:
        _check_default(where, field, default)
        # The records service validates before ``before`` hooks run, so a required field could
        # never receive its default: a field with a default is optional in the collection.
        required = False
    field.required = required
    field.hidden = hidden
    comment = kwargs.get("comment")
    if comment:
        field.help = str(comment)
    unique = bool(kwargs.get("unique") or rules.get("unique"))
    return FieldPlan(field=field, default=default, unique=unique)


def relation_validation(where: str, explicit: Any, is_refers: bool) -> bool:
    """Whether a ``belongs_to``/``refers_to`` relation is required (Emmett: belongs_to is)."""
    rules: dict[str, Any] = {"presence": True}
    if is_refers:
        rules["allow"] = "empty"
    if explicit is not None:
        if not isinstance(explicit, dict):
            raise CodeFirstError(f"{where}: custom validators are not supported, only a validation dict.")
        rules.update(explicit)
    _check_keys(where, "relation", rules)
    return not _allow_empty(where, rules) and _presence(where, rules)


# -- validation dicts ------------------------------------------------------------------------


def _explicit_validation(where: str, declared: Any, model_validation: Any) -> dict[str, Any]:
    if declared._custom_requires:
        raise CodeFirstError(f"{where}: custom validators are not supported, only a validation dict.")
    out = dict(declared._requires)
    if model_validation is not None:
        if not isinstance(model_validation, dict):
            raise CodeFirstError(f"{where}: custom validators are not supported, only a validation dict.")
        out.update(model_validation)
    return out


def _implicit_validation(kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """What Emmett adds on its own (``Field._default_validation``) that matters here."""
    rules: dict[str, Any] = {}
    if kind in ("string", "text"):
        rules["len"] = {"lte": int(kwargs.get("length") or DEFAULT_LENGTH[kind])}
    if kwargs.get("notnull"):
        rules["presence"] = True
    if kwargs.get("unique"):
        rules["unique"] = True
    return rules


def _check_keys(where: str, family: str, rules: dict[str, Any]) -> None:
    unknown = sorted(set(rules) - _COMMON_KEYS - _FAMILY_KEYS[family], key=str)
    if unknown:
        raise CodeFirstError(
            f"{where}: validation {', '.join(map(repr, unknown))} cannot be expressed by a collection field."
        )


def _allow_empty(where: str, rules: dict[str, Any]) -> bool:
    if "allow" not in rules:
        return False
    if rules["allow"] in ("empty", "blank"):
        return True
    raise CodeFirstError(f"{where}: only allow: 'empty' (or 'blank') is supported.")


def _presence(where: str, rules: dict[str, Any]) -> bool:
    if rules.get("empty") is True:
        raise CodeFirstError(f"{where}: empty: True (the value must be blank) is not supported.")
    presence = rules.get("presence")
    if presence is None and "empty" in rules:
        presence = not rules["empty"]
    return bool(presence)


def _is_name(where: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        key, options = next(iter(value.items()))
        if options:
            raise CodeFirstError(f"{where}: options of is: {key!r} are not supported.")
        return str(key)
    raise CodeFirstError(f"{where}: 'is' must be a type name.")


# -- field families --------------------------------------------------------------------------


def _text_field(
    where: str, name: str, kind: str, rules: dict[str, Any], explicit: dict[str, Any]
) -> tuple[Field, bool]:
    if "in" in rules:
        if "is" in rules or "match" in rules:
            raise CodeFirstError(f"{where}: 'in' cannot be combined with 'is' or 'match'.")
        values = _set_values(where, rules["in"])
        return Field(name=name, type="select", options={"maxSelect": 1, "values": values}), "" not in values
    is_name = _is_name(where, rules["is"]) if "is" in rules else None
    if is_name in ("email", "url"):
        if "len" in explicit or "match" in rules:
            raise CodeFirstError(f"{where}: 'len' and 'match' cannot be combined with is: {is_name!r}.")
        return Field(name=name, type=is_name), True
    if is_name is not None and is_name != "alphanumeric":
        raise CodeFirstError(f"{where}: is: {is_name!r} is not supported on {kind} fields.")
    minimum, maximum = _length_bounds(where, rules.get("len"))
    pattern = r"^[\w]*$" if is_name == "alphanumeric" else ""
    if "match" in rules:
        if pattern:
            raise CodeFirstError(f"{where}: 'match' cannot be combined with is: 'alphanumeric'.")
        pattern = _match_pattern(where, rules["match"])
    options: dict[str, Any] = {"min": minimum, "max": maximum}
    if pattern:
        options["pattern"] = pattern
    refuses_blank = minimum > 0 or bool(pattern and re.search(pattern, "") is None)
    return Field(name=name, type="text", options=options), refuses_blank


def _set_values(where: str, value: Any) -> list[str]:
    if isinstance(value, dict):
        if set(value) != {"set"}:
            raise CodeFirstError(
                f"{where}: only 'in' with a list of values (or {{'set': [...]}}) is supported."
            )
        value = value["set"]
    if isinstance(value, set | frozenset):
        value = sorted(value, key=str)
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
        raise CodeFirstError(f"{where}: 'in' must list the allowed strings.")
    return list(dict.fromkeys(value))


def _length_bounds(where: str, value: Any) -> tuple[int, int]:
    """Emmett's ``len`` as inclusive (min, max); Emmett's own defaults are 0 <= len < 256."""
    if value is None:
        return 0, 0
    if isinstance(value, bool) or not isinstance(value, int | dict):
        raise CodeFirstError(f"{where}: 'len' must be a number or a dict of bounds.")
    if isinstance(value, int):
        return value, value
    if "range" in value:
        low, high = value["range"]
        return math.ceil(low), math.ceil(high) - 1
    low, high = 0.0, 256.0
    low_inclusive, high_inclusive = True, False
    for key in ("gt", "gte", "lt", "lte"):
        bound = value.get(key)
        if bound is None:
            continue
        if key[0] == "g":
            low, low_inclusive = bound, key == "gte"
        else:
            high, high_inclusive = bound, key == "lte"
    minimum = math.ceil(low) if low_inclusive else math.floor(low) + 1
    maximum = math.floor(high) if high_inclusive else math.ceil(high) - 1
    return max(minimum, 0), max(maximum, 0)


def _match_pattern(where: str, value: Any) -> str:
    """Emmett's ``Matches``: anchored at the start unless ``search``, at the end when ``strict``."""
    options = dict(value) if isinstance(value, dict) else {"expression": value}
    expression = options.pop("expression", None)
    strict, search = bool(options.pop("strict", False)), bool(options.pop("search", False))
    if options or not isinstance(expression, str):
        raise CodeFirstError(f"{where}: 'match' must be a regular expression (with strict/search).")
    if (strict or not search) and not expression.startswith("^"):
        expression = f"^({expression})"
    if strict and not expression.endswith("$"):
        expression = f"({expression})$"
    try:
        re.compile(expression)
    except re.error as exc:
        raise CodeFirstError(f"{where}: invalid 'match' expression: {exc}.") from None
    return expression


def _number_field(
    where: str, name: str, kind: str, rules: dict[str, Any], scale: int | None
) -> tuple[Field, bool]:
    only_int = kind in ("int", "bigint")
    if "is" in rules:
        is_name = _is_name(where, rules["is"])
        if is_name not in ("int", "float", "decimal"):
            raise CodeFirstError(f"{where}: is: {is_name!r} is not supported on {kind} fields.")
        only_int = only_int or is_name == "int"
    step: Callable[[float, int], float]
    if only_int:

        def step(value: float, direction: int) -> float:
            return math.floor(value) + 1 if direction > 0 else math.ceil(value) - 1

    elif scale is not None:
        unit = decimal.Decimal(1).scaleb(-scale)

        def step(value: float, direction: int) -> float:
            return float(decimal.Decimal(str(value)) + direction * unit)

    else:

        def step(value: float, direction: int) -> float:
            return math.nextafter(value, math.inf if direction > 0 else -math.inf)

    lows: list[float] = []
    highs: list[float] = []
    for key in ("gt", "gte", "lt", "lte"):
        bound = rules.get(key)
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, int | float | decimal.Decimal):
            raise CodeFirstError(f"{where}: {key!r} must be a number.")
        number = float(bound)
        if key == "gt":
            lows.append(step(number, 1))
        elif key == "gte":
            lows.append(math.ceil(number) if only_int else number)
        elif key == "lt":
            highs.append(step(number, -1))
        else:
            highs.append(math.floor(number) if only_int else number)
    if "in" in rules:
        value = rules["in"]
        if not (isinstance(value, dict) and set(value) == {"range"}):
            raise CodeFirstError(f"{where}: on numbers only in: {{'range': (min, max)}} is supported.")
        low, high = value["range"]
        lows.append(float(low))
        highs.append(step(float(high), -1))
    options: dict[str, Any] = {"onlyInt": only_int}
    minimum = _tidy(max(lows)) if lows else None
    maximum = _tidy(min(highs)) if highs else None
    options.update(min=minimum, max=maximum)
    refuses_zero = (minimum is not None and minimum > 0) or (maximum is not None and maximum < 0)
    return Field(name=name, type="number", options=options), refuses_zero


def _tidy(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _bool_field(where: str, name: str, rules: dict[str, Any]) -> tuple[Field, bool]:
    allowed = rules.get("in", (False, True))
    if (
        not isinstance(allowed, list | tuple | set | frozenset)
        or not set(allowed) <= {False, True}
        or not allowed
    ):
        raise CodeFirstError(f"{where}: 'in' on a bool may only list True and False.")
    # PocketBase's required bool must be true: exactly Emmett's in: [True].
    return Field(name=name, type="bool"), set(allowed) == {True}


def _date_field(where: str, name: str, kind: str, rules: dict[str, Any]) -> tuple[Field, bool]:
    if "is" in rules:
        is_name = _is_name(where, rules["is"])
        if is_name not in ("date", "datetime", "time"):
            raise CodeFirstError(f"{where}: is: {is_name!r} is not supported on {kind} fields.")
    if kind == "time":
        # A time of day has no PocketBase type: it is kept as "HH:MM[:SS]" text.
        return Field(name=name, type="text", options={"pattern": TIME_PATTERN}), False
    return Field(name=name, type="date"), False


# -- defaults --------------------------------------------------------------------------------


def default_input(value: Any) -> Any:
    """A Python default value as the client input PocketBase's field types accept."""
    if callable(value):
        value = value()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def _check_default(where: str, field: Field, default: Any) -> None:
    if callable(default):
        return
    try:
        value = field.kind.prepare(field, default_input(default))
    except InvalidValue as exc:
        raise CodeFirstError(
            f"{where}: the default {default!r} is not a valid {field.type} value: {exc}"
        ) from None
    problem = field.kind.validate(field, value, True)
    if problem and problem.get("code") != "validation_required":
        raise CodeFirstError(f"{where}: the default {default!r} is invalid: {problem['message']}")
