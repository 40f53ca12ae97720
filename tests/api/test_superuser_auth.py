"""Superuser (and generic auth collection) password auth, tokens and their revocation."""

from __future__ import annotations

import jwt

from app.core.superusers import update_superuser
from tests.support.scenario import SUPERUSER, superuser_headers

FAILED = {"data": {}, "message": "Failed to authenticate.", "status": 400}


def test_auth_with_password_returns_token_and_record(api):
    headers = superuser_headers(api)
    token = headers["Authorization"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    # PocketBase's claims, plus auth_time (when the sign-in happened, kept across refreshes: AUTH-4)
    assert set(claims) == {"collectionId", "exp", "id", "refreshable", "type", "auth_time"}
    assert (claims["type"], claims["collectionId"], claims["refreshable"]) == ("auth", "pbc_3142635823", True)
    response = api.post(
        "/api/collections/_superusers/auth-with-password",
        json={"identity": SUPERUSER[0], "password": SUPERUSER[1]},
    )
    record = response.json()["record"]
    assert record["email"] == SUPERUSER[0]
    assert "password" not in record and "tokenKey" not in record
    assert record["collectionName"] == "_superusers"


def test_wrong_password_and_unknown_identity_look_the_same(api):
    superuser_headers(api)
    for identity, password in ((SUPERUSER[0], "wrong-password"), ("nobody@example.com", "whatever-1234")):
        response = api.post(
            "/api/collections/_superusers/auth-with-password",
            json={"identity": identity, "password": password},
        )
        assert (response.status_code, response.json()) == (400, FAILED)
    # A form with missing values is a validation error naming them (PocketBase's form validation).
    empty = api.post("/api/collections/_superusers/auth-with-password", json={})
    assert empty.status_code == 400
    assert set(empty.json()["data"]) == {"identity", "password"}


def test_refresh_and_token_revocation_on_password_change(api):
    headers = superuser_headers(api)
    refreshed = api.post("/api/collections/_superusers/auth-refresh", headers=headers)
    assert refreshed.status_code == 200
    assert api.get("/api/collections", headers=headers).status_code == 200
    update_superuser(api.runtime.records, SUPERUSER[0], "a-brand-new-password")
    revoked = api.get("/api/collections", headers=headers)
    assert revoked.status_code == 401, "a password change revokes every earlier token"
    assert api.post("/api/collections/_superusers/auth-refresh", headers=headers).status_code == 401


def test_forged_and_malformed_tokens_are_rejected(api):
    headers = superuser_headers(api)
    claims = jwt.decode(headers["Authorization"], options={"verify_signature": False})
    forged = [
        jwt.encode(
            claims, "not-the-key-but-long-enough-to-be-a-real-looking-hmac-key-0123456789", algorithm="HS256"
        ),
        jwt.encode(
            claims, "not-the-key-but-long-enough-to-be-a-real-looking-hmac-key-0123456789", algorithm="HS512"
        ),
        jwt.encode(claims, None, algorithm="none"),
        headers["Authorization"][:-4] + "AAAA",
        "garbage",
        "Bearer " + headers["Authorization"],
    ]
    statuses = [api.get("/api/collections", headers={"Authorization": t}).status_code for t in forged]
    assert statuses == [401, 401, 401, 401, 401, 200], "Bearer prefix is accepted, everything forged is not"
    no_auth = api.post("/api/collections/_superusers/auth-refresh")
    assert no_auth.json() == {
        "data": {},
        "message": "The request requires valid record authorization token.",
        "status": 401,
    }
