"""The provider-neutral OAuth2 user (PocketBase's ``AuthUser``) and the ``meta`` object clients get.

``email`` is only ever an address the provider says it verified: linking to an existing account by
email, and marking a new account verified, both rely on that (AUTH-9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...tools.datetimes import format_datetime


@dataclass
class AuthUser:
    id: str = ""
    name: str = ""
    username: str = ""
    #: a VERIFIED email, or "" when the provider cannot vouch for one
    email: str = ""
    avatar_url: str = ""
    access_token: str = ""
    refresh_token: str = ""
    #: the access token's expiry in PocketBase's datetime format ("" when the provider gave none)
    expiry: str = ""
    raw_user: dict[str, Any] = field(default_factory=dict)

    def meta(self, is_new: bool) -> dict[str, Any]:
        """The ``meta`` of the auth response, keyed as PocketBase and its SDKs expect (``avatarUrl``
        is PocketBase's pre-0.23 spelling, still sent for older clients)."""
        return {
            "id": self.id,
            "name": self.name,
            "username": self.username,
            "email": self.email,
            "avatarURL": self.avatar_url,
            "avatarUrl": self.avatar_url,
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "expiry": self.expiry,
            "rawUser": self.raw_user,
            "isNew": is_new,
        }


def token_expiry(token: dict[str, Any]) -> str:
    """``expires_at`` (epoch seconds, set by Authlib from ``expires_in``) as a datetime string."""
    expires_at = token.get("expires_at")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float) or expires_at <= 0:
        return ""
    try:
        return format_datetime(datetime.fromtimestamp(float(expires_at), UTC))
    except (OverflowError, OSError, ValueError):
        return ""


def text(value: Any) -> str:
    """A userinfo value as text: strings as they are, integral numbers in decimal, anything else ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return ""


def truthy(value: Any) -> bool:
    """Providers send ``email_verified`` as a bool, and some as "true"/"1" strings (PocketBase #6657)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true")
    return False
