"""``GET /api/collections/meta/scaffolds``: the default definition of each collection type."""

from __future__ import annotations

from typing import Any

from ...tools.ids import random_string
from .model import Collection
from .system import ensure_system_fields


def scaffolds() -> dict[str, Any]:
    out: dict[str, Any] = {}
    suffix = random_string(10)
    for kind in ("auth", "base", "view"):
        collection = Collection(name="", type=kind, id=suffix)
        if kind != "view":
            ensure_system_fields(collection)
        data = collection.to_json()
        data["id"] = ""
        out[kind] = data
    return out
