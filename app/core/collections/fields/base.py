"""The field-type protocol: how one PocketBase field type casts, validates, stores and serializes.

Values flow through three shapes:
- *input*: what a client sent (JSON value or multipart string), cast by ``prepare``;
- *python*: the record's value in memory (str, float, bool, list[str], parsed JSON, dict);
- *db*: what a column holds (bools are 0/1 on SQLite, JSON is text on both engines).

``db_to_wire`` returns a converter for the read hot path (a column value straight to the JSON the
API sends), or None when the column value is already what the API sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..model import Collection, Field

FieldErr = dict[str, Any]


class InvalidValue(Exception):
    """Input that cannot be cast to the field's type; becomes ``data.<field>`` in a 400."""

    def __init__(self, code: str, message: str, **params: Any):
        super().__init__(message)
        self.error: FieldErr = err(code, message, **params)


def err(code: str, message: str, **params: Any) -> FieldErr:
    out: FieldErr = {"code": code, "message": message}
    if params:
        out["params"] = params
    return out


REQUIRED = err("validation_required", "Cannot be blank.")


class FieldType:
    name: ClassVar[str] = ""
    option_defaults: ClassVar[dict[str, Any]] = {}
    has_help: ClassVar[bool] = True
    has_required: ClassVar[bool] = True

    # -- storage ---------------------------------------------------------------------------

    def is_multiple(self, f: Field) -> bool:
        return False

    def column_sql(self, f: Field, dialect: str) -> str:
        return "TEXT DEFAULT '' NOT NULL"

    def dal_type(self, f: Field, dialect: str) -> str:
        return "text"

    def zero(self, f: Field) -> Any:
        return ""

    # -- values ----------------------------------------------------------------------------

    def prepare(self, f: Field, raw: Any) -> Any:
        """Cast client input to the python value (PocketBase's ``PrepareValue``)."""
        return raw

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        """Validate the python value; None when valid."""
        return None

    def to_db(self, f: Field, value: Any, dialect: str) -> Any:
        return value

    def from_db(self, f: Field, raw: Any, dialect: str) -> Any:
        return raw

    def db_to_wire(self, f: Field, dialect: str) -> Callable[[Any], Any] | None:
        return None

    def to_wire(self, f: Field, value: Any) -> Any:
        return value

    # -- modifiers (``field+``, ``+field``, ``field-``) ---------------------------------------

    def modify(self, f: Field, current: Any, op: str, raw: Any) -> Any:
        raise InvalidValue(
            "validation_unsupported_modifier", f"The {op!r} modifier is not supported by {self.name} fields."
        )

    # -- definition ------------------------------------------------------------------------

    def normalize_options(self, f: Field) -> FieldErr | dict[str, FieldErr] | None:
        """Coerce option types in place; return per-option errors for wrong types."""
        errors: dict[str, FieldErr] = {}
        for key, default in self.option_defaults.items():
            if key not in f.options:
                continue
            value = f.options[key]
            coerced = _coerce_like(default, value)
            if coerced is _INVALID:
                errors[key] = err("validation_invalid_value", "Invalid value.")
            else:
                f.options[key] = coerced
        for key in list(f.options):
            if key not in self.option_defaults:
                del f.options[key]
        return errors or None

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        """Errors of the type-specific options, keyed by option name."""
        return {}


_INVALID = object()


def _coerce_like(default: Any, value: Any) -> Any:
    if value is None:
        return None if default is None else default
    if isinstance(default, bool):
        return value if isinstance(value, bool) else _INVALID
    if isinstance(default, int) or default is None:
        if isinstance(value, bool):
            return _INVALID
        if isinstance(value, int):
            return value
        if isinstance(value, float) and (default is None or value.is_integer()):
            return int(value) if isinstance(default, int) else value
        return _INVALID
    if isinstance(default, str):
        return value if isinstance(value, str) else _INVALID
    if isinstance(default, list):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        return _INVALID
    return value


def to_str(raw: Any) -> str:
    """Scalar input as text, the way PocketBase's ``cast.ToString`` does; lists/objects refused,
    and so are NUL characters (no database stores them in text)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        if "\x00" in raw:
            raise InvalidValue("validation_invalid_value", "Null characters are not allowed.")
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    raise InvalidValue("validation_invalid_value", "Must be a string.")


def to_str_list(raw: Any) -> list[str]:
    """PocketBase's ``list.ToUniqueStringSlice``: a string (or a JSON array in a string) to a list."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("[") and text.endswith("]"):
            import orjson

            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                return to_str_list(parsed)
        return [to_str(raw)]
    if isinstance(raw, list | tuple):
        items: list[str] = []
        for item in raw:
            if item is None or item == "":
                continue
            value = to_str(item)
            if value not in items:
                items.append(value)
        return items
    return [to_str(raw)]
