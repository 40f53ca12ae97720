"""Route guards shared by API modules: require an authenticated record, or a superuser."""

from __future__ import annotations

from ..core.errors import Forbidden, Unauthorized
from ..core.rules.context import RequestInfo

SUPERUSER_ONLY = "The authorized record is not allowed to perform this action."


def require_auth(info: RequestInfo) -> None:
    if info.auth is None:
        raise Unauthorized()


def require_superuser(info: RequestInfo) -> None:
    require_auth(info)
    if not info.is_superuser:
        raise Forbidden(SUPERUSER_ONLY)
