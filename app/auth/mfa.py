"""Multi-factor sign-in: a first factor opens an ``_mfas`` session, a different second one closes it.

With ``mfa.enabled`` (and the record matching ``mfa.rule``, empty meaning everyone), a successful
password / OTP / OAuth2 sign-in without an ``mfaId`` answers 401 ``{"mfaId": ...}`` instead of a
token; the next sign-in with that ``mfaId`` and another method gets the token. Sessions expire
after ``mfa.duration`` seconds and are deleted once used.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..core.errors import BadRequest
from ..core.rules.context import SUPERUSER_SYSTEM, RequestInfo
from ..tools.datetimes import format_datetime
from .record_tokens import load_record

MFAS = "_mfas"


class MfaRequired(Exception):
    """The first factor passed; the client must come back with ``mfa_id`` and another method."""

    def __init__(self, mfa_id: str):
        super().__init__(mfa_id)
        self.mfa_id = mfa_id


def _options(compiled: Any) -> dict[str, Any]:
    return dict(compiled.collection.options.get("mfa") or {})


def _wanted(runtime: Any, compiled: Any, record: dict[str, Any], info: RequestInfo) -> bool:
    rule = str(_options(compiled).get("rule") or "")
    if not rule.strip():
        return True
    try:
        return bool(runtime.records.matches_rule(compiled, record["id"], rule, info))
    except BadRequest:
        raise BadRequest("Failed to authenticate.") from None


def check(
    runtime: Any, compiled: Any, record: dict[str, Any], method: str, mfa_id: str, info: RequestInfo
) -> None:
    """Pass when no second factor is needed or ``mfa_id`` completes one; else raise
    ``MfaRequired`` (first factor) or a 400 (bad session)."""
    if not method or not _options(compiled).get("enabled") or not _wanted(runtime, compiled, record, info):
        return
    mfas = runtime.records.collection(MFAS)
    if not mfa_id:
        data = {"collectionRef": compiled.id, "recordRef": record["id"], "method": method}
        _, session = runtime.records.create(MFAS, data, SUPERUSER_SYSTEM)
        raise MfaRequired(str(session["id"]))
    session = load_record(runtime.db, mfas, mfa_id)
    duration = int(_options(compiled).get("duration") or 600)
    cutoff = format_datetime(datetime.now(UTC) - timedelta(seconds=duration))
    if session is None or str(session.get("created")) <= cutoff:
        if session is not None:
            _delete(runtime, mfas, mfa_id)
        raise BadRequest("Invalid or expired MFA session.")
    if session.get("recordRef") != record["id"] or session.get("collectionRef") != compiled.id:
        raise BadRequest("Invalid MFA session.")
    if session.get("method") == method:
        raise BadRequest("A different authentication method is required.")
    if not _delete(runtime, mfas, mfa_id):
        raise BadRequest("Invalid or expired MFA session.")  # used concurrently by another request


def _delete(runtime: Any, mfas: Any, mfa_id: str) -> bool:
    return bool(runtime.records.delete_row(mfas, mfa_id, SUPERUSER_SYSTEM))
