"""Multi-valued field types: select, relation and file.

With ``maxSelect`` <= 1 a value is one string (``""`` when empty); otherwise a list of unique
strings, stored as a JSON array (TEXT on SQLite, JSONB on PostgreSQL). Relation existence needs the
database, so the records service checks it; files are uploaded through the files API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .base import REQUIRED, FieldErr, FieldType, err, to_str_list

if TYPE_CHECKING:
    from ..model import Collection, Field


class ListValuedType(FieldType):
    def is_multiple(self, f: Field) -> bool:
        return int(f.opt("maxSelect") or 0) > 1

    def column_sql(self, f: Field, dialect: str) -> str:
        if self.is_multiple(f):
            return "JSONB DEFAULT '[]' NOT NULL" if dialect == "postgres" else "TEXT DEFAULT '[]' NOT NULL"
        return "TEXT DEFAULT '' NOT NULL"

    def zero(self, f: Field) -> Any:
        return [] if self.is_multiple(f) else ""

    def shape(self, f: Field, values: list[str]) -> Any:
        if self.is_multiple(f):
            return values
        return values[-1] if values else ""

    def values(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return value
        return [value] if value else []

    def prepare(self, f: Field, raw: Any) -> Any:
        return self.shape(f, to_str_list(raw))

    def modify(self, f: Field, current: Any, op: str, raw: Any) -> Any:
        existing = self.values(current)
        incoming = to_str_list(raw)
        if op == "+":
            merged = existing + [v for v in incoming if v not in existing]
        elif op == "^+":
            merged = incoming + [v for v in existing if v not in incoming]
        elif op == "-":
            merged = [v for v in existing if v not in incoming]
        else:
            return super().modify(f, current, op, raw)
        return self.shape(f, merged)

    def count_errors(self, f: Field, values: list[str]) -> FieldErr | None:
        limit = max(int(f.opt("maxSelect") or 0), 1)
        if len(values) > limit:
            return err("validation_too_many_values", f"Select no more than {limit}.", maxSelect=limit)
        return None

    def to_db(self, f: Field, value: Any, dialect: str) -> Any:
        if self.is_multiple(f):
            return orjson.dumps(self.values(value)).decode()
        return value if isinstance(value, str) else (value[-1] if value else "")

    def from_db(self, f: Field, raw: Any, dialect: str) -> Any:
        if self.is_multiple(f):
            return orjson.loads(raw) if raw else []
        return raw or ""

    def db_to_wire(self, f: Field, dialect: str) -> Callable[[Any], Any] | None:
        return orjson.Fragment if self.is_multiple(f) else None


class SelectType(ListValuedType):
    name = "select"
    option_defaults = {"maxSelect": 0, "values": []}

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        values = self.values(value)
        if not values:
            return REQUIRED if f.required else None
        problem = self.count_errors(f, values)
        if problem:
            return problem
        allowed = f.opt("values")
        for item in values:
            if item not in allowed:
                return err("validation_invalid_value", f"Invalid value {item}.", value=item)
        return None

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        errors: dict[str, FieldErr] = {}
        values = f.opt("values")
        if not values:
            errors["values"] = REQUIRED
        limit = len(values) or 1
        if not 0 <= f.opt("maxSelect") <= limit:
            errors["maxSelect"] = err(
                "validation_max_less_equal_than_required",
                f"Must be no greater than {limit}.",
                threshold=limit,
            )
        return errors


class RelationType(ListValuedType):
    name = "relation"
    option_defaults = {"cascadeDelete": False, "collectionId": "", "maxSelect": 0, "minSelect": 0}

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        values = self.values(value)
        if not values:
            return REQUIRED if f.required else None
        minimum = int(f.opt("minSelect") or 0)
        if minimum and len(values) < minimum:
            return err("validation_not_enough_values", f"Select at least {minimum}.", minSelect=minimum)
        return self.count_errors(f, values)

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        errors: dict[str, FieldErr] = {}
        if not f.opt("collectionId"):
            errors["collectionId"] = REQUIRED
        minimum, maximum = f.opt("minSelect"), f.opt("maxSelect")
        if minimum < 0:
            errors["minSelect"] = err("validation_min_greater_equal_than_required", "Must be no less than 0.")
        if minimum > 0 and maximum < minimum:
            errors["maxSelect"] = err(
                "validation_min_greater_equal_than_required",
                f"Must be no less than {minimum}.",
                threshold=minimum,
            )
        return errors


class FileType(ListValuedType):
    """File names; uploads, thumbnails and downloads are served by the files API."""

    name = "file"
    option_defaults = {"maxSelect": 0, "maxSize": 0, "mimeTypes": [], "protected": False, "thumbs": []}

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        values = self.values(value)
        if not values:
            return REQUIRED if f.required else None
        limit = max(int(f.opt("maxSelect") or 0), 1)
        if len(values) > limit:
            return err("validation_too_many_files", f"The maximum allowed files is {limit}.", maxSelect=limit)
        return None

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        errors: dict[str, FieldErr] = {}
        if f.opt("maxSelect") < 0:
            errors["maxSelect"] = err("validation_min_greater_equal_than_required", "Must be no less than 0.")
        if f.opt("maxSize") < 0:
            errors["maxSize"] = err("validation_min_greater_equal_than_required", "Must be no less than 0.")
        for thumb in f.opt("thumbs"):
            if not _valid_thumb(thumb):
                errors["thumbs"] = err("validation_invalid_thumb_format", f"Invalid thumb format {thumb!r}.")
                break
        return errors


def _valid_thumb(value: str) -> bool:
    size = value[:-1] if value[-1:] in ("t", "b", "f") else value
    width, sep, height = size.partition("x")
    return bool(sep) and width.isdigit() and height.isdigit() and (int(width) > 0 or int(height) > 0)
