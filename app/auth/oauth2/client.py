"""The network side of an OAuth2 sign-in: exchange the code, read the user, map it to an ``AuthUser``.

The code exchange is Authlib's (``AsyncOAuth2Client.fetch_token`` over httpx, with ``code_verifier``
for PKCE); userinfo is a plain bearer GET on the same client. Every failure of the provider (refused
code, wrong verifier, timeout, connection refused, a non-JSON answer) becomes ``ProviderError``: the
API turns it into a 400 and shows the provider's words only in ``--dev`` mode. Authlib and httpx are
imported on first use only.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from typing import Any

from .providers import ProviderData, ProviderSettings
from .user import AuthUser

log = logging.getLogger("emmettbase.oauth2")

TOKEN_FAILED = "Failed to fetch OAuth2 token."  # noqa: S105 - a message
USER_FAILED = "Failed to fetch OAuth2 user."
#: Per request to the provider; API Gateway gives the whole request 30 s.
TIMEOUT_SECONDS = 10.0
#: Userinfo and JWKS documents are a few KB; anything far larger is not one.
MAX_USERINFO_BYTES = 1 << 20


class ProviderError(Exception):
    """The provider refused or failed. ``message`` is safe for clients, ``detail`` is not."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail


def _client_class() -> Any:
    # Authlib warns that it prefers "httpx2" whenever it falls back to httpx, which is the client
    # this project uses; the warning is about Authlib's packaging, not about our use of it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    return AsyncOAuth2Client


async def fetch_auth_user(
    settings: ProviderSettings, code: str, code_verifier: str, redirect_url: str
) -> AuthUser:
    """Exchange ``code`` at the provider and return who signed in (raises ``ProviderError``)."""
    client_class = _client_class()
    async with client_class(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        token_endpoint_auth_method=settings.token_auth_method,
        redirect_uri=redirect_url or None,
        timeout=TIMEOUT_SECONDS,
        follow_redirects=False,
    ) as client:
        try:
            token = await client.fetch_token(
                settings.token_url,
                grant_type="authorization_code",
                code=code,
                # sent only when the provider takes part in PKCE, as PocketBase does
                code_verifier=code_verifier if settings.pkce and code_verifier else None,
            )
        except Exception as exc:  # any failure of the provider is the client's 400, never our 500
            raise ProviderError(TOKEN_FAILED, _describe(exc)) from None
        token = dict(token)
        if not isinstance(token.get("access_token"), str) or not token["access_token"]:
            raise ProviderError(TOKEN_FAILED, "the token response has no access_token")
        try:
            user = await _read_user(client, settings, token)
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(USER_FAILED, _describe(exc)) from None
    if not user.id:
        raise ProviderError(USER_FAILED, "the provider returned no user id")
    return user


async def _read_user(client: Any, settings: ProviderSettings, token: dict[str, Any]) -> AuthUser:
    spec = settings.spec
    if settings.userinfo_url:
        raw = await _get_json(client, settings.userinfo_url, token["access_token"])
        if not isinstance(raw, dict):
            raise ProviderError(USER_FAILED, "the userinfo response is not a JSON object")
    elif spec.id_token_fallback:
        from .id_token import verified_id_token_claims

        raw = await verified_id_token_claims(client, settings, token)
    else:
        raise ProviderError(USER_FAILED, "no userinfo URL is configured")
    emails: list[Any] | None = None
    if spec.fetch_emails:
        emails = await _github_emails(client, settings, token["access_token"])
    return spec.to_user(ProviderData(raw=raw, token=token, settings=settings, emails=emails))


async def _github_emails(client: Any, settings: ProviderSettings, access_token: str) -> list[Any] | None:
    """GitHub's ``/user/emails``. Without the ``user:email`` scope it answers 401/403/404: the user
    then simply has no email, as in PocketBase."""
    response = await _get(client, settings.userinfo_url.rstrip("/") + "/emails", access_token)
    if response.status_code in (401, 403, 404):
        return None
    data = _json_body(response)
    return data if isinstance(data, list) else None


async def _get_json(client: Any, url: str, access_token: str) -> Any:
    return _json_body(await _get(client, url, access_token))


@dataclass
class Fetched:
    url: str
    status_code: int
    content: bytes


async def _get(client: Any, url: str, access_token: str | None = None) -> Fetched:
    """GET ``url`` with the bearer token, reading at most ``MAX_USERINFO_BYTES`` of the answer.

    ``withhold_token``: the header is set here, because Authlib's automatic placement refuses
    tokens whose ``token_type`` is missing or unusual (some providers send none)."""
    headers = {"Accept": "application/json"}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    async with client.stream("GET", url, withhold_token=True, headers=headers) as response:
        content = b""
        async for chunk in response.aiter_bytes():
            content += chunk
            if len(content) > MAX_USERINFO_BYTES:
                raise ProviderError(USER_FAILED, f"{url} answered with too large a document")
        return Fetched(url, response.status_code, content)


def _json_body(response: Fetched) -> Any:
    if response.status_code >= 400:
        raise ProviderError(USER_FAILED, f"{response.url} answered {response.status_code}")
    try:
        return json.loads(response.content)
    except ValueError:
        raise ProviderError(USER_FAILED, f"{response.url} did not answer with JSON") from None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
