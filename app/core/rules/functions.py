"""Functions of the filter language: ``strftime(format, time?, modifiers...)`` and
``geoDistance(lonA, latA, lonB, latB)`` (kilometres, haversine).

``strftime`` is SQLite's; on PostgreSQL the common specifiers are translated to ``to_char``
(``%Y %m %d %H %M %S %j %w %f %s %%``) and modifiers are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .operands import Col, Env, Lit, Many
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
    if isinstance(operand, Lit):
        if operand.kind != "number":
            raise FilterError("geoDistance expects numbers or fields.")
        return env.lit(operand.value)
    sql = operand.render(env)
    if operand.kind == "jsonvalue" and env.pg:
        return f"CAST({sql} #>> '{{}}' AS DOUBLE PRECISION)"
    return sql


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
            return (
                f"(6371 * acos(cos(radians({lat_a})) * cos(radians({lat_b})) * "
                f"cos(radians({lon_b}) - radians({lon_a})) + sin(radians({lat_a})) * sin(radians({lat_b}))))"
            )

        return Col(distance, "number", fallback="disabled")
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
            # Only text shaped like a date is cast: anything else gives NULL (as SQLite does),
            # never a PostgreSQL cast error.
            stamp = (
                f"(CASE WHEN CAST({value} AS TEXT) ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}' "
                f"THEN CAST(CAST({value} AS TEXT) AS TIMESTAMP) END)"
                if time_arg is not None
                else value
            )
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

        return Col(formatted, "text", fallback="auto")
    raise FilterError(f"Unknown function {name!r}.")
