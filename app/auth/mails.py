"""The emails of the auth flows: which template, which token or code, to which address.

Each function builds the message from the auth collection's templates (editable per collection)
and queues it on ``runtime.mail_queue``, which sends it off the request path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..mail.templates import record_message


def _queue(
    runtime: Any,
    compiled: Any,
    record: dict[str, Any],
    template: dict[str, Any],
    to: str,
    on_failure: Callable[[], None] | None = None,
    **values: Any,
) -> None:
    message = record_message(runtime.app_settings.get(), template, record, to, collection=compiled, **values)
    runtime.mail_queue.submit(message, on_failure)


def _options(compiled: Any) -> dict[str, Any]:
    return dict(compiled.collection.options)


def send_verification(runtime: Any, compiled: Any, record: dict[str, Any], token: str) -> None:
    template = _options(compiled)["verificationTemplate"]
    _queue(runtime, compiled, record, template, str(record["email"]), TOKEN=token)


def send_password_reset(runtime: Any, compiled: Any, record: dict[str, Any], token: str) -> None:
    template = _options(compiled)["resetPasswordTemplate"]
    _queue(runtime, compiled, record, template, str(record["email"]), TOKEN=token)


def send_email_change(
    runtime: Any, compiled: Any, record: dict[str, Any], new_email: str, token: str
) -> None:
    """Sent to the new address: only its owner can confirm the change."""
    template = _options(compiled)["confirmEmailChangeTemplate"]
    _queue(runtime, compiled, record, template, new_email, TOKEN=token)


def send_otp(
    runtime: Any,
    compiled: Any,
    record: dict[str, Any],
    otp_id: str,
    code: str,
    on_failure: Callable[[], None] | None = None,
) -> None:
    template = (_options(compiled).get("otp") or {})["emailTemplate"]
    _queue(runtime, compiled, record, template, str(record["email"]), on_failure, OTP=code, OTP_ID=otp_id)


def send_auth_alert(runtime: Any, compiled: Any, record: dict[str, Any], alert_info: str) -> None:
    template = (_options(compiled).get("authAlert") or {})["emailTemplate"]
    _queue(runtime, compiled, record, template, str(record["email"]), ALERT_INFO=alert_info)
