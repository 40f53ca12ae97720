"""Sign-in routes of auth collections: ``auth-methods``, ``auth-with-password``, ``auth-refresh``
and ``impersonate``, plus ``auth_response``, which every sign-in ends with.

``auth_response`` is PocketBase's ``RecordAuthResponse``: it applies the collection's ``authRule``,
asks for a second factor when MFA is on (401 ``{"mfaId"}``), remembers the sign-in origin for login
alerts, and answers ``{token, record[, meta]}``.
"""

from __future__ import annotations

import time
from typing import Any

from emmett import current

from ..auth import mfa, origins
from ..auth.forms import Form
from ..auth.identity import find_by_field, is_email
from ..auth.record_tokens import auth_time, load_record, max_lifetime, new_auth_token
from ..auth.session import token_from_header
from ..core.errors import BadRequest, Forbidden, NotFound, Unauthorized, field_error
from ..core.records.projection import parse_fields, project
from ..core.rules.context import SUPERUSER_SYSTEM, AuthState, RequestInfo
from ..runtime import Runtime
from ..tools.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from .client_ip import real_ip
from .request import read_body, request_info
from .responses import json_response

FAILED = "Failed to authenticate."
AUTH_RULE_FAILED = "The request doesn't satisfy the collection requirements to authenticate."
NEEDS_RECORD_TOKEN = "The request requires valid record authorization token."  # noqa: S105 - a message


def auth_collection(runtime: Runtime, key: str) -> Any:
    """The auth collection named in the path (404 for anything else, as PocketBase)."""
    try:
        compiled = runtime.records.collection(key)
    except NotFound:
        compiled = None
    if compiled is None or not compiled.collection.is_auth:
        raise NotFound("Missing or invalid auth collection context.")
    return compiled


def own_collection_auth(runtime: Runtime, collection: str, info: RequestInfo) -> Any:
    """The auth collection in the path, which the caller must be signed in to (401 / 403)."""
    if info.auth is None:
        raise Unauthorized(NEEDS_RECORD_TOKEN)
    compiled = auth_collection(runtime, collection)
    if info.auth.collection.id != compiled.id:
        raise Forbidden(f"The request requires auth record from {info.auth.collection.name} collection.")
    return compiled


def auth_response(
    runtime: Runtime,
    compiled: Any,
    record: dict[str, Any],
    info: RequestInfo,
    method: str = "",
    meta: dict[str, Any] | None = None,
    token: str | None = None,
) -> Any:
    """``{token, record[, meta]}`` for a record that just proved who it is by ``method``
    ("password", "otp", "oauth2"; "" for refresh and impersonation, which skip MFA and alerts)."""
    if not runtime.records.allowed_to_authenticate(compiled, record["id"], info):
        raise Forbidden(AUTH_RULE_FAILED)
    try:
        mfa.check(runtime, compiled, record, method, _param(info, "mfaId"), info)
    except mfa.MfaRequired as required:
        return json_response({"mfaId": required.mfa_id}, status=401)
    if method:
        request = current.request
        trusted = runtime.app_settings.get().get("trustedProxy") or {}
        ip = real_ip(request, trusted.get("headers") or (), bool(trusted.get("useLeftmostIP")))
        origins.remember(runtime, compiled, record, ip, request.headers.get("user-agent") or "")
    viewer = RequestInfo(auth=AuthState(compiled, record), query=info.query)
    wire = runtime.records.present_record(compiled, record, viewer, _param(info, "expand"), "")
    body: dict[str, Any] = {"record": wire, "token": token or new_auth_token(compiled, record)}
    if meta is not None:
        body["meta"] = meta
    # As in PocketBase, ``fields`` picks from the whole answer: ``token``, ``record.email``, ``meta``.
    projection = parse_fields(_param(info, "fields"))
    return json_response(project(body, projection) if projection else body, sort_keys=True)


def _param(info: RequestInfo, key: str) -> str:
    """A query parameter, else a body value (``mfaId`` may come either way)."""
    value = info.query.get(key) or info.body.get(key) or ""
    return str(value[0] if isinstance(value, list) and value else value or "")


def mount(api: Any, runtime: Runtime) -> None:
    max_body = runtime.settings.max_body_size

    @api.route("/collections/<str:collection>/auth-methods", name="auth_methods", methods=["get"])
    async def auth_methods(collection: str) -> Any:
        compiled = auth_collection(runtime, collection)
        return json_response(_methods(runtime, compiled))

    @api.route(
        "/collections/<str:collection>/auth-with-password", name="auth_with_password", methods=["post"]
    )
    async def auth_with_password(collection: str) -> Any:
        compiled = auth_collection(runtime, collection)
        options = compiled.collection.options.get("passwordAuth") or {}
        if not options.get("enabled", True):
            raise Forbidden("The collection is not configured to allow password authentication.")
        body = await read_body(max_body)
        info = await request_info(runtime, body, context="password")
        form = Form(body.data)
        identity = form.text("identity")
        password = form.text("password", max_length=256)
        fields = list(options.get("identityFields") or ["email"])
        requested = form.text("identityField", required=False)
        if requested and requested not in fields:
            form.fail("identityField", "validation_in_invalid", "Must be a valid value.")
        form.check()
        record = _find_by_identity(runtime, compiled, [requested] if requested else fields, identity)
        # an unknown identity is checked against a dummy hash: the same time (AUTH-6)
        stored = str(record.get("password") or "") if record else dummy_hash()
        if not verify_password(password, stored) or record is None:
            raise BadRequest(FAILED)
        if needs_rehash(stored):
            _store_new_hash(runtime, compiled, record, password)
        return auth_response(runtime, compiled, record, info, method="password")

    @api.route("/collections/<str:collection>/auth-refresh", name="auth_refresh", methods=["post"])
    async def auth_refresh(collection: str) -> Any:
        info = await request_info(runtime)  # a refresh reads no body
        compiled = own_collection_auth(runtime, collection, info)
        assert info.auth is not None
        claims = info.auth.claims
        token = token_from_header(current.request.headers.get("authorization"))
        if claims.get("refreshable"):
            started = auth_time(compiled, claims)
            if started + max_lifetime(compiled) <= int(time.time()):
                raise Unauthorized(NEEDS_RECORD_TOKEN)  # past the absolute lifetime: sign in again
            token = new_auth_token(compiled, info.auth.record, auth_time=started)
        return auth_response(runtime, compiled, info.auth.record, info, token=token)

    @api.route(
        "/collections/<str:collection>/impersonate/<str:record_id>", name="impersonate", methods=["post"]
    )
    async def impersonate(collection: str, record_id: str) -> Any:
        body = await read_body(max_body)
        info = await request_info(runtime, body)
        if info.auth is None:
            raise Unauthorized("The request requires valid superuser authorization token.")
        if not info.is_superuser:
            raise Forbidden("The authorized record is not allowed to perform this action.")
        compiled = auth_collection(runtime, collection)
        duration = body.data.get("duration", 0)
        if isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 0:
            raise BadRequest(
                "An error occurred while validating the submitted data.",
                {
                    "duration": field_error(
                        "validation_min_greater_equal_than_required", "Must be no less than 0."
                    )
                },
            )
        record = load_record(runtime.db, compiled, record_id)
        if record is None:
            raise NotFound()
        token = new_auth_token(compiled, record, refreshable=False, duration=int(duration))
        return auth_response(runtime, compiled, record, info, token=token)


def _methods(runtime: Runtime, compiled: Any) -> dict[str, Any]:
    """PocketBase's auth-methods answer, legacy fields included."""
    options = compiled.collection.options
    password = options.get("passwordAuth") or {}
    otp = options.get("otp") or {}
    mfa_options = options.get("mfa") or {}
    oauth2 = options.get("oauth2") or {}
    password_on = bool(password.get("enabled", True))
    identity_fields = list(password.get("identityFields") or []) if password_on else []
    providers: list[dict[str, Any]] = []
    if oauth2.get("enabled"):
        from ..auth.oauth2 import provider_auth_infos

        providers = provider_auth_infos(compiled, runtime.app_settings.get())
    return {
        "password": {"identityFields": identity_fields, "enabled": password_on},
        "oauth2": {"providers": providers, "enabled": bool(oauth2.get("enabled"))},
        "mfa": {
            "enabled": bool(mfa_options.get("enabled")),
            "duration": int(mfa_options.get("duration") or 0) if mfa_options.get("enabled") else 0,
        },
        "otp": {
            "enabled": bool(otp.get("enabled")),
            "duration": int(otp.get("duration") or 0) if otp.get("enabled") else 0,
        },
        "authProviders": [{**p, "logo": ""} for p in providers] if oauth2.get("enabled") else [],
        "usernamePassword": password_on and "username" in identity_fields,
        "emailPassword": password_on and "email" in identity_fields,
    }


def _find_by_identity(
    runtime: Runtime, compiled: Any, fields: list[str], identity: str
) -> dict[str, Any] | None:
    # Email first, and only for values shaped like one (PocketBase's order; saves a query).
    ordered = sorted(fields, key=lambda name: name != "email")
    for name in ordered:
        if name == "email" and not is_email(identity):
            continue
        record = find_by_field(runtime.db, compiled, name, identity)
        if record is not None:
            return record
    return None


def _store_new_hash(runtime: Runtime, compiled: Any, record: dict[str, Any], password: str) -> None:
    """Replace an older or foreign hash (PocketBase bcrypt, Emmett pbkdf2) with argon2id. The
    password did not change, so ``tokenKey`` stays and no session is revoked."""
    new_hash = hash_password(password)
    runtime.records.update_columns(compiled, record["id"], {"password": new_hash}, SUPERUSER_SYSTEM)
    record["password"] = new_hash


__all__ = ["auth_collection", "auth_response", "mount"]
