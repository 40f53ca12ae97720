"""The OAuth2 entries of ``GET /api/collections/{c}/auth-methods`` (``oauth2.providers``).

Each entry carries a fresh ``state`` and PKCE pair and a ready authorization URL that ends in an
empty ``redirect_uri=``: the client appends its own redirect URL (the JS SDK does
``provider.authURL + redirectURL``), keeps ``state`` and ``codeVerifier``, compares the state on
return and sends the verifier with the code. The server keeps nothing, so any instance (any
Lambda) can finish the sign-in.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from typing import Any

from ...tools.ids import random_string
from .providers import ProviderSettings, UnknownProvider, resolve_provider

log = logging.getLogger("emmettbase.oauth2")

_ALPHANUMERIC = string.ascii_letters + string.digits
#: 30 characters of [A-Za-z0-9] carry ~178 bits; 43 (the RFC 7636 minimum length) ~256 bits.
STATE_LENGTH = 30
VERIFIER_LENGTH = 43


def provider_auth_infos(
    compiled_collection: Any, app_settings: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The ``oauth2.providers`` list of auth-methods for an auth collection ([] when OAuth2 is off).

    ``compiled_collection`` is a ``CompiledCollection`` (a plain ``Collection`` works too);
    ``app_settings`` (the settings JSON) is accepted for future use (nothing in it changes these
    entries today). Providers whose config is unusable are skipped, as PocketBase does.
    """
    collection = getattr(compiled_collection, "collection", compiled_collection)
    oauth2 = collection.options.get("oauth2") if collection.is_auth else None
    if not isinstance(oauth2, dict) or oauth2.get("enabled") is not True:
        return []
    infos: list[dict[str, Any]] = []
    for config in oauth2.get("providers") or []:
        if not isinstance(config, dict):
            continue
        try:
            settings = resolve_provider(config)
        except UnknownProvider:
            log.debug("skipping unknown OAuth2 provider %r", config.get("name"))
            continue
        infos.append(auth_info(settings))
    return infos


def auth_info(settings: ProviderSettings) -> dict[str, Any]:
    from authlib.oauth2.client import OAuth2Client  # the URL builder only, no HTTP client

    state = random_string(STATE_LENGTH, _ALPHANUMERIC)
    verifier = challenge = method = ""
    builder = OAuth2Client(
        None,
        client_id=settings.client_id,
        scope=list(settings.scopes),
        code_challenge_method="S256" if settings.pkce else None,
    )
    if settings.pkce:
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        verifier = random_string(VERIFIER_LENGTH, _ALPHANUMERIC)
        challenge, method = create_s256_code_challenge(verifier), "S256"
    url, _ = builder.create_authorization_url(settings.auth_url, state=state, code_verifier=verifier or None)
    url += "&redirect_uri=" if "?" in url else "?redirect_uri="
    return {
        "name": settings.name,
        "displayName": settings.display_name,
        "logo": "",
        "state": state,
        "authURL": url,
        # PocketBase's pre-0.23 spelling, still sent for older clients
        "authUrl": url,
        "codeVerifier": verifier,
        "codeChallenge": challenge,
        "codeChallengeMethod": method,
    }
