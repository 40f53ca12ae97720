"""Email and OTP routes of auth collections: request/confirm verification, password reset and
email change; ``request-otp`` and ``auth-with-otp``. Thin: the flows live in ``app.auth``."""

from __future__ import annotations

from typing import Any

from ..auth import email_flows, otp
from ..runtime import Runtime
from .auth import auth_collection, auth_response, own_collection_auth
from .request import read_body, request_info
from .responses import empty_response, json_response

PREFIX = "/collections/<str:collection>/"


def mount(api: Any, runtime: Runtime) -> None:
    max_body = runtime.settings.max_body_size

    async def form(collection: str) -> tuple[Any, dict[str, Any]]:
        compiled = auth_collection(runtime, collection)
        body = await read_body(max_body)
        return compiled, body.data

    # The form routes: read the body, run the flow, answer 204 (PocketBase's answer either way).
    forms = {
        "request-verification": email_flows.request_verification,
        "confirm-verification": email_flows.confirm_verification,
        "request-password-reset": email_flows.request_password_reset,
        "confirm-password-reset": email_flows.confirm_password_reset,
        "confirm-email-change": email_flows.confirm_email_change,
    }
    for path, flow in forms.items():
        _mount_form(api, runtime, path, flow)

    @api.route(PREFIX + "request-email-change", name="request_email_change", methods=["post"])
    async def request_email_change(collection: str) -> Any:
        body = await read_body(max_body)
        info = await request_info(runtime, body)
        compiled = own_collection_auth(runtime, collection, info)
        assert info.auth is not None
        email_flows.request_email_change(runtime, compiled, info.auth.record, body.data)
        return empty_response()

    @api.route(PREFIX + "request-otp", name="request_otp", methods=["post"])
    async def request_otp(collection: str) -> Any:
        return json_response({"otpId": otp.request_otp(runtime, *await form(collection))})

    @api.route(PREFIX + "auth-with-otp", name="auth_with_otp", methods=["post"])
    async def auth_with_otp(collection: str) -> Any:
        compiled = auth_collection(runtime, collection)
        body = await read_body(max_body)
        info = await request_info(runtime, body, context="otp")
        record, code = otp.verify_otp(runtime, compiled, body.data)
        response = auth_response(runtime, compiled, record, info, method="otp")
        # Spent once the sign-in step passed (a token, or an MFA session opened on it): a bad or
        # expired mfaId, or a failing auth rule, leaves the user their code.
        otp.spend(runtime, code)
        return response


def _mount_form(api: Any, runtime: Runtime, path: str, flow: Any) -> None:
    max_body = runtime.settings.max_body_size

    async def handler(collection: str) -> Any:
        compiled = auth_collection(runtime, collection)
        body = await read_body(max_body)
        flow(runtime, compiled, body.data)
        return empty_response()

    api.route(PREFIX + path, name=path.replace("-", "_"), methods=["post"])(handler)
