"""The email flows of auth records, end to end through each door: the request, the message the
mailer produced (read back from the development mailbox), and the confirmation.

Covers verification, password reset and email change (PocketBase's routes and shapes), their
single use and revocation (RELIABILITY.md AUTH-3, AUTH-8) and the enumeration-safe answers (AUTH-6).
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from tests.support.mailbox import last_mail, mails
from tests.support.scenario import create_user, superuser_headers, user_headers

USERS = "/api/collections/users"
INVALID = "An error occurred while validating the submitted data."


def refresh(api: Any, headers: dict[str, str]) -> int:
    return api.post(f"{USERS}/auth-refresh", headers=headers).status_code


def sign_in(api: Any, email: str, password: str) -> Any:
    return api.post(f"{USERS}/auth-with-password", json={"identity": email, "password": password})


# -- verification -------------------------------------------------------------------------------


def test_verification_flow(api):
    user = create_user(api, "vera@example.com")
    assert user["verified"] is False
    assert api.post(f"{USERS}/request-verification", json={"email": "vera@example.com"}).status_code == 204
    mail = last_mail(api, "vera@example.com")
    assert "Verify your" in mail.subject and "Verify" in mail.text
    token = mail.link_token()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["type"], claims["email"]) == ("verification", "vera@example.com")
    assert claims["exp"] - time.time() <= 600, "AUTH-8: an email link lives at most 10 minutes"

    confirmed = api.post(f"{USERS}/confirm-verification", json={"token": token})
    assert confirmed.status_code == 204, confirmed.text
    record = api.get(f"{USERS}/records/{user['id']}", headers=superuser_headers(api)).json()
    assert record["verified"] is True

    # AUTH-8: the link works once.
    again = api.post(f"{USERS}/confirm-verification", json={"token": token})
    assert again.status_code == 400
    assert again.json()["data"]["token"]["code"] == "validation_invalid_token"
    # A verified record gets no further verification mail.
    before = len(mails(api))
    assert api.post(f"{USERS}/request-verification", json={"email": "vera@example.com"}).status_code == 204
    assert len(mails(api)) == before


def test_verification_request_answers_204_for_unknown_addresses_and_throttles_resends(api):
    create_user(api, "resend@example.com")
    assert api.post(f"{USERS}/request-verification", json={"email": "nobody@example.com"}).status_code == 204
    assert mails(api) == []
    for _ in range(3):
        assert (
            api.post(f"{USERS}/request-verification", json={"email": "resend@example.com"}).status_code == 204
        )
    assert len(mails(api)) == 1, "one verification mail per record per resend interval"


def test_verification_validation_errors(api):
    bad = api.post(f"{USERS}/request-verification", json={"email": "not-an-email"})
    assert (bad.status_code, bad.json()["message"]) == (400, INVALID)
    assert bad.json()["data"]["email"]["code"] == "validation_is_email"
    blank = api.post(f"{USERS}/confirm-verification", json={})
    assert blank.json()["data"]["token"]["code"] == "validation_required"
    claimless = api.post(f"{USERS}/confirm-verification", json={"token": "a.b.c"})
    assert claimless.json()["data"]["token"] == {
        "code": "validation_invalid_token_claims",
        "message": "Missing email token claim.",
    }
    superusers = api.post("/api/collections/_superusers/request-verification", json={"email": "a@b.co"})
    assert (superusers.status_code, superusers.json()["message"]) == (
        400,
        "All superusers are verified by default.",
    )
    missing = api.post("/api/collections/nope/request-verification", json={"email": "a@b.co"})
    assert (missing.status_code, missing.json()["message"]) == (
        404,
        "Missing or invalid auth collection context.",
    )


def test_a_verification_token_of_another_collection_is_refused(api):
    su = superuser_headers(api)
    created = api.post(
        "/api/collections",
        headers=su,
        json={"name": "members", "type": "auth", "createRule": ""},
    )
    assert created.status_code == 200, created.text
    body = {"email": "twice@example.com", "password": "member-pass-77", "passwordConfirm": "member-pass-77"}
    assert api.post("/api/collections/members/records", json=body).status_code == 200
    assert (
        api.post(
            "/api/collections/members/request-verification", json={"email": "twice@example.com"}
        ).status_code
        == 204
    )
    token = last_mail(api, "twice@example.com").link_token()
    wrong = api.post(f"{USERS}/confirm-verification", json={"token": token})
    assert wrong.status_code == 400
    assert wrong.json()["data"]["token"]["code"] == "validation_token_collection_mismatch"


# -- password reset -------------------------------------------------------------------------------


def test_password_reset_flow_revokes_old_tokens(api):
    create_user(api, "rita@example.com", password="first-secret-9")
    old_session = user_headers(api, "rita@example.com", "first-secret-9")
    assert api.post(f"{USERS}/request-password-reset", json={"email": "rita@example.com"}).status_code == 204
    token = last_mail(api, "rita@example.com").link_token()
    assert jwt.decode(token, options={"verify_signature": False})["exp"] - time.time() <= 600

    mismatch = api.post(
        f"{USERS}/confirm-password-reset",
        json={"token": token, "password": "second-secret-9", "passwordConfirm": "other"},
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["data"]["passwordConfirm"]["code"] == "validation_values_mismatch"
    common = api.post(
        f"{USERS}/confirm-password-reset",
        json={"token": token, "password": "password1", "passwordConfirm": "password1"},
    )
    assert common.status_code == 400
    assert common.json()["data"]["password"]["code"] == "validation_password_too_common"

    done = api.post(
        f"{USERS}/confirm-password-reset",
        json={"token": token, "password": "second-secret-9", "passwordConfirm": "second-secret-9"},
    )
    assert done.status_code == 204, done.text
    assert sign_in(api, "rita@example.com", "first-secret-9").status_code == 400
    fresh = sign_in(api, "rita@example.com", "second-secret-9")
    assert fresh.status_code == 200
    assert fresh.json()["record"]["verified"] is True, "the reset link proved the address"
    # AUTH-3: the password change revoked the session from before; AUTH-8: the link is used up.
    assert refresh(api, old_session) == 401
    reuse = api.post(
        f"{USERS}/confirm-password-reset",
        json={"token": token, "password": "third-secret-9", "passwordConfirm": "third-secret-9"},
    )
    assert reuse.status_code == 400
    assert reuse.json()["data"]["token"]["code"] == "validation_invalid_token"


def test_password_reset_request_is_the_same_for_unknown_addresses(api):
    create_user(api, "known@example.com")
    known = api.post(f"{USERS}/request-password-reset", json={"email": "known@example.com"})
    unknown = api.post(f"{USERS}/request-password-reset", json={"email": "unknown@example.com"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (204, b"")
    assert [m.to for m in mails(api)] == ["known@example.com"]


def test_password_reset_needs_password_auth(api):
    su = superuser_headers(api)
    updated = api.patch("/api/collections/users", headers=su, json={"passwordAuth": {"enabled": False}})
    assert updated.status_code == 200, updated.text
    refused = api.post(f"{USERS}/request-password-reset", json={"email": "a@example.com"})
    assert (refused.status_code, refused.json()["message"]) == (
        400,
        "The collection is not configured to allow password authentication.",
    )
    password = api.post(f"{USERS}/auth-with-password", json={"identity": "a@example.com", "password": "x"})
    assert password.status_code == 403


# -- email change -----------------------------------------------------------------------------------


def test_email_change_flow(api):
    create_user(api, "old@example.com", password="change-me-please")
    create_user(api, "taken@example.com")
    headers = user_headers(api, "old@example.com", "change-me-please")
    assert api.post(f"{USERS}/request-email-change", json={"newEmail": "new@example.com"}).status_code == 401
    taken = api.post(f"{USERS}/request-email-change", headers=headers, json={"newEmail": "taken@example.com"})
    assert taken.status_code == 400
    assert taken.json()["data"]["newEmail"]["code"] == "validation_invalid_new_email"
    same = api.post(f"{USERS}/request-email-change", headers=headers, json={"newEmail": "old@example.com"})
    assert same.status_code == 400

    asked = api.post(f"{USERS}/request-email-change", headers=headers, json={"newEmail": "new@example.com"})
    assert asked.status_code == 204, asked.text
    mail = last_mail(api, "new@example.com")  # sent to the new address: only its owner can confirm
    token = mail.link_token()
    wrong = api.post(f"{USERS}/confirm-email-change", json={"token": token, "password": "not-it-at-all"})
    assert wrong.status_code == 400
    assert wrong.json()["data"]["password"]["code"] == "validation_invalid_password"
    done = api.post(f"{USERS}/confirm-email-change", json={"token": token, "password": "change-me-please"})
    assert done.status_code == 204, done.text

    assert sign_in(api, "old@example.com", "change-me-please").status_code == 400
    now = sign_in(api, "new@example.com", "change-me-please")
    assert now.status_code == 200
    assert now.json()["record"]["verified"] is True
    assert refresh(api, headers) == 401, "the email change revoked earlier tokens (AUTH-3)"
    reuse = api.post(f"{USERS}/confirm-email-change", json={"token": token, "password": "change-me-please"})
    assert reuse.status_code == 400


def test_email_change_needs_a_record_of_the_same_collection(api):
    su = superuser_headers(api)
    forbidden = api.post(f"{USERS}/request-email-change", headers=su, json={"newEmail": "x@example.com"})
    assert forbidden.status_code == 403
    superusers = api.post(
        "/api/collections/_superusers/request-email-change", headers=su, json={"newEmail": "x@example.com"}
    )
    assert superusers.status_code == 400


def test_revocation_by_delete_and_by_a_superuser_rotating_the_token_key(api):
    """AUTH-3: a deleted account's tokens stop working; a superuser can sign a user out everywhere
    by giving the record a new ``tokenKey`` (ASVS 7.4.5)."""
    su = superuser_headers(api)
    kept = create_user(api, "kept@example.com")
    gone = create_user(api, "gone@example.com")
    kept_session = user_headers(api, "kept@example.com")
    gone_session = user_headers(api, "gone@example.com")

    rotated = api.patch(f"{USERS}/records/{kept['id']}", headers=su, json={"tokenKey": "f" * 50})
    assert rotated.status_code == 200, rotated.text
    assert refresh(api, kept_session) == 401
    assert api.delete(f"{USERS}/records/{gone['id']}", headers=su).status_code == 204
    assert refresh(api, gone_session) == 401
