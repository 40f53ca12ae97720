"""Scalar field types: number, bool, date, autodate, json and geoPoint."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from ....tools.datetimes import parse_datetime
from .base import REQUIRED, FieldErr, FieldType, InvalidValue, err

if TYPE_CHECKING:
    from ..model import Collection, Field

MAX_SAFE_INT = 2**53 - 1
_TRUE = {"true", "1", "t", "on", "yes", "y"}
_FALSE = {"false", "0", "f", "off", "no", "n", ""}


def _number(raw: Any) -> float | int:
    if raw is None or raw == "":
        return 0
    if isinstance(raw, bool):
        return 1 if raw else 0
    if isinstance(raw, int | float):
        value: float | int = raw
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise InvalidValue(
                "validation_not_a_number", "The submitted number is not properly formatted."
            ) from None
    else:
        raise InvalidValue("validation_not_a_number", "The submitted number is not properly formatted.")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue("validation_not_a_number", "The submitted number is not properly formatted.")
    return value


def _wire_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INT:
        return int(value)
    return value


class NumberType(FieldType):
    name = "number"
    option_defaults = {"max": None, "min": None, "onlyInt": False}

    def column_sql(self, f: Field, dialect: str) -> str:
        return (
            "DOUBLE PRECISION DEFAULT 0 NOT NULL" if dialect == "postgres" else "NUMERIC DEFAULT 0 NOT NULL"
        )

    def dal_type(self, f: Field, dialect: str) -> str:
        return "double"

    def zero(self, f: Field) -> Any:
        return 0

    def prepare(self, f: Field, raw: Any) -> Any:
        return _wire_number(_number(raw))

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        if value == 0:
            return REQUIRED if f.required else None
        if f.opt("onlyInt") and not float(value).is_integer():
            return err("validation_only_int_constraint", "Decimal numbers are not allowed.")
        minimum, maximum = f.opt("min"), f.opt("max")
        if minimum is not None and value < minimum:
            return err(
                "validation_min_number_constraint",
                f"Must be greater or equal than {_fmt(minimum)}.",
                min=minimum,
            )
        if maximum is not None and value > maximum:
            return err(
                "validation_max_number_constraint",
                f"Must be less or equal than {_fmt(maximum)}.",
                max=maximum,
            )
        return None

    def to_db(self, f: Field, value: Any, dialect: str) -> Any:
        return float(value)

    def from_db(self, f: Field, raw: Any, dialect: str) -> Any:
        return _wire_number(raw if raw is not None else 0)

    def db_to_wire(self, f: Field, dialect: str) -> Callable[[Any], Any] | None:
        # SQLite's NUMERIC affinity already hands back ints for whole numbers.
        return _wire_number if dialect == "postgres" else None

    def modify(self, f: Field, current: Any, op: str, raw: Any) -> Any:
        if op == "+":
            return _wire_number(current + _number(raw))
        if op == "-":
            return _wire_number(current - _number(raw))
        return super().modify(f, current, op, raw)

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        errors: dict[str, FieldErr] = {}
        minimum, maximum = f.opt("min"), f.opt("max")
        if f.opt("onlyInt"):
            for key, value in (("min", minimum), ("max", maximum)):
                if value is not None and not float(value).is_integer():
                    errors[key] = err("validation_only_int_constraint", "Decimal numbers are not allowed.")
        if minimum is not None and maximum is not None and maximum < minimum:
            errors["max"] = err(
                "validation_min_greater_equal_than_required",
                f"Must be no less than {_fmt(minimum)}.",
                threshold=minimum,
            )
        return errors


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class BoolType(FieldType):
    name = "bool"

    def column_sql(self, f: Field, dialect: str) -> str:
        return "BOOLEAN DEFAULT FALSE NOT NULL"

    def dal_type(self, f: Field, dialect: str) -> str:
        return "boolean" if dialect == "postgres" else "integer"

    def zero(self, f: Field) -> Any:
        return False

    def prepare(self, f: Field, raw: Any) -> Any:
        if raw is None:
            return False
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float):
            return raw != 0
        if isinstance(raw, str):
            text = raw.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise InvalidValue("validation_invalid_value", "Must be a boolean.")

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        return REQUIRED if f.required and not value else None

    def to_db(self, f: Field, value: Any, dialect: str) -> Any:
        return bool(value) if dialect == "postgres" else int(bool(value))

    def from_db(self, f: Field, raw: Any, dialect: str) -> Any:
        return bool(raw)

    def db_to_wire(self, f: Field, dialect: str) -> Callable[[Any], Any] | None:
        return None if dialect == "postgres" else bool


class DateType(FieldType):
    name = "date"
    option_defaults = {"max": "", "min": ""}

    def prepare(self, f: Field, raw: Any) -> Any:
        value = parse_datetime(raw)
        if value is None:
            raise InvalidValue("validation_invalid_date", "Must be a valid date.")
        return value

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        if value == "":
            return REQUIRED if f.required else None
        minimum, maximum = f.opt("min"), f.opt("max")
        if minimum and value < minimum:
            return err(
                "validation_min_greater_equal_than_required",
                f"Must be no less than {minimum}.",
                threshold=minimum,
            )
        if maximum and value > maximum:
            return err(
                "validation_max_less_equal_than_required",
                f"Must be no greater than {maximum}.",
                threshold=maximum,
            )
        return None

    def normalize_options(self, f: Field) -> FieldErr | dict[str, FieldErr] | None:
        errors: dict[str, FieldErr] = {}
        for key in ("min", "max"):
            if key in f.options and f.options[key] not in (None, ""):
                parsed = parse_datetime(f.options[key])
                if parsed is None:
                    errors[key] = err("validation_invalid_date", "Must be a valid date.")
                else:
                    f.options[key] = parsed
        base = super().normalize_options(f)
        if isinstance(base, dict):
            errors.update(base)
        return errors or None

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        minimum, maximum = f.opt("min"), f.opt("max")
        if minimum and maximum and maximum < minimum:
            return {
                "max": err("validation_min_greater_equal_than_required", f"Must be no less than {minimum}.")
            }
        return {}


class AutodateType(FieldType):
    """Set by the server on create and/or update; client input is ignored."""

    name = "autodate"
    option_defaults = {"onCreate": True, "onUpdate": False}
    has_help = False
    has_required = False

    def prepare(self, f: Field, raw: Any) -> Any:
        value = parse_datetime(raw)
        return value or ""

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        if not f.opt("onCreate") and not f.opt("onUpdate"):
            return {
                "onCreate": err("validation_required", "At least one of onCreate or onUpdate is required.")
            }
        return {}


_EMPTY_JSON: tuple[Any, ...] = (None, "", [], {})


def _json_text(value: Any) -> bytes:
    try:
        text = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        raise InvalidValue("validation_invalid_json", "Must be a valid json value.") from None
    if b"\\u0000" in text:
        # PostgreSQL's JSONB cannot hold a NUL character; refuse it on both engines alike.
        raise InvalidValue("validation_invalid_json", "Null characters are not allowed.")
    return text


class JSONType(FieldType):
    name = "json"
    option_defaults = {"maxSize": 0}
    DEFAULT_MAX_SIZE = 1 << 20

    def column_sql(self, f: Field, dialect: str) -> str:
        return "JSONB DEFAULT NULL" if dialect == "postgres" else "TEXT DEFAULT NULL"

    def zero(self, f: Field) -> Any:
        return None

    def prepare(self, f: Field, raw: Any) -> Any:
        # PocketBase's rule for text input (multipart forms send everything as text): a string that
        # is itself valid JSON (number, array, object, literal) is taken as JSON, any other string
        # is a JSON string.
        if isinstance(raw, str):
            text = raw.strip()
            if text in ("null", "true", "false") or (text[:1] and (text[0] in '-"[{' or text[0].isdigit())):
                try:
                    return orjson.loads(text)
                except orjson.JSONDecodeError:
                    return raw
            return raw
        _json_text(raw)
        return raw

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        limit = f.opt("maxSize") or self.DEFAULT_MAX_SIZE
        try:
            size = len(_json_text(value))
        except InvalidValue as exc:
            return exc.error
        if size > limit:
            return err(
                "validation_json_size_limit",
                f"The maximum allowed JSON size is {limit} bytes.",
                maxSize=limit,
            )
        if f.required and value in _EMPTY_JSON:
            return REQUIRED
        return None

    def to_db(self, f: Field, value: Any, dialect: str) -> Any:
        return None if value is None else _json_text(value).decode()

    def from_db(self, f: Field, raw: Any, dialect: str) -> Any:
        return None if raw is None else orjson.loads(raw)

    def db_to_wire(self, f: Field, dialect: str) -> Callable[[Any], Any] | None:
        return _fragment_or_none


def _fragment_or_none(raw: Any) -> Any:
    return None if raw is None else orjson.Fragment(raw)


ZERO_POINT = {"lon": 0, "lat": 0}


class GeoPointType(FieldType):
    name = "geoPoint"

    def column_sql(self, f: Field, dialect: str) -> str:
        kind = "JSONB" if dialect == "postgres" else "TEXT"
        return f'{kind} DEFAULT \'{{"lon":0,"lat":0}}\' NOT NULL'

    def zero(self, f: Field) -> Any:
        return dict(ZERO_POINT)

    def prepare(self, f: Field, raw: Any) -> Any:
        if raw is None or raw == "":
            return dict(ZERO_POINT)
        if isinstance(raw, str):
            try:
                raw = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise InvalidValue(
                    "validation_invalid_value", "Must be an object with lon and lat."
                ) from None
        if not isinstance(raw, dict):
            raise InvalidValue("validation_invalid_value", "Must be an object with lon and lat.")
        try:
            lon, lat = _number(raw.get("lon", 0)), _number(raw.get("lat", 0))
        except InvalidValue:
            raise InvalidValue("validation_invalid_value", "Must be an object with lon and lat.") from None
        return {"lon": lon, "lat": lat}

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        if value.get("lon") == 0 and value.get("lat") == 0:
            return REQUIRED if f.required else None
        if not -90 <= value["lat"] <= 90:
            return err("validation_invalid_latitude", "Latitude must be between -90 and 90 degrees.")
        if not -180 <= value["lon"] <= 180:
            return err("validation_invalid_longitude", "Longitude must be between -180 and 180 degrees.")
        return None

    def to_db(self, f: Field, value: Any, dialect: str) -> Any:
        return orjson.dumps({"lon": value["lon"], "lat": value["lat"]}).decode()

    def from_db(self, f: Field, raw: Any, dialect: str) -> Any:
        return orjson.loads(raw) if raw else dict(ZERO_POINT)

    def db_to_wire(self, f: Field, dialect: str) -> Callable[[Any], Any] | None:
        return orjson.Fragment
