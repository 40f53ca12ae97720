"""Validation of an auth collection's options (PocketBase's ``collectionAuthOptions`` checks).

Token durations, OTP and MFA settings, identity fields backed by a UNIQUE index, MFA needing two
methods, and non-empty email templates. Errors are keyed like the JSON (``otp.length``,
``passwordAuth.identityFields``) with PocketBase's codes. Rules (``mfa.rule``) are compiled by the
rules compiler with the collection's other rules.
"""

from __future__ import annotations

from typing import Any

from ..errors import field_error
from .auth_options import TEMPLATE_KEYS, TOKEN_KEYS
from .indexes import unique_column
from .model import Collection

MAX_TOKEN_DURATION = 94_670_856  # ~3 years, PocketBase's bound
#: An EmmettBase bound: OTP codes are generated per request, so their length must stay reasonable.
MAX_OTP_LENGTH = 32


def _number_error(value: Any, low: int, high: int) -> dict[str, Any] | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return field_error("validation_invalid_value", "Must be a whole number.")
    if value < low:
        return field_error(
            "validation_min_greater_equal_than_required", f"Must be no less than {low}.", threshold=low
        )
    if value > high:
        return field_error(
            "validation_max_less_equal_than_required", f"Must be no greater than {high}.", threshold=high
        )
    return None


def auth_option_errors(collection: Collection) -> dict[str, Any]:
    options = collection.options
    errors: dict[str, Any] = {}

    for key in TOKEN_KEYS:
        problem = _number_error((options.get(key) or {}).get("duration"), 10, MAX_TOKEN_DURATION)
        if problem:
            errors[key] = {"duration": problem}
    lifetime = (options.get("authToken") or {}).get("maxLifetime")
    if lifetime is not None:
        problem = _number_error(lifetime, 60, MAX_TOKEN_DURATION)
        if problem:
            errors.setdefault("authToken", {})["maxLifetime"] = problem

    otp = options.get("otp") or {}
    if otp.get("enabled"):
        for name, low, high in (("duration", 10, 86400), ("length", 4, MAX_OTP_LENGTH)):
            problem = _number_error(otp.get(name), low, high)
            if problem:
                errors.setdefault("otp", {})[name] = problem
    mfa = options.get("mfa") or {}
    if mfa.get("enabled"):
        problem = _number_error(mfa.get("duration"), 10, 86400)
        if problem:
            errors.setdefault("mfa", {})["duration"] = problem
        methods = sum(
            bool((options.get(key) or {}).get("enabled", key == "passwordAuth"))
            for key in ("passwordAuth", "oauth2", "otp")
        )
        if methods < 2:
            errors.setdefault("mfa", {})["enabled"] = field_error(
                "validation_mfa_not_enough_auths", "MFA requires at least 2 auth methods to be enabled."
            )

    password = options.get("passwordAuth") or {}
    if password.get("enabled", True):
        fields = password.get("identityFields")
        problem = None
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            problem = field_error("validation_required", "Cannot be blank.")
        else:
            for name in fields:
                if name not in {f.name for f in collection.fields}:
                    problem = field_error(
                        "validation_missing_field", f"Invalid or missing field {name}", fieldName=name
                    )
                elif unique_column(collection.indexes, name) is None:
                    problem = field_error(
                        "validation_missing_unique_constraint",
                        f"The field {name} doesn't have a UNIQUE constraint.",
                        fieldName=name,
                    )
                if problem:
                    break
        if problem:
            errors["passwordAuth"] = {"identityFields": problem}

    templates = [(key, options.get(key)) for key in TEMPLATE_KEYS]
    templates += [(key, (options.get(key) or {}).get("emailTemplate")) for key in ("otp", "authAlert")]
    for key, template in templates:
        for part in ("subject", "body"):
            value = template.get(part) if isinstance(template, dict) else None
            if not isinstance(value, str) or not value.strip():
                target = errors.setdefault(key, {})
                if key in ("otp", "authAlert"):
                    target = target.setdefault("emailTemplate", {})
                target[part] = field_error("validation_required", "Cannot be blank.")
    return errors
