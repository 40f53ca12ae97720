"""The API error hierarchy and PocketBase's error envelope ``{"data", "message", "status"}``.

Domain code raises these; the HTTP layer turns any of them into the envelope. Messages default to
the exact texts PocketBase 0.40 sends, so SDK users see what they are used to.
"""

from __future__ import annotations

from typing import Any

GENERIC_MESSAGE = "Something went wrong while processing your request."


class ApiError(Exception):
    status = 400
    default_message = GENERIC_MESSAGE

    def __init__(
        self,
        message: str | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        detail: str = "",
    ):
        self.message = message or self.default_message
        self.data: dict[str, Any] = data if data is not None else {}
        self.headers: dict[str, str] = headers or {}
        #: why, for developers: shown only in ``--dev`` mode (PocketBase keeps ``data`` empty here)
        self.detail = detail
        super().__init__(self.message)

    def envelope(self) -> dict[str, Any]:
        return {"data": self.data, "message": self.message, "status": self.status}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401
    default_message = "The request requires valid record authorization token."


class Forbidden(ApiError):
    status = 403
    default_message = "The authorized record is not allowed to perform this action."


class NotFound(ApiError):
    status = 404
    default_message = "The requested resource wasn't found."


class MethodNotAllowed(ApiError):
    status = 405
    default_message = "Method Not Allowed."


class PayloadTooLarge(ApiError):
    status = 413
    default_message = "Request entity too large."


class TooManyRequests(ApiError):
    status = 429
    default_message = "Too Many Requests."


class InternalError(ApiError):
    status = 500
    default_message = GENERIC_MESSAGE


class ServiceUnavailable(ApiError):
    status = 503
    default_message = "The service is temporarily unavailable. Please retry."

    def __init__(self, message: str | None = None, retry_after: int = 1):
        super().__init__(message, headers={"retry-after": str(retry_after)})


def field_error(code: str, message: str, **params: Any) -> dict[str, Any]:
    """One entry of ``data.<field>`` in a validation error."""
    error: dict[str, Any] = {"code": code, "message": message}
    if params:
        error["params"] = params
    return error
