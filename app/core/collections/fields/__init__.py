"""The field types PocketBase defines, keyed by their ``type`` name."""

from __future__ import annotations

from .base import REQUIRED, FieldErr, FieldType, InvalidValue, err
from .multi import FileType, RelationType, SelectType
from .scalar import AutodateType, BoolType, DateType, GeoPointType, JSONType, NumberType
from .text import EditorType, EmailType, PasswordType, PlainPassword, TextType, URLType

FIELD_TYPES: dict[str, FieldType] = {
    kind.name: kind
    for kind in (
        TextType(),
        EditorType(),
        NumberType(),
        BoolType(),
        EmailType(),
        URLType(),
        DateType(),
        AutodateType(),
        SelectType(),
        JSONType(),
        RelationType(),
        FileType(),
        PasswordType(),
        GeoPointType(),
    )
}


class UnknownFieldType(KeyError):
    pass


def field_type(name: str) -> FieldType:
    try:
        return FIELD_TYPES[name]
    except KeyError:
        raise UnknownFieldType(name) from None


__all__ = [
    "FIELD_TYPES",
    "REQUIRED",
    "FieldErr",
    "FieldType",
    "InvalidValue",
    "PlainPassword",
    "UnknownFieldType",
    "err",
    "field_type",
]
