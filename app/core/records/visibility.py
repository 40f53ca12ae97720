"""Which values of a record a caller may see beyond hidden fields.

Auth records show ``email`` only to superusers, to the record itself, to callers who manage it
(the collection's ``manageRule``), or when the record's ``emailVisibility`` is on (PocketBase's rule).
"""

from __future__ import annotations

from typing import Any


def hide_private_fields(
    compiled: Any, wire: dict[str, Any], info: Any, managed: set[str] | None = None
) -> None:
    if not compiled.collection.is_auth or "email" not in wire:
        return
    record_id = wire.get("id", "")
    if wire.get("emailVisibility") or info.is_superuser or info.owns(compiled.id, record_id):
        return
    if managed and record_id in managed:
        return
    del wire["email"]
