"""Reading the small JSON forms of the auth endpoints, with PocketBase's validation errors.

A problem becomes a 400 "An error occurred while validating the submitted data." whose ``data``
holds one ``{code, message}`` per field, like every other validation error.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import BadRequest, field_error
from .identity import is_email

INVALID_DATA = "An error occurred while validating the submitted data."
BLANK = field_error("validation_required", "Cannot be blank.")


class Form:
    """Collects field errors while a handler reads its body; ``check()`` raises them all at once."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.errors: dict[str, Any] = {}

    def text(self, name: str, required: bool = True, max_length: int = 255, min_length: int = 1) -> str:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.errors[name] = BLANK
            return ""
        if not isinstance(value, str):
            self.errors[name] = field_error("validation_invalid_value", "Must be a string.")
            return ""
        if not min_length <= len(value) <= max_length:
            self.errors[name] = field_error(
                "validation_length_out_of_range",
                f"The length must be between {min_length} and {max_length}.",
                min=min_length,
                max=max_length,
            )
        elif "\x00" in value:
            self.errors[name] = field_error("validation_invalid_value", "Invalid value.")
        return value

    def email(self, name: str) -> str:
        value = self.text(name)
        if value and name not in self.errors and not is_email(value):
            self.errors[name] = field_error("validation_is_email", "Must be a valid email address.")
        return value

    def fail(self, name: str, code: str, message: str) -> None:
        self.errors.setdefault(name, field_error(code, message))

    def check(self, message: str = INVALID_DATA) -> None:
        if self.errors:
            raise BadRequest(message, self.errors)
