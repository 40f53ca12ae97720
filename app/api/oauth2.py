"""OAuth2 routes: ``POST /api/collections/{c}/auth-with-oauth2`` and the superuser list
``GET /api/collections/meta/oauth2-providers``.

Not here yet: ``/api/oauth2-redirect``, PocketBase's popup callback that hands the code to the
waiting SDK over realtime (``authWithOAuth2({provider})``); it needs the realtime layer. Until then
clients use ``authWithOAuth2Code`` with a redirect page of their own (docs/oauth2.md).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from emmett import current

from ..auth.oauth2.providers import UnknownProvider, provider_list, resolve_provider
from ..auth.oauth2.user import AuthUser
from ..core.errors import BadRequest, Forbidden, field_error
from ..runtime import Runtime
from .auth import auth_collection, auth_response
from .guards import require_superuser
from .request import read_body, request_info
from .responses import json_response

log = logging.getLogger("emmettbase.oauth2")

NOT_ENABLED = "The collection is not configured to allow OAuth2 authentication."
INVALID_DATA = "An error occurred while loading the submitted data."
FAILED_PROVIDER = "Missing or invalid provider config."
REQUIRED = field_error("validation_required", "Cannot be blank.")

# The API pipe runs a handler a second time after a schema reload. An authorization code works
# once, so the second run must reuse the user the first run fetched: kept with the request object
# itself (compared by identity) and the exact submitted values, so it can never serve another request.
_FETCHED: ContextVar[tuple[Any, tuple[str, ...], AuthUser] | None] = ContextVar(
    "emmettbase_oauth2_user", default=None
)


@dataclass
class OAuth2Form:
    provider: str
    code: str
    code_verifier: str
    redirect_url: str
    create_data: dict[str, Any]


def parse_form(data: dict[str, Any], oauth2: dict[str, Any]) -> tuple[OAuth2Form, dict[str, Any]]:
    """The submitted body and the provider config it names; a 400 with field errors otherwise."""
    create_data = data.get("createData")
    if create_data is None:
        create_data = {}
    values = {k: data.get(k) for k in ("provider", "code", "codeVerifier", "redirectURL", "redirectUrl")}
    if not isinstance(create_data, dict) or any(
        v is not None and not isinstance(v, str) for v in values.values()
    ):
        raise BadRequest(INVALID_DATA)
    provider = values["provider"] or ""
    errors: dict[str, Any] = {}
    config = next(
        (p for p in oauth2.get("providers") or [] if isinstance(p, dict) and p.get("name") == provider), None
    )
    if not provider:
        errors["provider"] = REQUIRED
    elif len(provider) > 100 or config is None:
        errors["provider"] = field_error(
            "validation_invalid_provider",
            f"Provider with name {provider[:100]} is missing or is not enabled.",
            name=provider[:100],
        )
    if not values["code"]:
        errors["code"] = REQUIRED
    if errors:
        raise BadRequest(INVALID_DATA, errors)
    form = OAuth2Form(
        provider=provider,
        code=values["code"] or "",
        code_verifier=values["codeVerifier"] or "",
        # ``redirectUrl`` is PocketBase's pre-0.23 spelling, still accepted
        redirect_url=values["redirectURL"] or values["redirectUrl"] or "",
        create_data=create_data,
    )
    return form, config or {}


def mount(api: Any, runtime: Runtime) -> None:
    max_body = runtime.settings.max_body_size

    @api.route("/collections/meta/oauth2-providers", name="oauth2_providers", methods=["get"])
    async def oauth2_providers() -> Any:
        require_superuser(await request_info(runtime))
        return json_response(provider_list())

    @api.route("/collections/<str:collection>/auth-with-oauth2", name="auth_with_oauth2", methods=["post"])
    async def auth_with_oauth2(collection: str) -> Any:
        from ..auth.oauth2.client import ProviderError, fetch_auth_user
        from ..auth.oauth2.signin import sign_in

        compiled = auth_collection(runtime, collection)
        oauth2 = compiled.collection.options.get("oauth2")
        if not isinstance(oauth2, dict) or oauth2.get("enabled") is not True:
            raise Forbidden(NOT_ENABLED)
        body = await read_body(max_body)
        form, config = parse_form(body.data, oauth2)
        info = await request_info(runtime, body, context="oauth2")
        try:
            settings = resolve_provider(config)
        except UnknownProvider:
            raise BadRequest(FAILED_PROVIDER) from None
        submitted = (form.provider, form.code, form.code_verifier, form.redirect_url)
        cached = _FETCHED.get()
        if cached is not None and cached[0] is current.request and cached[1] == submitted:
            user = cached[2]
        else:
            try:
                user = await fetch_auth_user(settings, form.code, form.code_verifier, form.redirect_url)
            except ProviderError as exc:
                # the provider's own words stay in the log (and in --dev answers), never in a 400
                log.warning("OAuth2 %s sign-in failed: %s (%s)", form.provider, exc.message, exc.detail)
                raise BadRequest(exc.message, detail=exc.detail) from None
            _FETCHED.set((current.request, submitted, user))
        result = sign_in(runtime, compiled, form.provider, user, form.create_data, info)
        meta = user.meta(result.is_new)
        return auth_response(runtime, compiled, result.record, info, method="oauth2", meta=meta)
