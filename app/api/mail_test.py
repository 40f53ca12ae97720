"""``POST /api/settings/test/email`` (superusers): send a sample of an auth collection's email template.

Body: ``{"template": "verification" | "password-reset" | "email-change" | "otp" | "login-alert",
"email": address, "collection": auth collection id or name (default ``_superusers``)}``. Answers
204 once the message was handed to the configured transport; 400 with field errors for bad input,
or with the transport's error text when sending failed (PocketBase's shapes and messages). The
sample record has every visible field set to ``__test_<field>__`` and the given email; its token
is signed with a throwaway key, so the link in a test email can never confirm anything.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..auth import tokens
from ..core.collections.auth_options import merge_auth_options
from ..core.collections.system import SUPERUSERS
from ..core.errors import BadRequest, field_error
from ..mail import MailError
from ..mail.templates import record_message
from ..runtime import Runtime
from ..tools.ids import random_string
from .guards import require_superuser
from .request import read_body, request_info
from .responses import empty_response

FAILED = "Failed to send the test email."
LOAD_FAILED = "An error occurred while loading the submitted data."
#: template name -> (where the template sits in the auth options, token type or "" for none)
TEMPLATES: dict[str, tuple[tuple[str, ...], str]] = {
    "verification": (("verificationTemplate",), "verification"),
    "password-reset": (("resetPasswordTemplate",), "passwordReset"),
    "email-change": (("confirmEmailChangeTemplate",), "emailChange"),
    "otp": (("otp", "emailTemplate"), ""),
    "login-alert": (("authAlert", "emailTemplate"), ""),
}
_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+\Z")  # \Z: no final "\n"
SAMPLE_TOKEN_DURATION = 1800


def mount(api: Any, runtime: Runtime) -> None:
    @api.route("/settings/test/email", name="settings_test_email", methods=["post"])
    async def settings_test_email() -> Any:
        body = await read_body(runtime.settings.max_body_size)
        require_superuser(await request_info(runtime, body))
        template_name, email, compiled = _validated(runtime, body.data)
        message = _sample_message(runtime, compiled, template_name, email)
        try:
            await runtime.mailer.send_async(message)
        except MailError as exc:
            raise BadRequest(f"{FAILED} Raw error: \n{exc}") from None
        return empty_response(204)


def _validated(runtime: Runtime, data: dict[str, Any]) -> tuple[str, str, Any]:
    values = {key: data.get(key, "") for key in ("template", "email", "collection")}
    if not all(isinstance(v, str) for v in values.values()):
        raise BadRequest(LOAD_FAILED)
    template, email, collection = values["template"], values["email"].strip(), values["collection"]
    errors: dict[str, Any] = {}
    if not email:
        errors["email"] = field_error("validation_required", "Cannot be blank.")
    elif len(email) > 255 or not _EMAIL_RE.match(email):
        errors["email"] = field_error("validation_is_email", "Must be a valid email address.")
    if not template:
        errors["template"] = field_error("validation_required", "Cannot be blank.")
    elif template not in TEMPLATES:
        errors["template"] = field_error("validation_in_invalid", "Must be a valid value.")
    compiled = None
    if len(collection) > 255:
        errors["collection"] = field_error(
            "validation_length_out_of_range", "The length must be between 1 and 255.", min=1, max=255
        )
    else:
        compiled = runtime.registry.get_after_miss(collection or SUPERUSERS)
        if compiled is None or not compiled.collection.is_auth:
            errors["collection"] = field_error(
                "validation_invalid_auth_collection", "Must be a valid auth collection id or name."
            )
    if errors:
        raise BadRequest(FAILED, errors)
    return template, email, compiled


def _sample_message(runtime: Runtime, compiled: Any, template_name: str, email: str) -> Any:
    definition = compiled.collection
    record: dict[str, Any] = {f.name: f"__test_{f.name}__" for f in definition.fields if not f.hidden}
    record["email"] = email
    options = merge_auth_options(definition.options, {}, fill_secrets=False)
    path, token_type = TEMPLATES[template_name]
    template: Any = options
    for key in path:
        template = template.get(key) or {}
    values: dict[str, str] = {}
    if token_type:
        claims: dict[str, Any] = {"email": email}
        if token_type == "emailChange":  # noqa: S105 - a token type, not a secret
            claims["newEmail"] = email
        # A throwaway key: the token looks like a real one but no server will ever accept it.
        values["TOKEN"] = tokens.issue(
            record.get("id", ""), compiled.id, token_type, random_string(50), SAMPLE_TOKEN_DURATION, **claims
        )
    elif template_name == "otp":
        values.update(OTP="123456", OTP_ID="__test_otp_id__")
    else:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        values["ALERT_INFO"] = f"{stamp} - 203.0.113.1 (test user agent)"
    return record_message(runtime.app_settings.get(), template, record, email, collection=compiled, **values)
