"""Turning unique-constraint violations into PocketBase's field errors (``validation_not_unique``)."""

from __future__ import annotations

import re
from typing import Any

from ...db import IntegrityViolation
from ..errors import BadRequest, field_error

_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: ([^\n]+)")
_PG_KEY = re.compile(r"Key \((.+?)\)=")

NOT_UNIQUE = field_error("validation_not_unique", "Value must be unique.")


def unique_fields(exc: IntegrityViolation, field_names: list[str]) -> list[str]:
    """The record fields a unique violation is about, best effort, in definition order."""
    text = str(exc)
    names: list[str] = []
    match = _SQLITE_COLUMNS.search(text)
    if match:
        for part in match.group(1).split(","):
            names.append(part.strip().split(".")[-1])
    match = _PG_KEY.search(text)
    if match:
        for part in match.group(1).split(","):
            names.append(re.sub(r"^lower\((.*)\)$", r"\1", part.strip()).strip('"'))
    return [n for n in field_names if n in names]


def as_validation_error(exc: IntegrityViolation, field_names: list[str], message: str) -> BadRequest:
    fields = unique_fields(exc, field_names)
    data: dict[str, Any] = {name: NOT_UNIQUE for name in fields}
    return BadRequest(message, data)
