"""The auth-collection rules around a record write: password confirmation, old password, and the
fields only managers may change (``email`` on update, ``verified``). Changing the password or the
email rotates ``tokenKey``, which revokes every token issued before (AUTH-1..4).
"""

from __future__ import annotations

from typing import Any

from ...tools.ids import generate_from_pattern
from ..collections.compiled import CompiledCollection
from ..collections.fields import PlainPassword
from ..errors import field_error
from ..rules.context import RequestInfo

MISMATCH = field_error("validation_values_mismatch", "Values don't match.")
REQUIRED = field_error("validation_required", "Cannot be blank.")
TOO_COMMON = field_error(
    "validation_password_too_common", "The password is too common, please choose another one."
)


def apply_auth_rules(
    compiled: CompiledCollection,
    record: dict[str, Any],
    original: dict[str, Any] | None,
    data: dict[str, Any],
    changed: set[str],
    info: RequestInfo,
    manager: bool | None = None,
) -> dict[str, Any]:
    """Check the auth-specific parts of a create (``original`` None) or update; returns field errors."""
    errors: dict[str, Any] = {}
    is_new = original is None
    manage = info.is_superuser if manager is None else manager
    password = record.get("password") if "password" in changed else None
    confirm = str(data.get("passwordConfirm") or "")
    old = str(data.get("oldPassword") or "")
    plain = str(password) if isinstance(password, PlainPassword) else ""

    if not is_new and not manage and record.get("email") != original.get("email"):  # type: ignore[union-attr]
        errors["email"] = MISMATCH
    previous_verified = bool(original.get("verified")) if original else False
    if not manage and bool(record.get("verified")) != previous_verified:
        errors["verified"] = MISMATCH

    if (is_new or confirm or old) and not plain:
        errors.setdefault("password", REQUIRED)
    if (is_new or plain or old) and not confirm:
        errors["passwordConfirm"] = REQUIRED
    elif confirm != plain:
        errors["passwordConfirm"] = MISMATCH
    if (
        plain
        and "password" not in errors
        and len(plain) >= _min_length(compiled)
        and _rejects_common(compiled)
    ):
        from ...tools.password_policy import is_common

        if is_common(plain):
            errors["password"] = TOO_COMMON
    if not is_new and not manage and (plain or confirm):
        from ...tools.passwords import verify_password  # argon2/bcrypt load on first use

        if not old or not verify_password(old, str(original.get("password") or "")):  # type: ignore[union-attr]
            errors["oldPassword"] = field_error(
                "validation_invalid_old_password", "Missing or invalid old password."
            )

    if not is_new and not errors and (plain or record.get("email") != original.get("email")):  # type: ignore[union-attr]
        token_field = compiled.fields["tokenKey"]
        record["tokenKey"] = generate_from_pattern(
            token_field.opt("autogeneratePattern") or "[a-zA-Z0-9]{50}"
        )
    return errors


def _rejects_common(compiled: CompiledCollection) -> bool:
    """``passwordAuth.rejectCommonPasswords`` (on unless a collection turns it off)."""
    options = compiled.collection.options.get("passwordAuth") or {}
    return options.get("rejectCommonPasswords", True) is not False


def _min_length(compiled: CompiledCollection) -> int:
    # A password already too short gets the length error only, not two.
    field = compiled.fields.get("password")
    return int(field.opt("min") or 0) if field is not None else 0
