"""OAuth2 providers without I/O: userinfo mapping per provider (sample payloads shaped like the
vendors' documented responses), endpoint overrides, config merge/validation, auth-methods entries."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from app.auth.oauth2 import provider_auth_infos
from app.auth.oauth2.providers import (
    PROVIDERS,
    ProviderData,
    UnknownProvider,
    provider_list,
    resolve_provider,
)
from app.core.collections.oauth2_options import (
    PROVIDER_NAMES,
    merge_oauth2_options,
    merge_providers,
    oauth2_errors,
)
from app.core.collections.system import users_collection

TOKEN = {"access_token": "at-1", "refresh_token": "rt-1", "token_type": "Bearer", "expires_at": 1796104849}


def map_user(name: str, raw: dict[str, Any], token: dict[str, Any] | None = None, **config: Any) -> Any:
    settings = resolve_provider({"name": name, "clientId": "cid", "clientSecret": "sec", **config})
    data = ProviderData(raw=raw, token=token or TOKEN, settings=settings, emails=config.get("emails"))
    return settings.spec.to_user(data)


def id_token(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, "k" * 32, algorithm="HS256")


# -- mapping -------------------------------------------------------------------------------------


def test_google_mapping_keeps_only_a_verified_email():
    raw = {
        "sub": "110169484474386276334",
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "picture": "https://lh3.googleusercontent.com/a/pic",
        "email": "ada@gmail.com",
        "email_verified": True,
        "locale": "en",
    }
    user = map_user("google", raw)
    assert (user.id, user.name, user.username, user.email) == (
        "110169484474386276334",
        "Ada Lovelace",
        "",
        "ada@gmail.com",
    )
    assert user.avatar_url == raw["picture"] and user.raw_user == raw
    assert (user.access_token, user.refresh_token, user.expiry) == (
        "at-1",
        "rt-1",
        "2026-12-01 06:00:49.000Z",
    )
    assert map_user("google", {**raw, "email_verified": False}).email == ""
    assert map_user("google", {k: v for k, v in raw.items() if k != "email_verified"}).email == ""


def test_github_mapping_uses_the_verified_primary_address_only():
    raw = {
        "login": "octocat",
        "id": 583231,
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
        "name": "The Octocat",
        "email": "public-but-unchecked@example.com",
    }
    emails = [
        {"email": "work@example.com", "primary": False, "verified": True, "visibility": None},
        {"email": "octo@example.com", "primary": True, "verified": True, "visibility": "private"},
    ]
    user = map_user("github", raw, emails=emails)
    assert (user.id, user.username, user.name, user.email) == (
        "583231",
        "octocat",
        "The Octocat",
        "octo@example.com",
    )
    assert user.avatar_url == raw["avatar_url"]
    unverified = [{"email": "octo@example.com", "primary": True, "verified": False}]
    assert map_user("github", raw, emails=unverified).email == ""
    assert map_user("github", raw, emails=None).email == "", "the /user email alone is never trusted"


def test_gitlab_mapping_needs_a_confirmed_address():
    raw = {
        "id": 1,
        "username": "john_smith",
        "name": "John Smith",
        "avatar_url": "https://gitlab.com/uploads/user/avatar/1/cd8.jpeg",
        "email": "john@example.com",
        "confirmed_at": "2012-05-23T09:05:22Z",
        "state": "active",
    }
    user = map_user("gitlab", raw)
    assert (user.id, user.username, user.name, user.email) == (
        "1",
        "john_smith",
        "John Smith",
        "john@example.com",
    )
    assert map_user("gitlab", {**raw, "confirmed_at": None}).email == ""
    assert map_user("gitlab", {**raw, "confirmed_at": "garbage"}).email == ""


def test_microsoft_mapping_trusts_mail_only_in_a_single_tenant_app():
    raw = {
        "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
        "displayName": "Adele Vance",
        "mail": "AdeleV@contoso.com",
        "userPrincipalName": "AdeleV@contoso.com",
    }
    multi = map_user("microsoft", raw)
    assert (multi.id, multi.name, multi.email) == (raw["id"], "Adele Vance", "")
    tenant = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0"
    single = map_user("microsoft", raw, authURL=f"{tenant}/authorize", tokenURL=f"{tenant}/token")
    assert single.email == "AdeleV@contoso.com"
    assert (
        resolve_provider({"name": "microsoft", "tokenURL": f"{tenant}/token"}).token_url == f"{tenant}/token"
    )


def test_microsoft_id_token_email_claims():
    now = int(time.time())
    base = {"sub": "s", "iat": now, "exp": now + 600}
    both = {
        "id_token": id_token(
            {**base, "verified_primary_email": "p@x.com", "email": "e@x.com", "xms_edov": True}
        )
    }
    only_edov = {"id_token": id_token({**base, "email": "e@x.com", "xms_edov": "1"})}
    unverified = {"id_token": id_token({**base, "email": "e@x.com", "xms_edov": False})}
    raw = {"id": "1", "displayName": "A", "mail": "mail@x.com"}

    def email(token: dict[str, Any], mode: str) -> str:
        return map_user("microsoft", raw, {**TOKEN, **token}, extra={"idTokenEmailClaim": mode}).email

    assert email(both, "any_verified") == "p@x.com"
    assert email(only_edov, "any_verified") == "e@x.com"
    assert email(unverified, "any_verified") == ""
    assert email(only_edov, "verified_primary_email") == ""
    assert email(both, "email_and_xms_edov") == "e@x.com"
    assert email(unverified, "email") == "e@x.com"
    assert email({"id_token": "not-a-jwt"}, "any_verified") == ""
    scopes = resolve_provider({"name": "microsoft", "extra": {"idTokenEmailClaim": "any_verified"}}).scopes
    assert scopes == ("User.Read", "openid")


def test_oidc_mapping_and_email_verified_spellings():
    raw = {
        "sub": "248289761001",
        "name": "Jane Doe",
        "preferred_username": "j.doe",
        "picture": "http://example.com/janedoe/me.jpg",
        "email": "janedoe@example.com",
    }
    for flag, expected in (
        (True, "janedoe@example.com"),
        ("true", "janedoe@example.com"),
        (1, "janedoe@example.com"),
    ):
        assert map_user("oidc", {**raw, "email_verified": flag}).email == expected
    for flag in (False, "false", 0, None, "yes please"):
        assert map_user("oidc3", {**raw, "email_verified": flag}).email == ""
    user = map_user("oidc2", {**raw, "email_verified": True}, {"access_token": "a"})
    assert (user.id, user.username, user.avatar_url) == ("248289761001", "j.doe", raw["picture"])
    assert (user.refresh_token, user.expiry) == ("", "")


def test_meta_has_the_keys_the_sdk_reads():
    user = map_user("oidc", {"sub": "1", "email": "a@b.c", "email_verified": True})
    meta = user.meta(is_new=True)
    assert set(meta) == {
        "id",
        "name",
        "username",
        "email",
        "avatarURL",
        "avatarUrl",
        "accessToken",
        "refreshToken",
        "expiry",
        "rawUser",
        "isNew",
    }
    assert meta["isNew"] is True and meta["rawUser"] == {"sub": "1", "email": "a@b.c", "email_verified": True}


# -- registry and overrides ------------------------------------------------------------------------


def test_endpoints_display_name_and_pkce_are_overridable():
    default = resolve_provider({"name": "gitlab"})
    assert (default.auth_url, default.token_url, default.pkce) == (
        "https://gitlab.com/oauth/authorize",
        "https://gitlab.com/oauth/token",
        True,
    )
    custom = resolve_provider(
        {
            "name": "gitlab",
            "authURL": "https://git.corp/oauth/authorize",
            "tokenURL": "https://git.corp/oauth/token",
            "userInfoURL": "https://git.corp/api/v4/user",
            "displayName": "Corp Git",
            "pkce": False,
        }
    )
    assert (custom.auth_url, custom.userinfo_url, custom.display_name, custom.pkce) == (
        "https://git.corp/oauth/authorize",
        "https://git.corp/api/v4/user",
        "Corp Git",
        False,
    )
    assert custom.token_auth_method == "client_secret_basic"
    post = resolve_provider({"name": "oidc", "extra": {"tokenAuthMethod": "client_secret_post"}})
    assert post.token_auth_method == "client_secret_post"
    with pytest.raises(UnknownProvider):
        resolve_provider({"name": "myspace"})
    assert {p["name"] for p in provider_list()} == set(PROVIDERS)


# -- collection config ----------------------------------------------------------------------------


def test_merge_keeps_write_only_secrets_by_provider_name():
    stored = [
        {"name": "google", "clientId": "g", "clientSecret": "g-secret", "displayName": "G"},
        {"name": "github", "clientId": "h", "clientSecret": "h-secret"},
    ]
    merged = merge_providers(
        stored,
        [
            {"name": "github", "clientId": "h2"},
            {"name": "google", "clientId": "g", "clientSecret": ""},
            {"name": "gitlab", "clientId": "l"},
        ],
    )
    assert merged == [
        {"name": "github", "clientId": "h2", "clientSecret": "h-secret"},
        {"name": "google", "clientId": "g", "clientSecret": "g-secret", "displayName": "G"},
        {"name": "gitlab", "clientId": "l"},
    ]
    assert merge_providers(stored, [{"name": "google", "clientSecret": "new"}])[0]["clientSecret"] == "new"
    options = merge_oauth2_options(
        {"enabled": False, "mappedFields": {"id": "", "name": "name"}, "providers": stored},
        {"enabled": True, "mappedFields": {"username": "username"}},
    )
    assert options["enabled"] is True and options["providers"] == stored
    assert options["mappedFields"] == {"id": "", "name": "name", "username": "username"}


def test_collection_options_accept_exactly_the_providers_sign_in_implements():
    """The collection options (core) name the providers; the sign-in side (auth) implements them.
    A provider added on one side only would be accepted in a collection and then fail at sign-in,
    or be implemented and refused in every collection."""
    assert set(PROVIDER_NAMES) == set(PROVIDERS)
    for name, needs_endpoints in PROVIDER_NAMES.items():
        assert PROVIDERS[name].id_token_fallback is needs_endpoints
        assert (PROVIDERS[name].auth_url == "") is needs_endpoints


def test_validation_normalizes_and_drops_mappings_to_missing_fields():
    collection = users_collection()
    collection.options["oauth2"] = {
        "enabled": True,
        "mappedFields": {"name": "name", "avatarURL": "gone"},
        "providers": [{"name": "google", "clientId": "g", "clientSecret": "s", "unknownKey": 1}],
    }
    assert oauth2_errors(collection) is None
    oauth2 = collection.options["oauth2"]
    assert oauth2["mappedFields"] == {"id": "", "name": "name", "username": "", "avatarURL": ""}
    assert oauth2["providers"] == [
        {
            "pkce": None,
            "name": "google",
            "clientId": "g",
            "clientSecret": "s",
            "authURL": "",
            "tokenURL": "",
            "userInfoURL": "",
            "displayName": "",
            "extra": {},
        }
    ]
    collection.options["oauth2"]["providers"] = [
        {"name": "google", "clientId": 5, "clientSecret": "s", "pkce": "yes"}
    ]
    errors = oauth2_errors(collection)
    assert set(errors["providers"]["0"]) == {"clientId", "pkce"}
    collection.options["oauth2"] = "on"
    assert oauth2_errors(collection)["code"] == "validation_invalid_value"


# -- auth-methods entries -----------------------------------------------------------------------------


def test_provider_auth_infos():
    collection = users_collection()
    assert provider_auth_infos(collection, {}) == []
    collection.options["oauth2"] = {
        "enabled": True,
        "providers": [
            {
                "name": "oidc",
                "clientId": "c",
                "clientSecret": "s",
                "authURL": "https://id.example/auth?tenant=7",
            },
            {"name": "removed-provider", "clientId": "c", "clientSecret": "s"},
            {"name": "github", "clientId": "gh", "clientSecret": "s", "pkce": False},
        ],
    }
    oidc, github = provider_auth_infos(collection, None)
    query = parse_qs(urlsplit(oidc["authURL"]).query, keep_blank_values=True)
    assert oidc["authURL"].startswith("https://id.example/auth?tenant=7&")
    assert query["tenant"] == ["7"] and query["redirect_uri"] == [""] and query["state"] == [oidc["state"]]
    digest = hashlib.sha256(oidc["codeVerifier"].encode()).digest()
    assert oidc["codeChallenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge"] == [oidc["codeChallenge"]]
    assert (github["codeVerifier"], github["codeChallenge"], github["codeChallengeMethod"]) == ("", "", "")
    assert "code_challenge" not in github["authURL"]
    assert parse_qs(urlsplit(github["authURL"]).query)["scope"] == ["read:user user:email"]
    states = {provider_auth_infos(collection)[0]["state"] for _ in range(50)}
    assert len(states) == 50
