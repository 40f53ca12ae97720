"""One-time passwords sent by email (``request-otp`` / ``auth-with-otp``).

The code is random digits (``otp.length``, 8 by default), stored hashed in ``_otps`` with the
address it was sent to, valid for ``otp.duration`` seconds and deleted when used: single-use and
bound to the ``otpId`` of the request that created it (RELIABILITY.md AUTH-8). Unknown addresses
get a random ``otpId`` that matches nothing, so the answer does not reveal accounts (AUTH-6).
Wrong codes are limited to 5 per record per 3 minutes through the shared rate limiter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..core.errors import BadRequest, Forbidden, TooManyRequests
from ..core.rules.context import SUPERUSER_SYSTEM
from ..db.sql import where
from ..tools.datetimes import format_datetime
from ..tools.ids import random_string, record_id
from ..tools.passwords import verify_password
from . import mails
from .forms import Form
from .identity import find_by_email
from .record_tokens import load_record

OTPS = "_otps"
INVALID = "Invalid or expired OTP"
#: At most this many unexpired codes per record; past it the latest is reused and no mail is sent.
MAX_RECENT = 10
ATTEMPTS, ATTEMPTS_WINDOW = 5, 180


def options(compiled: Any) -> dict[str, Any]:
    return dict(compiled.collection.options.get("otp") or {})


def _require_enabled(compiled: Any) -> None:
    if not options(compiled).get("enabled"):
        raise Forbidden("The collection is not configured to allow OTP authentication.")


def _cutoff(compiled: Any) -> str:
    duration = int(options(compiled).get("duration") or 180)
    return format_datetime(datetime.now(UTC) - timedelta(seconds=duration))


def request_otp(runtime: Any, compiled: Any, data: dict[str, Any]) -> str:
    """Send a code to the account with ``data["email"]``; the ``otpId`` to answer with."""
    _require_enabled(compiled)
    form = Form(data)
    email = form.email("email")
    form.check()
    record = find_by_email(runtime.db, compiled, email)
    if record is None:
        return record_id()
    otps = runtime.records.collection(OTPS)
    mine = (otps.columns["collectionRef"] == compiled.id) & (otps.columns["recordRef"] == record["id"])
    recent = where(otps.table, mine & (otps.columns["created"] > _cutoff(compiled)))._select(
        otps.id_column, orderby=~otps.columns["created"], limitby=(0, MAX_RECENT)
    )
    rows = runtime.db.fetchall(recent)
    if len(rows) >= MAX_RECENT:
        return str(rows[0][0])
    code = random_string(int(options(compiled).get("length") or 8), "0123456789")
    data = {
        "collectionRef": compiled.id,
        "recordRef": record["id"],
        "password": code,
        "sentTo": record["email"],
    }
    _, otp = runtime.records.create(OTPS, data, SUPERUSER_SYSTEM)

    def forget() -> None:  # a code that never reached its owner must not stay usable
        runtime.records.delete(OTPS, otp["id"], SUPERUSER_SYSTEM)

    mails.send_otp(runtime, compiled, record, otp["id"], code, on_failure=forget)
    return str(otp["id"])


def verify_otp(runtime: Any, compiled: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The auth record a correct, unexpired code belongs to; the code is used up."""
    _require_enabled(compiled)
    form = Form(data)
    otp_id = form.text("otpId")
    code = form.text("password", max_length=71)
    form.check()
    otps = runtime.records.collection(OTPS)
    otp = load_record(runtime.db, otps, otp_id)
    if otp is None or otp.get("collectionRef") != compiled.id or str(otp.get("created")) <= _cutoff(compiled):
        raise BadRequest(INVALID)
    record = load_record(runtime.db, compiled, str(otp.get("recordRef")))
    if record is None:
        raise BadRequest(INVALID)
    if not runtime.rate_limiter.hit(f"@otp:{record['id']}", ATTEMPTS, ATTEMPTS_WINDOW).allowed:
        raise TooManyRequests("Too many attempts, please try again later with a new OTP.")
    if not verify_password(code, str(otp.get("password") or "")):
        raise BadRequest(INVALID)
    # Deleting is what makes the code single-use: of two concurrent uses only one deletes it.
    if runtime.db.execute(where(otps.table, otps.id_column == otp["id"])._delete()).rowcount == 0:
        raise BadRequest(INVALID)
    if not record.get("verified") and otp.get("sentTo") and otp.get("sentTo") == record.get("email"):
        changes: dict[str, Any] = {"verified": True}
        if not (compiled.collection.options.get("mfa") or {}).get("enabled"):
            # The code proved the address: a password someone set before that stops working.
            password = random_string(30)
            changes.update(password=password, passwordConfirm=password)
        _, record = runtime.records.update(compiled.name, record["id"], changes, SUPERUSER_SYSTEM)
        record = load_record(runtime.db, compiled, record["id"]) or record
    return record
