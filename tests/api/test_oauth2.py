"""OAuth2 sign-in (``auth-with-oauth2``) against a fake provider on 127.0.0.1, through both doors.

The flow is the SDK's ``authWithOAuth2Code``: read ``auth-methods``, send the browser to
``authURL + redirectURL`` (here: an httpx GET to the fake, which redirects with a code), then post
``{provider, code, codeVerifier, redirectURL}``. Covers sign-up, sign-in, linking, AUTH-9
pre-hijacking, provider failures, config validation and secret redaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.fake_oauth2 import CLIENT_ID, CLIENT_SECRET, FakeOAuth2Provider, s256
from tests.support.mailbox import last_mail
from tests.support.scenario import create_user, superuser_headers, user_headers

REDIRECT = "https://app.example.com/oauth2-callback"
AUTH = "/api/collections/users/auth-with-oauth2"
TOKEN_FAILED = {"data": {}, "message": "Failed to fetch OAuth2 token.", "status": 400}
USER_FAILED = {"data": {}, "message": "Failed to fetch OAuth2 user.", "status": 400}
ALICE = {
    "sub": "alice-1",
    "name": "Alice Liddell",
    "preferred_username": "alice",
    "email": "alice@example.com",
    "email_verified": True,
    "picture": "https://img.example.com/alice.png",
}


@pytest.fixture
def fake() -> Iterator[FakeOAuth2Provider]:
    provider = FakeOAuth2Provider().start()
    yield provider
    provider.stop()


def oidc(fake: FakeOAuth2Provider, name: str = "oidc", **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        **fake.endpoints(),
        **overrides,
    }


def configure(api: Any, headers: dict[str, str], *providers: dict[str, Any], **oauth2: Any) -> Any:
    body = {"enabled": True, "mappedFields": {"name": "name"}, "providers": list(providers), **oauth2}
    response = api.patch("/api/collections/users", headers=headers, json={"oauth2": body})
    assert response.status_code == 200, response.text
    return response


def provider_info(api: Any, name: str = "oidc") -> dict[str, Any]:
    response = api.get("/api/collections/users/auth-methods")
    assert response.status_code == 200, response.text
    return next(p for p in response.json()["oauth2"]["providers"] if p["name"] == name)


def authorize(fake: FakeOAuth2Provider, info: dict[str, Any], profile: dict[str, Any], **login: Any) -> str:
    """The browser's part: the provider's consent page redirects back with a code and the state."""
    fake.login(profile, **login)
    response = httpx.get(info["authURL"] + REDIRECT)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [info["state"]]
    return query["code"][0]


def sign_in(
    api: Any,
    fake: FakeOAuth2Provider,
    profile: dict[str, Any],
    provider: str = "oidc",
    create_data: Any = None,
    headers: dict[str, str] | None = None,
    **login: Any,
) -> Any:
    info = provider_info(api, provider)
    code = authorize(fake, info, profile, **login)
    body: dict[str, Any] = {
        "provider": provider,
        "code": code,
        "codeVerifier": info["codeVerifier"],
        "redirectURL": REDIRECT,
    }
    if create_data is not None:
        body["createData"] = create_data
    return api.post(AUTH, json=body, headers=headers or {})


def links(api: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = api.get("/api/collections/_externalAuths/records?perPage=100", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def users(api: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = api.get("/api/collections/users/records?perPage=100", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def verify_user(api: Any, headers: dict[str, str], record_id: str) -> None:
    response = api.patch(
        f"/api/collections/users/records/{record_id}", headers=headers, json={"verified": True}
    )
    assert response.status_code == 200, response.text


# -- configuration ------------------------------------------------------------------------------


def test_provider_config_is_validated_and_client_secret_is_write_only(api, fake):
    headers = superuser_headers(api)

    def patch(*providers: dict[str, Any], enabled: bool = True) -> Any:
        body = {"oauth2": {"enabled": enabled, "providers": list(providers)}}
        return api.patch("/api/collections/users", headers=headers, json=body)

    def provider_errors(response: Any) -> dict[str, Any]:
        assert response.status_code == 400, response.text
        assert response.json()["message"] == "Failed to update collection."
        return response.json()["data"]["oauth2"]["providers"]

    errors = provider_errors(patch(oidc(fake, name="facebook-ish")))
    assert errors["0"]["name"]["code"] == "validation_missing_provider"
    errors = provider_errors(patch({"name": "google"}))
    assert errors["0"]["clientId"]["code"] == errors["0"]["clientSecret"]["code"] == "validation_required"
    errors = provider_errors(patch(oidc(fake), oidc(fake)))
    assert list(errors) == ["1"] and errors["1"]["name"]["code"] == "validation_duplicated_provider"
    errors = provider_errors(patch(oidc(fake, authURL="not a url")))
    assert errors["0"]["authURL"]["code"] == "validation_is_url"
    errors = provider_errors(patch({"name": "oidc", "clientId": "x", "clientSecret": "y"}))
    assert errors["0"]["authURL"]["code"] == "validation_required", "generic OIDC has no default endpoints"
    # as in PocketBase, a disabled oauth2 block is not validated
    assert patch({"name": "nope"}, enabled=False).status_code == 200

    response = configure(api, headers, oidc(fake))
    provider = response.json()["oauth2"]["providers"][0]
    assert provider == {
        "pkce": None,
        "name": "oidc",
        "clientId": CLIENT_ID,
        **fake.endpoints(),
        "displayName": "",
        "extra": {},
    }
    seen = [
        response.text,
        api.get("/api/collections/users", headers=headers).text,
        api.get("/api/collections?perPage=500", headers=headers).text,
        api.get("/api/collections/users/auth-methods").text,
    ]
    assert all(CLIENT_SECRET not in text for text in seen)

    # Saving the collection as read back (no secret) keeps the stored secret and every omitted setting.
    changed = api.patch(
        "/api/collections/users",
        headers=headers,
        json={"oauth2": {"providers": [{"name": "oidc", "clientId": CLIENT_ID, "displayName": "Acme SSO"}]}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["oauth2"]["providers"][0]["tokenURL"] == fake.endpoints()["tokenURL"]
    assert provider_info(api)["displayName"] == "Acme SSO"
    response = sign_in(api, fake, ALICE)
    assert response.status_code == 200, "the kept secret still authenticates at the token endpoint"
    token_request = next(r for r in fake.requests if r.path == "/token")
    assert token_request.headers["authorization"].startswith("Basic ")
    assert CLIENT_SECRET not in response.text


def test_auth_methods_lists_oauth2_providers(api, fake):
    headers = superuser_headers(api)
    disabled = api.get("/api/collections/users/auth-methods").json()
    assert disabled["oauth2"] == {"providers": [], "enabled": False}
    configure(api, headers, oidc(fake), {"name": "github", "clientId": "gh-id", "clientSecret": "gh-secret"})
    methods = api.get("/api/collections/users/auth-methods").json()
    assert methods["oauth2"]["enabled"] is True
    first, github = methods["oauth2"]["providers"]
    assert set(first) == {
        "name",
        "displayName",
        "logo",
        "state",
        "authURL",
        "authUrl",
        "codeVerifier",
        "codeChallenge",
        "codeChallengeMethod",
    }
    assert (first["name"], first["displayName"], github["displayName"]) == ("oidc", "OIDC", "GitHub")
    assert re.fullmatch(r"[A-Za-z0-9]{30}", first["state"])
    assert re.fullmatch(r"[A-Za-z0-9]{43}", first["codeVerifier"])
    assert first["codeChallenge"] == s256(first["codeVerifier"]) and first["codeChallengeMethod"] == "S256"
    url = first["authURL"]
    assert url == first["authUrl"] and url.startswith(fake.endpoints()["authURL"] + "?")
    assert url.endswith("&redirect_uri="), "the client appends its redirect URL"
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["state"] == [first["state"]] and query["code_challenge"] == [first["codeChallenge"]]
    assert query["scope"] == ["openid email profile"]
    assert github["authURL"].startswith("https://github.com/login/oauth/authorize?")
    again = api.get("/api/collections/users/auth-methods").json()["oauth2"]["providers"][0]
    assert again["state"] != first["state"] and again["codeVerifier"] != first["codeVerifier"]
    assert [p["name"] for p in methods["authProviders"]] == ["oidc", "github"]


def test_oauth2_providers_meta_route(api):
    headers = superuser_headers(api)
    response = api.get("/api/collections/meta/oauth2-providers", headers=headers)
    assert response.status_code == 200
    names = [p["name"] for p in response.json()]
    assert {"google", "microsoft", "github", "gitlab", "oidc", "oidc2", "oidc3"} <= set(names)
    assert names.index("google") < names.index("github") < names.index("oidc")
    assert all(set(p) == {"name", "displayName", "logo"} for p in response.json())
    create_user(api, "eve@example.com")
    assert (
        api.get(
            "/api/collections/meta/oauth2-providers", headers=user_headers(api, "eve@example.com")
        ).status_code
        == 403
    )
    assert api.get("/api/collections/meta/oauth2-providers").status_code == 401


# -- sign-up and sign-in ---------------------------------------------------------------------------


def test_sign_up_then_sign_in_finds_the_same_record(api, fake):
    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))
    response = sign_in(api, fake, ALICE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"meta", "record", "token"}
    meta, record = body["meta"], body["record"]
    assert meta["isNew"] is True
    assert (meta["id"], meta["name"], meta["username"], meta["email"]) == (
        "alice-1",
        "Alice Liddell",
        "alice",
        "alice@example.com",
    )
    assert meta["avatarURL"] == meta["avatarUrl"] == ALICE["picture"]
    assert meta["rawUser"] == ALICE and meta["accessToken"] and meta["refreshToken"].startswith("refresh-")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z", meta["expiry"])
    assert (record["email"], record["verified"], record["name"]) == (
        "alice@example.com",
        True,
        "Alice Liddell",
    )
    assert "password" not in record and "tokenKey" not in record
    refreshed = api.post("/api/collections/users/auth-refresh", headers={"Authorization": body["token"]})
    assert refreshed.status_code == 200 and refreshed.json()["record"]["id"] == record["id"]
    [link] = links(api, headers)
    assert (link["collectionRef"], link["recordRef"], link["provider"], link["providerId"]) == (
        "_pb_users_auth_",
        record["id"],
        "oidc",
        "alice-1",
    )
    token_request = [r for r in fake.requests if r.path == "/token"][-1]
    assert token_request.form["redirect_uri"] == REDIRECT and token_request.form["code_verifier"]

    # the provider renamed her: the link still finds her record, nothing new is created
    again = sign_in(api, fake, {**ALICE, "name": "Alice L.", "email": "alice@new.example.com"})
    assert again.status_code == 200, again.text
    assert again.json()["meta"]["isNew"] is False
    assert again.json()["record"]["id"] == record["id"]
    assert again.json()["record"]["email"] == "alice@example.com"
    assert len(links(api, headers)) == 1 and len(users(api, headers)) == 1


def test_create_data_and_mapped_fields(api, fake):
    headers = superuser_headers(api)
    collection = api.get("/api/collections/users", headers=headers).json()
    fields = collection["fields"] + [
        {"name": "username", "type": "text"},
        {"name": "photo", "type": "url"},
        {"name": "providerUid", "type": "text"},
    ]
    indexes = collection["indexes"] + [
        "CREATE UNIQUE INDEX idx_users_username ON users (username) WHERE username != ''"
    ]
    response = api.patch(
        "/api/collections/users", headers=headers, json={"fields": fields, "indexes": indexes}
    )
    assert response.status_code == 200, response.text
    mapped = {"id": "providerUid", "name": "name", "username": "username", "avatarURL": "photo"}
    configure(api, headers, oidc(fake), mappedFields=mapped)

    response = sign_in(api, fake, ALICE, create_data={"name": "Chosen Name", "emailVisibility": True})
    assert response.status_code == 200, response.text
    record = response.json()["record"]
    assert record["name"] == "Chosen Name", "createData wins over the mapping"
    assert (record["username"], record["photo"], record["providerUid"]) == (
        "alice",
        ALICE["picture"],
        "alice-1",
    )
    assert record["emailVisibility"] is True

    # the same provider username again: already taken, so it is not mapped (the sign-up still works)
    twin = {
        "sub": "alice-2",
        "name": "Other Alice",
        "preferred_username": "alice",
        "email": "a2@example.com",
        "email_verified": True,
    }
    response = sign_in(api, fake, twin)
    assert response.status_code == 200, response.text
    assert response.json()["record"]["username"] == ""
    assert response.json()["record"]["name"] == "Other Alice"

    # createData is validated like any create: a client cannot mark itself verified
    response = sign_in(
        api, fake, {**ALICE, "sub": "x-3", "email": "x3@example.com"}, create_data={"verified": True}
    )
    assert response.status_code == 400
    assert response.json()["data"]["verified"]["code"] == "validation_values_mismatch"


def test_create_rule_sees_the_oauth2_context(api, fake):
    headers = superuser_headers(api)
    rule = {"createRule": "@request.context = 'oauth2'"}
    assert api.patch("/api/collections/users", headers=headers, json=rule).status_code == 200
    configure(api, headers, oidc(fake))
    response = api.post(
        "/api/collections/users/records",
        json={
            "email": "direct@example.com",
            "password": "direct-pass-123",
            "passwordConfirm": "direct-pass-123",
        },
    )
    assert response.status_code == 400, "plain sign-up is refused by the rule"
    assert sign_in(api, fake, ALICE).status_code == 200, "OAuth2 sign-up passes it"
    locked = {"createRule": None}
    assert api.patch("/api/collections/users", headers=headers, json=locked).status_code == 200
    response = sign_in(api, fake, {**ALICE, "sub": "bob-1", "email": "bob@example.com"})
    assert response.status_code == 403
    assert len(users(api, headers)) == 1 and len(links(api, headers)) == 1, "the failed sign-up left nothing"


def test_auth_rule_is_respected(api, fake):
    headers = superuser_headers(api)
    rule = {"oauth2": {"enabled": True}, "authRule": "name != 'Blocked'"}
    assert api.patch("/api/collections/users", headers=headers, json=rule).status_code == 200
    configure(api, headers, oidc(fake))
    response = sign_in(api, fake, {**ALICE, "name": "Blocked"})
    assert response.status_code == 403
    assert (
        response.json()["message"]
        == "The request doesn't satisfy the collection requirements to authenticate."
    )
    assert "token" not in response.text
    assert sign_in(api, fake, {**ALICE, "sub": "ok-1", "email": "ok@example.com"}).status_code == 200


# -- provider failures -------------------------------------------------------------------------------


def test_provider_failures_are_400_and_never_leak(api, fake):
    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))

    info = provider_info(api)
    code = authorize(fake, info, ALICE)
    wrong = {"provider": "oidc", "code": code, "codeVerifier": "x" * 43, "redirectURL": REDIRECT}
    response = api.post(AUTH, json=wrong)
    assert (response.status_code, response.json()) == (400, TOKEN_FAILED)
    assert "PKCE" not in response.text and "invalid_grant" not in response.text

    info = provider_info(api)
    code = authorize(fake, info, ALICE)
    body = {"provider": "oidc", "code": code, "codeVerifier": info["codeVerifier"], "redirectURL": REDIRECT}
    assert api.post(AUTH, json={**body, "redirectURL": "https://evil.example/cb"}).json() == TOKEN_FAILED
    assert api.post(AUTH, json=body).json() == TOKEN_FAILED, "a code is burnt by its first presentation"

    info = provider_info(api)
    code = authorize(fake, info, ALICE)
    body = {"provider": "oidc", "code": code, "codeVerifier": info["codeVerifier"], "redirectUrl": REDIRECT}
    assert api.post(AUTH, json=body).status_code == 200, "legacy redirectUrl is accepted"
    assert api.post(AUTH, json=body).json() == TOKEN_FAILED, "and the used code is refused"

    fake.token_failure = (500, "text/html", b"<html>upstream exploded: secret-internal-detail</html>")
    response = sign_in(api, fake, ALICE)
    assert (response.status_code, response.json()) == (400, TOKEN_FAILED)
    assert "secret-internal-detail" not in response.text
    fake.token_failure = (200, "application/json", b'{"token_type": "Bearer"}')
    assert sign_in(api, fake, ALICE).json() == TOKEN_FAILED, "a token response without access_token"
    fake.token_failure = None

    fake.userinfo_failure = (503, "application/json", b'{"error": "maintenance"}')
    assert sign_in(api, fake, ALICE).json() == USER_FAILED
    fake.userinfo_failure = (200, "application/json", b"[1, 2, 3]")
    assert sign_in(api, fake, ALICE).json() == USER_FAILED
    fake.userinfo_failure = None
    assert sign_in(api, fake, {**ALICE, "sub": ""}).json() == USER_FAILED, "no user id, no identity"

    # the provider is down: connection refused
    with socket_closed_port() as port:
        down = oidc(fake, tokenURL=f"http://127.0.0.1:{port}/token")
        configure(api, headers, down)
        response = sign_in(api, fake, ALICE)
    assert (response.status_code, response.json()) == (400, TOKEN_FAILED)
    assert len(users(api, headers)) == 1, "only the one successful sign-in created a record"


class socket_closed_port:
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *_exc: Any) -> None:
        self.sock.close()


def test_request_validation(api, fake):
    headers = superuser_headers(api)
    response = api.post(AUTH, json={"provider": "oidc", "code": "abc"})
    assert (response.status_code, response.json()["message"]) == (
        403,
        "The collection is not configured to allow OAuth2 authentication.",
    )
    configure(api, headers, oidc(fake))
    response = api.post(AUTH, json={"provider": "google", "code": "abc"})
    assert response.status_code == 400
    assert response.json()["message"] == "An error occurred while loading the submitted data."
    assert response.json()["data"]["provider"]["code"] == "validation_invalid_provider"
    response = api.post(AUTH, json={})
    assert set(response.json()["data"]) == {"provider", "code"}
    assert api.post(AUTH, json={"provider": "oidc", "code": "abc", "createData": "x"}).status_code == 400
    assert api.post(AUTH, json={"provider": "oidc", "code": ["abc"]}).status_code == 400
    assert api.post("/api/collections/_externalAuths/auth-with-oauth2", json={}).status_code == 404
    assert api.post("/api/collections/nope/auth-with-oauth2", json={}).status_code == 404
    assert not [r for r in fake.requests if r.path == "/token"], "nothing reached the provider"


# -- linking and AUTH-9 --------------------------------------------------------------------------------


def test_unverified_account_registered_by_someone_else_is_not_hijacked(api, fake):
    """AUTH-9: an attacker registers the victim's address first and waits for the victim to sign in
    with a provider. The identity is never linked to the unverified account, the attacker cannot
    plant an identity of their own on it either, and the owner recovers it by email."""
    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))
    squatted = create_user(api, "victim@example.com", "attacker-pass-1")
    attacker = user_headers(api, "victim@example.com", "attacker-pass-1")
    attacker_identity = {"sub": "attacker-1", "email": "attacker@evil.example", "email_verified": True}
    planted = sign_in(api, fake, attacker_identity, headers=attacker)
    assert planted.status_code == 400, "an unverified account links no identity for another address"
    assert links(api, headers) == []

    victim = {"sub": "victim-1", "name": "Victim", "email": "victim@example.com", "email_verified": True}
    refused = sign_in(api, fake, victim)
    assert refused.status_code == 400, refused.text
    assert "not verified" in refused.json()["message"]
    assert links(api, headers) == [] and len(users(api, headers)) == 1

    # the owner proves the address by email: the squatter's password and sessions end there
    assert (
        api.post(
            "/api/collections/users/request-password-reset", json={"email": "victim@example.com"}
        ).status_code
        == 204
    )
    token = last_mail(api, "victim@example.com").link_token()
    reset = {"token": token, "password": "owner-pass-77", "passwordConfirm": "owner-pass-77"}
    assert api.post("/api/collections/users/confirm-password-reset", json=reset).status_code == 204
    assert api.post("/api/collections/users/auth-refresh", headers=attacker).status_code == 401
    response = sign_in(api, fake, victim)
    assert response.status_code == 200, response.text
    assert response.json()["record"]["id"] == squatted["id"] and response.json()["record"]["verified"] is True
    assert [(link["recordRef"], link["providerId"]) for link in links(api, headers)] == [
        (squatted["id"], "victim-1")
    ]
    again = sign_in(api, fake, attacker_identity)
    assert again.status_code == 200
    assert again.json()["record"]["id"] != squatted["id"], (
        "the attacker's identity gets an account of its own"
    )


def test_an_unverified_account_may_link_a_provider_that_proves_its_own_address(api, fake):
    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))
    erin = create_user(api, "erin@example.com", "erin-password-1")
    own = user_headers(api, "erin@example.com", "erin-password-1")
    proof = {"sub": "erin-g", "email": "erin@example.com", "email_verified": True}
    response = sign_in(api, fake, proof, headers=own)
    assert response.status_code == 200, response.text
    assert response.json()["record"]["id"] == erin["id"] and response.json()["record"]["verified"] is True
    assert user_headers(api, "erin@example.com", "erin-password-1"), "her own sign-in keeps her password"


def test_unverified_provider_email_never_links_by_email(api, fake):
    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))
    bob = create_user(api, "bob@example.com", "bob-password-1")
    verify_user(api, headers, bob["id"])
    claim = {"sub": "mallory-1", "email": "bob@example.com", "email_verified": False}
    response = sign_in(api, fake, claim)
    assert response.status_code == 400, "without a verified email there is no address to sign up with"
    assert response.json()["data"]["email"]["code"] == "validation_required"
    assert links(api, headers) == []
    response = sign_in(
        api, fake, {**claim, "email_verified": "false"}, create_data={"email": "bob@example.com"}
    )
    assert response.status_code == 400 and links(api, headers) == [], "nor by a submitted createData email"


def test_links_a_verified_existing_account(api, fake):
    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))
    carol = create_user(api, "carol@example.com", "carol-password-1")
    verify_user(api, headers, carol["id"])
    response = sign_in(api, fake, {"sub": "carol-g", "email": "carol@example.com", "email_verified": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["record"]["id"] == carol["id"] and response.json()["meta"]["isNew"] is False
    assert user_headers(api, "carol@example.com", "carol-password-1"), "a verified owner keeps her password"
    assert [(link["recordRef"], link["providerId"]) for link in links(api, headers)] == [
        (carol["id"], "carol-g")
    ]
    # a second account of the same provider with her address: one link per provider and record
    second = sign_in(api, fake, {"sub": "carol-2", "email": "carol@example.com", "email_verified": True})
    assert (second.status_code, second.json()) == (
        400,
        {"data": {}, "message": "Failed to authenticate.", "status": 400},
    )
    assert len(links(api, headers)) == 1


def test_signed_in_user_links_another_identity(api, fake):
    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))
    dave = create_user(api, "dave@example.com", "dave-password-1")
    verify_user(api, headers, dave["id"])
    own = user_headers(api, "dave@example.com", "dave-password-1")
    work = {"sub": "dave-work", "email": "dave@corp.example", "email_verified": True}
    response = sign_in(api, fake, work, headers=own)
    assert response.status_code == 200, response.text
    record = response.json()["record"]
    assert (record["id"], record["email"], record["verified"]) == (dave["id"], "dave@example.com", True)
    assert user_headers(api, "dave@example.com", "dave-password-1"), (
        "his own sign-in does not reset his password"
    )
    assert sign_in(api, fake, work).json()["record"]["id"] == dave["id"], "the link now signs him in"


# -- other providers and modes ----------------------------------------------------------------------------


def test_github_reads_the_verified_primary_email(api, fake):
    headers = superuser_headers(api)
    github = {
        "name": "github",
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        **fake.endpoints(),
    }
    configure(api, headers, github)
    profile = {
        "id": 4242,
        "login": "octocat",
        "name": "Mona",
        "avatar_url": "https://gh/a.png",
        "email": "public@x.example",
    }
    emails = [
        {"email": "old@example.com", "primary": False, "verified": True},
        {"email": "mona@example.com", "primary": True, "verified": True},
    ]
    response = sign_in(api, fake, profile, provider="github", emails=emails)
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert (meta["id"], meta["username"], meta["email"]) == ("4242", "octocat", "mona@example.com")
    assert response.json()["record"]["email"] == "mona@example.com"
    emails_request = next(r for r in fake.requests if r.path == "/userinfo/emails")
    assert emails_request.headers["authorization"] == "Bearer " + meta["accessToken"]
    # no readable address list (missing scope): no email, so no account can be made from it
    response = sign_in(api, fake, {**profile, "id": 4343}, provider="github", emails=None)
    assert response.status_code == 400 and response.json()["data"]["email"]["code"] == "validation_required"


def test_oidc_user_from_a_signed_id_token(api, fake):
    headers = superuser_headers(api)
    endpoints = fake.endpoints()
    config = oidc(
        fake,
        name="oidc2",
        userInfoURL="",
        extra={"jwksURL": f"{fake.url}/jwks", "issuers": [fake.url]},
    )
    assert config["authURL"] == endpoints["authURL"]
    configure(api, headers, config)
    claims = {"sub": "tok-1", "name": "Token User", "email": "tok@example.com", "email_verified": True}
    response = sign_in(api, fake, {}, provider="oidc2", id_token_claims=claims)
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["id"] == "tok-1" and response.json()["record"]["verified"] is True

    fake.id_token_signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = sign_in(api, fake, {}, provider="oidc2", id_token_claims={**claims, "sub": "tok-2"})
    assert (forged.status_code, forged.json()) == (400, USER_FAILED)
    fake.id_token_signing_key = None
    wrong_issuer = sign_in(api, fake, {}, provider="oidc2", id_token_claims={**claims, "iss": "https://evil"})
    assert wrong_issuer.json() == USER_FAILED
    wrong_audience = sign_in(
        api, fake, {}, provider="oidc2", id_token_claims={**claims, "aud": "someone-else"}
    )
    assert wrong_audience.json() == USER_FAILED


def test_a_retried_request_does_not_spend_the_code_twice(api, fake):
    """The API pipe runs a handler again after a stale-schema error; the code was already exchanged
    by the first run, so the second run must reuse that result instead of presenting it again."""
    from app.db.errors import SchemaMismatch

    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))
    failures = ["once"]

    @api.runtime.hooks.on_record_create("_externalAuths")
    def stale_schema_once(event: Any) -> None:
        if failures:
            failures.pop()
            raise SchemaMismatch("the schema changed under us")

    response = sign_in(api, fake, ALICE)
    assert response.status_code == 200, response.text
    assert not failures, "the first run did fail"
    assert len([r for r in fake.requests if r.path == "/token"]) == 1
    assert len(users(api, headers)) == 1 and len(links(api, headers)) == 1


def test_a_link_left_by_a_deleted_record_is_replaced(api, fake):
    headers = superuser_headers(api)
    configure(api, headers, oidc(fake))
    first = sign_in(api, fake, ALICE).json()["record"]
    assert api.delete(f"/api/collections/users/records/{first['id']}", headers=headers).status_code == 204
    response = sign_in(api, fake, ALICE)
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["isNew"] is True and response.json()["record"]["id"] != first["id"]
    assert [link["recordRef"] for link in links(api, headers)] == [response.json()["record"]["id"]]
