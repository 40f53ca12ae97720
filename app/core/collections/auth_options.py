"""Options of auth collections (PocketBase's ``collectionAuthOptions``): defaults, merge, redaction.

Token secrets are generated per collection and per token type and never leave the server: the
JSON a client sees has them removed, and an update that omits them keeps the stored ones.
"""

from __future__ import annotations

import copy
from typing import Any

from ...tools.ids import random_string
from .oauth2_options import merge_oauth2_options

TOKEN_KEYS = ("authToken", "passwordResetToken", "emailChangeToken", "verificationToken", "fileToken")
# Seconds. Email-link tokens live 10 minutes (RELIABILITY.md AUTH-8), shorter than PocketBase's
# 30 minutes (reset, email change) and 3 days (verification); a user can always ask again.
TOKEN_DURATIONS = {
    "authToken": 432000,
    "passwordResetToken": 600,
    "emailChangeToken": 600,
    "verificationToken": 600,
    "fileToken": 180,
}
TEMPLATE_KEYS = ("verificationTemplate", "resetPasswordTemplate", "confirmEmailChangeTemplate")
AUTH_OPTION_KEYS = (
    "authRule",
    "manageRule",
    "authAlert",
    "oauth2",
    "passwordAuth",
    "mfa",
    "otp",
    *TOKEN_KEYS,
    *TEMPLATE_KEYS,
)

_TEMPLATES = {
    "verificationTemplate": {
        "subject": "Verify your {APP_NAME} email",
        "body": "<p>Hello,</p>\n<p>Thank you for joining us at {APP_NAME}.</p>\n"
        '<p>Click on the button below to verify your email address.</p>\n<p>\n  <a class="btn" '
        'href="{APP_URL}/_/#/auth/confirm-verification/{TOKEN}" target="_blank" rel="noopener">Verify</a>\n'
        "</p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>",
    },
    "resetPasswordTemplate": {
        "subject": "Reset your {APP_NAME} password",
        "body": "<p>Hello,</p>\n<p>Click on the button below to reset your password.</p>\n<p>\n  "
        '<a class="btn" href="{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}" target="_blank" '
        'rel="noopener">Reset password</a>\n</p>\n<p><i>If you didn\'t ask to reset your password, you '
        "can ignore this email.</i></p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>",
    },
    "confirmEmailChangeTemplate": {
        "subject": "Confirm your {APP_NAME} new email address",
        "body": "<p>Hello,</p>\n<p>Click on the button below to confirm your new email address.</p>\n<p>\n"
        '  <a class="btn" href="{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}" target="_blank" '
        'rel="noopener">Confirm new email</a>\n</p>\n<p><i>If you didn\'t ask to change your email '
        "address, you can ignore this email.</i></p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>",
    },
}
_OTP_TEMPLATE = {
    "subject": "OTP for {APP_NAME}",
    "body": "<p>Hello,</p>\n<p>Your one-time password is: <strong>{OTP}</strong></p>\n"
    "<p><i>If you didn't ask for the one-time password, you can ignore this email.</i></p>\n"
    "<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>",
}
_ALERT_TEMPLATE = {
    "subject": "Login from a new location",
    "body": "<p>Hello,</p>\n<p>Your {APP_NAME} account was just signed in to from a device or place we "
    "had not seen before:</p>\n<p><em>{ALERT_INFO}</em></p>\n<p><strong>Not you? Change your password "
    "now: that signs out every other device.</strong></p>\n<p>If it was you, there is nothing to do.</p>\n"
    "<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>",
}


def default_auth_options() -> dict[str, Any]:
    options: dict[str, Any] = {
        "authRule": "",
        "manageRule": None,
        "authAlert": {"enabled": True, "emailTemplate": dict(_ALERT_TEMPLATE)},
        "oauth2": {
            "enabled": False,
            "mappedFields": {"id": "", "name": "", "username": "", "avatarURL": ""},
            "providers": [],
        },
        "passwordAuth": {"enabled": True, "identityFields": ["email"], "rejectCommonPasswords": True},
        "mfa": {"enabled": False, "duration": 600, "rule": ""},
        "otp": {"enabled": False, "duration": 180, "length": 8, "emailTemplate": dict(_OTP_TEMPLATE)},
    }
    for key in TOKEN_KEYS:
        options[key] = {"secret": random_string(50), "duration": TOKEN_DURATIONS[key]}
    for key in TEMPLATE_KEYS:
        options[key] = dict(_TEMPLATES[key])
    return options


def merge_auth_options(
    stored: dict[str, Any] | None, submitted: dict[str, Any], fill_secrets: bool = True
) -> dict[str, Any]:
    """Defaults <- stored <- submitted, one level deep; secrets survive when not resubmitted, and
    missing ones are generated (an exported definition carries none)."""
    merged = default_auth_options() if not stored else copy.deepcopy(stored)
    defaults = default_auth_options()
    for key in AUTH_OPTION_KEYS:
        if key not in merged:
            merged[key] = defaults[key]
    for key, value in submitted.items():
        if key not in AUTH_OPTION_KEYS:
            continue
        if key == "oauth2":  # providers merge by name so write-only client secrets survive
            merged[key] = merge_oauth2_options(merged.get(key), value)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            combined = dict(merged[key])
            combined.update({k: v for k, v in value.items() if not (k == "secret" and not v)})
            merged[key] = combined
        else:
            merged[key] = copy.deepcopy(value)
    for key in TOKEN_KEYS:
        token = merged.get(key)
        if not isinstance(token, dict):
            merged[key] = token = {"duration": TOKEN_DURATIONS[key]}
        if fill_secrets and not token.get("secret"):
            token["secret"] = random_string(50)
        token.setdefault("duration", TOKEN_DURATIONS[key])
    return merged


def auth_options_json(options: dict[str, Any]) -> dict[str, Any]:
    """The options as clients see them: every key present, token secrets removed."""
    out = merge_auth_options(options, {}, fill_secrets=False)
    for key in TOKEN_KEYS:
        out[key] = {k: v for k, v in out[key].items() if k != "secret"}
    for provider in out["oauth2"].get("providers") or []:
        if isinstance(provider, dict):
            provider.pop("clientSecret", None)
    return out


def token_secret(options: dict[str, Any], token_type: str) -> str:
    return str(options[token_type]["secret"])


def token_duration(options: dict[str, Any], token_type: str) -> int:
    return int(options.get(token_type, {}).get("duration") or TOKEN_DURATIONS[token_type])
