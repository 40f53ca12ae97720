"""Functions of the filter language: ``strftime(format, time?, modifiers...)`` and
``geoDistance(lonA, latA, lonB, latB)`` (kilometres, haversine).

``strftime`` is SQLite's; on PostgreSQL the common specifiers are translated to ``to_char``
(``%Y %m %d %H %M %S %j %w %f %s %%``) and modifiers are refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from .operands import Col, Env, Lit, Many, Render
from .resolver import FilterError
from .syntax import Call, Ident, Number, Text

_PG_FORMAT = {
    "Y": "YYYY",
    "m": "MM",
    "d": "DD",
    "H": "HH24",
    "M": "MI",
    "S": "SS",
    "j": "DDD",
    "f": "SS.MS",
}


def _pg_format(fmt: str) -> list[tuple[str, str]]:
    """Split a strftime format into ('lit', text) and ('spec', letter) parts."""
    parts: list[tuple[str, str]] = []
    index = 0
    while index < len(fmt):
        char = fmt[index]
        if char == "%" and index + 1 < len(fmt):
            spec = fmt[index + 1]
            if spec == "%":
                parts.append(("lit", "%"))
            elif spec in _PG_FORMAT or spec in ("w", "s"):
                parts.append(("spec", spec))
            else:
                raise FilterError(f"Unsupported strftime specifier %{spec}.")
            index += 2
            continue
        parts.append(("lit", char))
        index += 1
    return parts


def _numeric(env: Env, operand: Lit | Col) -> str:
    """A geoDistance argument as a number the way SQLite's math functions read it: numbers as
    they are, booleans as 1/0, text only when all of it is a number, anything else NULL. On
    PostgreSQL this never raises a cast or range error."""
    if isinstance(operand, Lit):
        return env.lit(_number_or_none(operand.value))
    sql = operand.render(env)
    if not env.pg or operand.kind == "number":
        return sql
    if operand.kind == "bool":
        return f"CAST(CAST({sql} AS INTEGER) AS DOUBLE PRECISION)"
    if operand.kind == "jsonvalue":
        as_text = _pg_text_number(f"({sql} #>> '{{}}')")
        return (
            f"(CASE WHEN jsonb_typeof({sql}) = 'boolean' THEN CASE WHEN {sql} = 'true' THEN 1.0 ELSE 0.0 END "
            f"ELSE {as_text} END)"
        )
    return _pg_text_number(f"CAST({sql} AS TEXT)")


_DECIMAL = re.compile(r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,4})?\s*", re.ASCII)


def _number_or_none(value: Any) -> float | None:
    """A literal as SQLite's math functions read it (text only when all of it is a number)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = float(value)
        return number if math.isfinite(number) else math.copysign(1e308, number)
    return None


def _pg_text_number(text: str) -> str:
    """``text`` as DOUBLE PRECISION when it is a decimal number, else NULL; magnitudes beyond the
    double range are clamped and tiny ones rounded to 0 (through NUMERIC, which holds them both)
    instead of raising."""
    return (
        f"(CASE WHEN {text} ~ '^\\s*[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]{{1,4}})?\\s*$' "
        f"AND length({text}) < 400 THEN CAST(LEAST(GREATEST(ROUND(CAST({text} AS NUMERIC), 300), "
        "-1e308), 1e308) AS DOUBLE PRECISION) END)"
    )


# What SQLite's date functions accept as a time value (PocketBase's stored dates included):
# YYYY-MM-DD, then optionally [ T]HH:MM[:SS[.fff]], then optionally Z or +-HH:MM.
_PG_DATE_SHAPE = (
    "'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    "([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$'"
)


def _pg_timestamp(value: str) -> str:
    """A PostgreSQL TIMESTAMP (UTC) from a text value the way SQLite reads it, NULL for anything
    SQLite would not read as a date. It can never raise a cast error: the text is parsed with the
    day forced to 01 (every month has one) and the real day added back as an interval, so
    2024-02-30 rolls over to March 1st as in SQLite; an offset suffix is subtracted to get UTC."""
    text = f"CAST({value} AS TEXT)"
    return (
        f"(CASE WHEN {text} ~ {_PG_DATE_SHAPE} AND substr({text}, 1, 4) <> '0000' THEN "
        f"CAST(substr({text}, 1, 8) || '01' || substr({text}, 11) AS TIMESTAMP)"
        f" + (CAST(substr({text}, 9, 2) AS INTEGER) - 1) * INTERVAL '1 day'"
        f" - COALESCE(CAST(substring({text} from '[+-][0-9]{{2}}:[0-9]{{2}}$') AS INTERVAL), INTERVAL '0')"
        " END)"
    )


def _guards_of(args: list[Any]) -> Render | None:
    """A function of a value the caller may not read is unreadable too: its arguments' guards."""
    guards = [a.guard for a in args if isinstance(a, Col) and a.guard is not None]
    if not guards:
        return None
    return lambda env: " AND ".join(f"({g(env)})" for g in guards)


def call_operand(call: Call, resolve: Callable[[Any], Any], dialect: str = "sqlite") -> Col:
    name = call.name
    if name == "geoDistance":
        if len(call.args) != 4 or any(not isinstance(a, Ident | Number) for a in call.args):
            raise FilterError("geoDistance expects 4 arguments: lonA, latA, lonB, latB.")
        args = [resolve(a) for a in call.args]
        if any(isinstance(a, Many) for a in args):
            raise FilterError("geoDistance does not accept multi-value arguments.")

        def distance(env: Env) -> str:
            lon_a, lat_a, lon_b, lat_b = (_numeric(env, a) for a in args)
            cosine = (
                f"cos(radians({lat_a})) * cos(radians({lat_b})) * cos(radians({lon_b}) - radians({lon_a}))"
                f" + sin(radians({lat_a})) * sin(radians({lat_b}))"
            )
            # Rounding can push the cosine of two near points past 1, where acos has no value
            # (NULL on SQLite, an error on PostgreSQL): clamp it into [-1, 1].
            if env.pg:
                return f"(6371 * acos(LEAST(1.0, GREATEST(-1.0, {cosine}))))"
            return f"(6371 * acos(min(1.0, max(-1.0, {cosine}))))"

        return Col(distance, "number", fallback="disabled", guard=_guards_of(args))
    if name == "strftime":
        if not call.args or not isinstance(call.args[0], Text):
            raise FilterError("strftime expects a format string first.")
        fmt = call.args[0].value
        modifiers = call.args[2:]
        if modifiers and (dialect == "postgres" or not all(isinstance(m, Text) for m in modifiers)):
            raise FilterError("strftime modifiers are supported on SQLite only, as text.")
        if dialect == "postgres":
            _pg_format(fmt)  # refuse unsupported specifiers now, not while rendering SQL
        time_arg = resolve(call.args[1]) if len(call.args) >= 2 else None
        if isinstance(time_arg, Many):
            raise FilterError("strftime does not accept multi-value arguments.")

        def formatted(env: Env) -> str:
            if time_arg is None:
                value = "'now'" if not env.pg else "CURRENT_TIMESTAMP"
            elif isinstance(time_arg, Lit):
                value = env.lit(time_arg.value)
            else:
                value = time_arg.render(env)
            if not env.pg:
                extra = "".join(f", {env.lit(m.value)}" for m in modifiers)  # type: ignore[union-attr]
                return f"strftime({env.lit(fmt)}, {value}{extra})"
            stamp = _pg_timestamp(value) if time_arg is not None else value
            pieces: list[str] = []
            for kind, text in _pg_format(fmt):
                if kind == "lit":
                    pieces.append(env.lit(text))
                elif text == "w":
                    pieces.append(f"CAST(EXTRACT(DOW FROM {stamp}) AS INTEGER)::text")
                elif text == "s":
                    pieces.append(f"CAST(FLOOR(EXTRACT(EPOCH FROM {stamp})) AS BIGINT)::text")
                else:
                    pieces.append(f"to_char({stamp}, {env.lit(_PG_FORMAT[text])})")
            return "(" + " || ".join(pieces or ["''"]) + ")"

        return Col(formatted, "text", fallback="auto", guard=_guards_of([time_arg]))
    raise FilterError(f"Unknown function {name!r}.")
