"""The OAuth2 provider registry: names, display names, default scopes and endpoints, and how each
provider's userinfo JSON maps to an ``AuthUser``. Pure data and functions, no I/O.

A provider config from an auth collection (PocketBase's ``OAuth2ProviderConfig``: ``name``,
``clientId``, ``clientSecret``, ``authURL``, ``tokenURL``, ``userInfoURL``, ``displayName``,
``pkce``, ``extra``) is resolved against its ``ProviderSpec`` into ``ProviderSettings``; every
endpoint can be overridden (a Microsoft Entra tenant, a self-hosted GitLab, a test double).

Emails: a provider's email lands in ``AuthUser.email`` only when the provider vouches for it
(Google/OIDC ``email_verified``, GitHub's verified primary address, GitLab ``confirmed_at``), because
that email may link the identity to an existing account (AUTH-9).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ...core.collections.oauth2_options import PROVIDER_NAMES
from .user import AuthUser, text, token_expiry, truthy

log = logging.getLogger("emmettbase.oauth2")


class UnknownProvider(LookupError):
    """No provider is registered under that name."""


@dataclass(frozen=True)
class ProviderSettings:
    """A provider ready to use: its spec with a collection's config applied."""

    spec: ProviderSpec
    name: str
    display_name: str
    client_id: str
    client_secret: str
    auth_url: str
    token_url: str
    userinfo_url: str
    pkce: bool
    scopes: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def token_auth_method(self) -> str:
        """How the client authenticates at the token endpoint: HTTP Basic by default (RFC 6749
        2.3.1); ``extra.tokenAuthMethod = "client_secret_post"`` for servers that only read the body."""
        method = self.extra.get("tokenAuthMethod")
        return method if method in ("client_secret_basic", "client_secret_post") else "client_secret_basic"


@dataclass
class ProviderData:
    """What the client fetched from a provider, handed to the provider's mapper."""

    raw: dict[str, Any]
    token: dict[str, Any]
    settings: ProviderSettings
    #: GitHub's ``/user/emails`` list (None for other providers, or when not readable)
    emails: list[Any] | None = None


Mapper = Callable[[ProviderData], AuthUser]


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    display_name: str
    scopes: tuple[str, ...]
    auth_url: str
    token_url: str
    userinfo_url: str
    to_user: Mapper
    #: sorting position in the providers list (PocketBase's order, so the dashboard lists alike)
    order: int = 99
    pkce: bool = True
    #: GitHub: read the verified primary address from ``<userInfoURL>/emails``
    fetch_emails: bool = False
    #: generic OIDC: without a userinfo URL the user comes from the ``id_token`` claims
    id_token_fallback: bool = False


def _user(data: ProviderData, **values: Any) -> AuthUser:
    token = data.token
    return AuthUser(
        access_token=text(token.get("access_token")),
        refresh_token=text(token.get("refresh_token")),
        expiry=token_expiry(token),
        raw_user=data.raw,
        **values,
    )


# -- mappers ----------------------------------------------------------------------------------


def google_user(data: ProviderData) -> AuthUser:
    raw = data.raw
    return _user(
        data,
        id=text(raw.get("sub")),
        name=text(raw.get("name")),
        avatar_url=text(raw.get("picture")),
        email=text(raw.get("email")) if truthy(raw.get("email_verified")) else "",
    )


def github_user(data: ProviderData) -> AuthUser:
    raw = data.raw
    # Like PocketBase, the address comes from /user/emails even when /user has one: /user shows the
    # public profile address, and GitHub Enterprise setups can leave addresses unverified.
    return _user(
        data,
        id=text(raw.get("id")),
        name=text(raw.get("name")),
        username=text(raw.get("login")),
        avatar_url=text(raw.get("avatar_url")),
        email=github_primary_email(data.emails),
    )


def github_primary_email(emails: list[Any] | None) -> str:
    for entry in emails or []:
        if isinstance(entry, dict) and entry.get("primary") is True and entry.get("verified") is True:
            return text(entry.get("email"))
    return ""


def gitlab_user(data: ProviderData) -> AuthUser:
    raw = data.raw
    return _user(
        data,
        id=text(raw.get("id")),
        name=text(raw.get("name")),
        username=text(raw.get("username")),
        avatar_url=text(raw.get("avatar_url")),
        email=text(raw.get("email")) if _is_timestamp(raw.get("confirmed_at")) else "",
    )


def _is_timestamp(value: Any) -> bool:
    """GitLab sets ``confirmed_at`` (RFC 3339) once the address is confirmed."""
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).year > 1
    except ValueError:
        return False


MULTI_TENANT = {"common", "organizations", "consumers"}


def microsoft_user(data: ProviderData) -> AuthUser:
    raw = data.raw
    return _user(
        data,
        id=text(raw.get("id")),
        name=text(raw.get("displayName")),
        email=microsoft_email(data),
    )


def microsoft_email(data: ProviderData) -> str:
    """Which Entra address to trust.

    ``extra.idTokenEmailClaim`` picks verified claims of the ``id_token`` as PocketBase does
    (``any_verified``, ``verified_primary_email``, ``email_and_xms_edov``, ``email``). Without it
    PocketBase trusts Graph's ``mail``; we do that only for a single-tenant app (a tenant in the
    auth URL), because in a multi-tenant app any tenant's admin can set ``mail`` to someone else's
    address and so take over that person's account here ("nOAuth").
    """
    mode = data.settings.extra.get("idTokenEmailClaim")
    if mode:
        claims = id_token_claims(data.token)
        if mode in ("any_verified", "verified_primary_email"):
            primary = text(claims.get("verified_primary_email"))
            if primary or mode == "verified_primary_email":
                return primary
        if mode in ("any_verified", "email_and_xms_edov"):
            return text(claims.get("email")) if truthy(claims.get("xms_edov")) else ""
        if mode == "email":
            return text(claims.get("email"))
        return ""
    path = urlsplit(data.settings.auth_url).path.strip("/").split("/")
    if not path or path[0].lower() in MULTI_TENANT:
        return ""
    return text(data.raw.get("mail"))


def id_token_claims(token: Mapping[str, Any]) -> dict[str, Any]:
    """The claims of the token response's ``id_token``, unverified: it came straight from the token
    endpoint over TLS (OIDC Core 3.1.3.7 allows skipping the signature check then)."""
    raw = token.get("id_token")
    if not isinstance(raw, str) or not raw:
        return {}
    import jwt

    try:
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return dict(claims) if isinstance(claims, dict) else {}


def oidc_user(data: ProviderData) -> AuthUser:
    raw = data.raw
    return _user(
        data,
        id=text(raw.get("sub")),
        name=text(raw.get("name")),
        username=text(raw.get("preferred_username")),
        avatar_url=text(raw.get("picture")),
        email=text(raw.get("email")) if truthy(raw.get("email_verified")) else "",
    )


# -- registry ---------------------------------------------------------------------------------

_MICROSOFT = "https://login.microsoftonline.com/common/oauth2/v2.0"
_OIDC_SCOPES = ("openid", "email", "profile")

PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec(
            name="google",
            display_name="Google",
            scopes=(
                "https://www.googleapis.com/auth/userinfo.profile",
                "https://www.googleapis.com/auth/userinfo.email",
            ),
            auth_url="https://accounts.google.com/o/oauth2/v2/auth",
            token_url="https://oauth2.googleapis.com/token",  # noqa: S106 - an endpoint
            userinfo_url="https://www.googleapis.com/oauth2/v3/userinfo",
            to_user=google_user,
            order=2,
        ),
        ProviderSpec(
            name="microsoft",
            display_name="Microsoft",
            scopes=("User.Read",),
            auth_url=f"{_MICROSOFT}/authorize",
            token_url=f"{_MICROSOFT}/token",
            userinfo_url="https://graph.microsoft.com/v1.0/me",
            to_user=microsoft_user,
            order=3,
        ),
        ProviderSpec(
            name="github",
            display_name="GitHub",
            scopes=("read:user", "user:email"),
            auth_url="https://github.com/login/oauth/authorize",
            token_url="https://github.com/login/oauth/access_token",  # noqa: S106 - an endpoint
            userinfo_url="https://api.github.com/user",
            to_user=github_user,
            order=7,
            fetch_emails=True,
        ),
        ProviderSpec(
            name="gitlab",
            display_name="GitLab",
            scopes=("read_user",),
            auth_url="https://gitlab.com/oauth/authorize",
            token_url="https://gitlab.com/oauth/token",  # noqa: S106 - an endpoint
            userinfo_url="https://gitlab.com/api/v4/user",
            to_user=gitlab_user,
            order=8,
        ),
        # Three generic OpenID Connect slots, as in PocketBase, so a collection can use up to three
        # identity providers of its own; their endpoints come from the config only (the names are
        # the ones the collection options mark as needing endpoints).
        *(
            ProviderSpec(
                name=name,
                display_name="OIDC",
                scopes=_OIDC_SCOPES,
                auth_url="",
                token_url="",
                userinfo_url="",
                to_user=oidc_user,
                id_token_fallback=True,
            )
            for name, needs_endpoints in PROVIDER_NAMES.items()
            if needs_endpoints
        ),
    )
}


def provider_spec(name: str) -> ProviderSpec:
    spec = PROVIDERS.get(name)
    if spec is None:
        raise UnknownProvider(name)
    return spec


def provider_list() -> list[dict[str, Any]]:
    """``GET /api/collections/meta/oauth2-providers``: every provider this server knows. ``logo`` is
    empty: PocketBase ships vendor SVGs we do not copy; the dashboard falls back to the name."""
    specs = sorted(PROVIDERS.values(), key=lambda s: (s.order, s.name))
    return [{"name": s.name, "displayName": s.display_name, "logo": ""} for s in specs]


def resolve_provider(config: Mapping[str, Any]) -> ProviderSettings:
    """A provider config (one item of ``oauth2.providers``) applied on top of its spec."""
    spec = provider_spec(str(config.get("name") or ""))
    raw_extra = config.get("extra")
    extra: dict[str, Any] = raw_extra if isinstance(raw_extra, dict) else {}
    scopes = spec.scopes
    if spec.name == "microsoft" and extra.get("idTokenEmailClaim") and "openid" not in scopes:
        scopes = (*scopes, "openid")  # the id_token is only issued for the openid scope
    pkce = config.get("pkce")
    return ProviderSettings(
        spec=spec,
        name=spec.name,
        display_name=_text_or(config.get("displayName"), spec.display_name),
        client_id=_text_or(config.get("clientId"), ""),
        client_secret=_text_or(config.get("clientSecret"), ""),
        auth_url=_text_or(config.get("authURL"), spec.auth_url),
        token_url=_text_or(config.get("tokenURL"), spec.token_url),
        userinfo_url=_text_or(config.get("userInfoURL"), spec.userinfo_url),
        pkce=pkce if isinstance(pkce, bool) else spec.pkce,
        scopes=scopes,
        extra=dict(extra),
    )


def _text_or(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default
