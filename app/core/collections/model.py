"""Collections and fields in PocketBase's JSON format, as plain Python objects.

A ``Collection`` is what the collections API sends and receives and what ``_collections`` stores:
id, name, type (``base``, ``auth``; ``view`` is refused for now), fields, indexes, the five API
rules and, for auth collections, the auth options. Field-type behaviour (options, storage,
validation) lives in ``fields/``; this module only holds and (de)serializes definitions.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass, field
from typing import Any

from ...tools.ids import random_string

RULE_NAMES = ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")
AUTH_RULE_NAMES = ("authRule", "manageRule")
COLLECTION_TYPES = ("base", "auth", "view")


def field_id(type_name: str, name: str) -> str:
    """PocketBase's field id convention: the type followed by the CRC-32 of the name."""
    return f"{type_name}{zlib.crc32(name.encode())}"


def new_collection_id(type_name: str = "", name: str = "") -> str:
    """PocketBase's collection id: ``pbc_`` + the CRC-32 of type and name (random without a name)."""
    if name:
        return f"pbc_{zlib.crc32((type_name + name).encode())}"
    return "pbc_" + str(int(random_string(10, "0123456789")))


_FIELD_TYPE_LOOKUP: Any = None


def _load_field_type_lookup() -> Any:
    global _FIELD_TYPE_LOOKUP
    from .fields import field_type  # fields import this module: resolved on first use

    _FIELD_TYPE_LOOKUP = field_type
    return field_type


@dataclass
class Field:
    name: str
    type: str
    id: str = ""
    system: bool = False
    hidden: bool = False
    presentable: bool = False
    required: bool = False
    help: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    #: EmmettBase extension: a rule a caller must pass to see (and filter on) this field.
    #: None (the default) means no restriction — unlike collection rules, where None locks.
    read_rule: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            self.id = field_id(self.type, self.name)

    def opt(self, key: str) -> Any:
        """An option's value, or its type's default."""
        if key in self.options:
            return self.options[key]
        from .fields import field_type

        return field_type(self.type).option_defaults.get(key)

    @property
    def kind(self) -> Any:
        # Read on every value conversion: resolve the registry once, not with an import per call.
        lookup = _FIELD_TYPE_LOOKUP or _load_field_type_lookup()
        return lookup(self.type)

    @property
    def is_multiple(self) -> bool:
        return bool(self.kind.is_multiple(self))

    def to_json(self) -> dict[str, Any]:
        kind = self.kind
        out: dict[str, Any] = {
            "hidden": self.hidden,
            "id": self.id,
            "name": self.name,
            "presentable": self.presentable,
            "system": self.system,
            "type": self.type,
        }
        if kind.has_help:
            out["help"] = self.help
        if kind.has_required:
            out["required"] = self.required
        for key, default in kind.option_defaults.items():
            out[key] = copy.deepcopy(self.options.get(key, default))
        if self.read_rule is not None:
            out["readRule"] = self.read_rule
        return dict(sorted(out.items()))

    def copy(self) -> Field:
        return copy.deepcopy(self)


@dataclass
class Collection:
    name: str
    type: str = "base"
    id: str = ""
    system: bool = False
    fields: list[Field] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    listRule: str | None = None
    viewRule: str | None = None
    createRule: str | None = None
    updateRule: str | None = None
    deleteRule: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    updated: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = new_collection_id(self.type, self.name)

    @property
    def is_auth(self) -> bool:
        return self.type == "auth"

    @property
    def is_view(self) -> bool:
        return self.type == "view"

    def field(self, name: str) -> Field | None:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        return None

    def field_by_id(self, id_: str) -> Field | None:
        for candidate in self.fields:
            if candidate.id == id_:
                return candidate
        return None

    def rule(self, name: str) -> str | None:
        if name in RULE_NAMES:
            value: str | None = getattr(self, name)
            return value
        value = self.options.get(name)
        return value if isinstance(value, str) else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "system": self.system,
            "fields": [f.to_json() for f in self.fields],
            "indexes": list(self.indexes),
            "created": self.created,
            "updated": self.updated,
        }
        for rule in RULE_NAMES:
            out[rule] = getattr(self, rule)
        if self.is_auth:
            from .auth_options import auth_options_json

            out.update(auth_options_json(self.options))
        elif self.is_view:
            out["viewQuery"] = self.options.get("viewQuery", "")
        return out

    def copy(self) -> Collection:
        return copy.deepcopy(self)


def field_from_json(data: dict[str, Any]) -> Field:
    """Build a Field from PocketBase JSON; unknown keys become options (validated later)."""
    common = {"id", "name", "type", "system", "hidden", "presentable", "required", "help", "readRule"}
    return Field(
        name=str(data.get("name") or ""),
        type=str(data.get("type") or ""),
        id=str(data.get("id") or ""),
        system=bool(data.get("system", False)),
        hidden=bool(data.get("hidden", False)),
        presentable=bool(data.get("presentable", False)),
        required=bool(data.get("required", False)),
        help=str(data.get("help") or ""),
        options={k: v for k, v in data.items() if k not in common},
        read_rule=data["readRule"] if isinstance(data.get("readRule"), str) else None,
    )


def collection_from_json(data: dict[str, Any]) -> Collection:
    from .auth_options import AUTH_OPTION_KEYS

    collection = Collection(
        name=str(data.get("name") or ""),
        type=str(data.get("type") or "base"),
        id=str(data.get("id") or ""),
        system=bool(data.get("system", False)),
        fields=[field_from_json(f) for f in data.get("fields") or [] if isinstance(f, dict)],
        indexes=[str(i) for i in data.get("indexes") or []],
        created=str(data.get("created") or ""),
        updated=str(data.get("updated") or ""),
    )
    for rule in RULE_NAMES:
        value = data.get(rule)
        setattr(collection, rule, value if isinstance(value, str) else None)
    options = {k: copy.deepcopy(v) for k, v in data.items() if k in AUTH_OPTION_KEYS or k == "viewQuery"}
    collection.options = options
    return collection
