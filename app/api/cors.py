"""CORS: PocketBase's default (any origin, no credentials) or an explicit allow-list of origins."""

from __future__ import annotations

from collections.abc import Sequence

ALLOWED_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"


class Cors:
    def __init__(self, origins: Sequence[str] = ("*",)):
        self.any_origin = "*" in origins
        self.origins = frozenset(o.rstrip("/") for o in origins if o != "*")

    def allowed(self, origin: str | None) -> str | None:
        """The value for ``Access-Control-Allow-Origin``, or None to send none."""
        if not origin:
            return None
        if self.any_origin:
            return "*"
        return origin if origin.rstrip("/") in self.origins else None

    def apply(self, origin: str | None, headers: dict[str, str]) -> None:
        headers["vary"] = "Origin"
        allow = self.allowed(origin)
        if allow:
            headers["access-control-allow-origin"] = allow

    def preflight_headers(self, origin: str | None, requested_headers: str | None) -> dict[str, str]:
        headers = {"vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
        allow = self.allowed(origin)
        if allow:
            headers["access-control-allow-origin"] = allow
            headers["access-control-allow-methods"] = ALLOWED_METHODS
            if requested_headers:
                headers["access-control-allow-headers"] = requested_headers
        return headers
