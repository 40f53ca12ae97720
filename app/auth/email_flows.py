"""The email-link flows of auth records: verification, password reset and email change.

Requests answer the same whether or not the address belongs to an account (RELIABILITY.md
AUTH-6): the handlers return 204 either way and mail goes out in the background. Each token is
signed with the record's ``tokenKey`` and carries the email it was issued for, so it stops working
once it was used: confirming a reset or an email change rotates ``tokenKey``; a verification token
is refused once the record is verified (AUTH-8). A record can ask for each email once per
``RESEND_INTERVAL`` (counted by the rate limiter, so the limit holds across Lambda instances).
"""

from __future__ import annotations

from typing import Any

from ..core.errors import BadRequest
from ..core.rules.context import SUPERUSER_SYSTEM
from ..tools.ids import random_string
from ..tools.passwords import verify_password
from . import mails, tokens
from .forms import Form
from .identity import find_by_email
from .record_tokens import find_by_token, new_token

RESEND_INTERVAL = 120
SUPERUSERS = "_superusers"
INVALID_TOKEN = ("validation_invalid_token", "Invalid or expired token.")
OTHER_COLLECTION = (
    "validation_token_collection_mismatch",
    "The provided token is for different auth collection.",
)


def _may_send(runtime: Any, kind: str, compiled: Any, record: dict[str, Any]) -> bool:
    key = f"@{kind}:{compiled.id}:{record['id']}"
    return bool(runtime.rate_limiter.hit(key, 1, RESEND_INTERVAL).allowed)


def _claims(token: str) -> dict[str, Any]:
    try:
        return tokens.peek(token)
    except tokens.TokenError:
        return {}


def _token_record(
    runtime: Any, compiled: Any, form: Form, token: str, token_type: str
) -> dict[str, Any] | None:
    """The record a valid ``token_type`` token of this collection belongs to (else a form error)."""
    if not token:
        return None
    found = find_by_token(runtime.db, runtime.registry, token, token_type)
    if found is None:
        form.fail("token", *INVALID_TOKEN)
        return None
    token_collection, record, _ = found
    if token_collection.id != compiled.id:
        form.fail("token", *OTHER_COLLECTION)
        return None
    return record


def _save(runtime: Any, compiled: Any, record_id: str, data: dict[str, Any], message: str) -> None:
    """Update the record as the server itself (rules do not apply; hooks and validation do)."""
    try:
        runtime.records.update(compiled.name, record_id, data, SUPERUSER_SYSTEM)
    except BadRequest as exc:
        raise BadRequest(message, exc.data) from None


# -- verification -------------------------------------------------------------------------------


def request_verification(runtime: Any, compiled: Any, data: dict[str, Any]) -> None:
    if compiled.name == SUPERUSERS:
        raise BadRequest("All superusers are verified by default.")
    form = Form(data)
    email = form.email("email")
    form.check()
    record = find_by_email(runtime.db, compiled, email)
    if record is None or record.get("verified") or not _may_send(runtime, "verification", compiled, record):
        return
    token = new_token(compiled, record, "verification", email=record["email"])
    mails.send_verification(runtime, compiled, record, token)


def confirm_verification(runtime: Any, compiled: Any, data: dict[str, Any]) -> None:
    if compiled.name == SUPERUSERS:
        raise BadRequest("All superusers are verified by default.")
    form = Form(data)
    token = form.text("token", max_length=4096)
    record = None
    email = _claims(token).get("email") if token else None
    if token:
        if not email:
            form.fail("token", "validation_invalid_token_claims", "Missing email token claim.")
        else:
            record = _token_record(runtime, compiled, form, token, "verification")
    if record is not None:
        if record.get("email") != email:
            form.fail(
                "token",
                "validation_token_email_mismatch",
                "The record email doesn't match with the requested token claims.",
            )
        elif record.get("verified"):
            form.fail("token", *INVALID_TOKEN)  # already used: a verification token works once
    form.check()
    assert record is not None
    changes: dict[str, Any] = {"verified": True}
    if not (compiled.collection.options.get("passwordAuth") or {}).get("enabled", True):
        # Nobody can sign in with a password they may have set before verifying the address.
        password = random_string(30)
        changes.update(password=password, passwordConfirm=password)
    _save(runtime, compiled, record["id"], changes, "An error occurred while saving the verified state.")


# -- password reset -----------------------------------------------------------------------------


def _require_password_auth(compiled: Any) -> None:
    if not (compiled.collection.options.get("passwordAuth") or {}).get("enabled", True):
        raise BadRequest("The collection is not configured to allow password authentication.")


def request_password_reset(runtime: Any, compiled: Any, data: dict[str, Any]) -> None:
    _require_password_auth(compiled)
    form = Form(data)
    email = form.email("email")
    form.check()
    record = find_by_email(runtime.db, compiled, email)
    if record is None or not _may_send(runtime, "passwordReset", compiled, record):
        return
    token = new_token(compiled, record, "passwordReset", email=record["email"])
    mails.send_password_reset(runtime, compiled, record, token)


def confirm_password_reset(runtime: Any, compiled: Any, data: dict[str, Any]) -> None:
    form = Form(data)
    token = form.text("token", max_length=4096)
    password = form.text("password", max_length=256)
    confirm = form.text("passwordConfirm", max_length=256)
    if password and confirm and password != confirm:
        form.fail("passwordConfirm", "validation_values_mismatch", "Values don't match.")
    record = _token_record(runtime, compiled, form, token, "passwordReset")
    form.check()
    assert record is not None
    changes: dict[str, Any] = {"password": password, "passwordConfirm": confirm}
    if not record.get("verified") and record.get("email") == _claims(token).get("email"):
        changes["verified"] = True  # the reset link proved the address
    _save(runtime, compiled, record["id"], changes, "Failed to set new password.")


# -- email change -------------------------------------------------------------------------------


def request_email_change(runtime: Any, compiled: Any, record: dict[str, Any], data: dict[str, Any]) -> None:
    if compiled.name == SUPERUSERS:
        raise BadRequest("All superusers can change their emails directly.")
    form = Form(data)
    new_email = form.email("newEmail")
    if new_email and "newEmail" not in form.errors:
        if new_email == record.get("email"):
            form.fail("newEmail", "validation_not_in_invalid", "Must be a valid value.")
        else:
            taken = find_by_email(runtime.db, compiled, new_email)
            if taken is not None and taken["id"] != record["id"]:
                form.fail("newEmail", "validation_invalid_new_email", "Invalid new email address.")
    form.check()
    token = new_token(compiled, record, "emailChange", email=record.get("email", ""), newEmail=new_email)
    mails.send_email_change(runtime, compiled, record, new_email, token)


def confirm_email_change(runtime: Any, compiled: Any, data: dict[str, Any]) -> None:
    if compiled.name == SUPERUSERS:
        raise BadRequest("All superusers can change their emails directly.")
    form = Form(data)
    token = form.text("token", max_length=4096)
    password = form.text("password", max_length=256)
    record = None
    new_email = str(_claims(token).get("newEmail") or "") if token else ""
    if token and not new_email:
        form.fail(
            "token", "validation_invalid_token_payload", "Invalid token payload - newEmail must be set."
        )
    elif token:
        record = _token_record(runtime, compiled, form, token, "emailChange")
        if record is not None and find_by_email(runtime.db, compiled, new_email) is not None:
            form.fail("token", "validation_invalid_token_email", "The new email address is invalid.")
    if password and (record is None or not verify_password(password, str(record.get("password") or ""))):
        form.fail("password", "validation_invalid_password", "Missing or invalid auth record password.")
    form.check()
    assert record is not None
    _save(
        runtime,
        compiled,
        record["id"],
        {"email": new_email, "verified": True},
        "Failed to confirm email change.",
    )
