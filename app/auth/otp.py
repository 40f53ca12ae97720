"""One-time passwords sent by email (``request-otp`` / ``auth-with-otp``).

The code is random digits (``otp.length``, 8 by default), stored hashed in ``_otps`` with the
address it was sent to, valid for ``otp.duration`` seconds and deleted when used: single-use and
bound to the ``otpId`` of the request that created it (RELIABILITY.md AUTH-8). Unknown addresses
get a random ``otpId`` that matches nothing, so the answer does not reveal accounts (AUTH-6).

Wrong codes are counted per code, not per account: the 5th wrong one deletes the code, so it can
be guessed at most 5 times, and a stranger who requests codes for someone else's address can burn
only the codes they hold the ``otpId`` of — the owner's next ``request-otp`` gives a fresh code that
works. (PocketBase counts per account for 3 minutes, which let anyone keep an account's OTP
sign-in locked, and answered 429 for a real ``otpId`` but 400 for a made-up one.) Every failure is
the same 400, after the same hash work, whether the ``otpId`` exists, expired, was burnt or never
existed. The per-IP ``*:auth`` rate limit still applies to the route. A code is spent only once the
sign-in step passes (``spend``), so a bad ``mfaId`` does not cost the user their code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..core.errors import BadRequest, Forbidden
from ..core.rules.context import SUPERUSER_SYSTEM
from ..db.sql import where
from ..tools.datetimes import format_datetime
from ..tools.ids import random_string, record_id
from ..tools.passwords import dummy_hash, verify_password
from . import mails
from .forms import Form
from .identity import find_by_email
from .record_tokens import load_record

OTPS = "_otps"
INVALID = "Invalid or expired OTP."
#: At most this many unexpired codes per record; past it the latest is reused and no mail is sent.
MAX_RECENT = 10
#: The wrong code that deletes a code (the 5th): a code is guessed at most this many times.
ATTEMPTS = 5
# Wrong codes are counted in the rate limiter (one counter per code; shared by Lambda instances
# through DynamoDB, per process locally). Its windows are fixed and clock-aligned, so the window is
# much longer than a code lives: only a code alive across midnight UTC can have its count split in
# two (then up to 9 guesses).
ATTEMPTS_WINDOW = 86_400


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


def verify_otp(runtime: Any, compiled: Any, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The auth record a correct, unexpired code belongs to, and the code's ``_otps`` row, which
    the caller must ``spend`` once the sign-in step passes. A wrong code counts against it."""
    _require_enabled(compiled)
    form = Form(data)
    otp_id = form.text("otpId")
    code = form.text("password", max_length=71)
    form.check()
    otps = runtime.records.collection(OTPS)
    duration = int(options(compiled).get("duration") or 180)
    otp = load_record(runtime.db, otps, otp_id)
    record = None
    if (
        otp is not None
        and otp.get("collectionRef") == compiled.id
        and str(otp.get("created")) > _cutoff(compiled)
    ):
        record = load_record(runtime.db, compiled, str(otp.get("recordRef")))
    if otp is None or record is None:
        verify_password(code, dummy_hash())  # the same work as a wrong code: timing tells nothing
        raise BadRequest(INVALID)
    if not verify_password(code, str(otp.get("password") or "")):
        _count_wrong_code(runtime, otps, str(otp["id"]), duration)
        raise BadRequest(INVALID)
    if not record.get("verified") and otp.get("sentTo") and otp.get("sentTo") == record.get("email"):
        # As PocketBase: the code proved the address whether or not the sign-in then passes MFA.
        changes: dict[str, Any] = {"verified": True}
        if not (compiled.collection.options.get("mfa") or {}).get("enabled"):
            # The code proved the address: a password someone set before that stops working.
            password = random_string(30)
            changes.update(password=password, passwordConfirm=password)
        _, record = runtime.records.update(compiled.name, record["id"], changes, SUPERUSER_SYSTEM)
        record = load_record(runtime.db, compiled, record["id"]) or record
    return record, otp


def spend(runtime: Any, otp: dict[str, Any]) -> None:
    """Use up a verified code (single use). Deleting is what makes it so: of two concurrent uses
    only one deletes the row; the other is refused like any invalid code."""
    otps = runtime.records.collection(OTPS)
    if not runtime.records.delete_row(otps, otp["id"], SUPERUSER_SYSTEM):
        raise BadRequest(INVALID)


def _count_wrong_code(runtime: Any, otps: Any, otp_id: str, duration: int) -> None:
    """Count a wrong code against the code itself; the ``ATTEMPTS``-th deletes it."""
    window = max(ATTEMPTS_WINDOW, duration)
    if not runtime.rate_limiter.hit(f"@otp-code:{otp_id}", ATTEMPTS - 1, window).allowed:
        runtime.records.delete_row(otps, otp_id, SUPERUSER_SYSTEM)
