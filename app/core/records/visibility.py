"""Which values of a record a caller may see beyond hidden fields.

Auth records show ``email`` only to superusers, to the record itself, or when the record's
``emailVisibility`` is on (PocketBase's rule).
"""

from __future__ import annotations

from typing import Any


def hide_private_fields(compiled: Any, wire: dict[str, Any], info: Any) -> None:
    if not compiled.collection.is_auth or "email" not in wire:
        return
    if wire.get("emailVisibility") or info.is_superuser or info.owns(compiled.id, wire.get("id", "")):
        return
    del wire["email"]
