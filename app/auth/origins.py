"""Login alerts: remember where a record signs in from (``_authOrigins``) and mail its owner when a
sign-in comes from somewhere new.

An origin is the MD5 fingerprint of the client IP and user agent, as in PocketBase (a grouping key,
not a secret). The first sign-in of a record only records its origin; later ones from an unknown
origin send the ``authAlert`` email. At most ``MAX_ORIGINS`` origins are kept per record.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from ..core.errors import BadRequest
from ..core.rules.context import SUPERUSER_SYSTEM
from ..db.sql import where
from ..tools.datetimes import now
from . import mails

ORIGINS = "_authOrigins"
MAX_ORIGINS = 5
MAX_USER_AGENT = 200


def remember(runtime: Any, compiled: Any, record: dict[str, Any], ip: str, user_agent: str) -> None:
    alert = compiled.collection.options.get("authAlert") or {}
    if not alert.get("enabled"):
        return
    if len(user_agent) > MAX_USER_AGENT:
        user_agent = user_agent[:MAX_USER_AGENT] + "..."
    fingerprint = hashlib.md5((ip + user_agent).encode("utf-8"), usedforsecurity=False).hexdigest()
    origins = runtime.records.collection(ORIGINS)
    mine = (origins.columns["collectionRef"] == compiled.id) & (origins.columns["recordRef"] == record["id"])
    rows = runtime.db.fetchall(
        where(origins.table, mine)._select(
            origins.id_column, origins.columns["fingerprint"], orderby=~origins.columns["updated"]
        )
    )
    known = next((row[0] for row in rows if row[1] == fingerprint), None)
    if known is not None:
        runtime.records.update_columns(origins, known, {"updated": now()}, SUPERUSER_SYSTEM)
        return
    if rows and record.get("email"):
        mails.send_auth_alert(runtime, compiled, record, f"{now()} - {ip} {user_agent}")
    for stale_id, _ in rows[MAX_ORIGINS - 1 :]:
        runtime.records.delete(ORIGINS, stale_id, SUPERUSER_SYSTEM)
    # A concurrent sign-in from the same origin may store it first (unique index): that is fine.
    with contextlib.suppress(BadRequest):
        runtime.records.create(
            ORIGINS,
            {"collectionRef": compiled.id, "recordRef": record["id"], "fingerprint": fingerprint},
            SUPERUSER_SYSTEM,
        )
