"""Signing in, through each door: auth-methods, password (imported hashes too), OTP, MFA,
refresh, impersonation and login alerts (PocketBase's routes and shapes; RELIABILITY.md AUTH-3,
AUTH-4, AUTH-8)."""

from __future__ import annotations

import time
from typing import Any

import bcrypt
import jwt
from emmett.validators.process import Crypt

from app.auth.record_tokens import load_record, new_auth_token
from app.db.sql import where
from tests.support.mailbox import last_mail, mails
from tests.support.scenario import create_user, superuser_headers, user_headers

USERS = "/api/collections/users"


def enable(api: Any, **options: Any) -> None:
    response = api.patch("/api/collections/users", headers=superuser_headers(api), json=options)
    assert response.status_code == 200, response.text


def request_code(api: Any, email: str) -> tuple[str, str]:
    response = api.post(f"{USERS}/request-otp", json={"email": email})
    assert response.status_code == 200, response.text
    return response.json()["otpId"], last_mail(api, email).otp()


def users_table(api: Any) -> Any:
    return api.runtime.registry.get("users")


# -- auth-methods -----------------------------------------------------------------------------------


def test_auth_methods_default_shape(api):
    body = api.get(f"{USERS}/auth-methods").json()
    assert body == {
        "password": {"identityFields": ["email"], "enabled": True},
        "oauth2": {"providers": [], "enabled": False},
        "mfa": {"enabled": False, "duration": 0},
        "otp": {"enabled": False, "duration": 0},
        "authProviders": [],
        "usernamePassword": False,
        "emailPassword": True,
    }
    enable(api, otp={"enabled": True, "duration": 300}, mfa={"enabled": True})
    body = api.get(f"{USERS}/auth-methods").json()
    assert body["otp"] == {"enabled": True, "duration": 300}
    assert body["mfa"] == {"enabled": True, "duration": 600}
    assert api.get("/api/collections/nope/auth-methods").status_code == 404


# -- password ---------------------------------------------------------------------------------------


def test_password_sign_in_shape_and_errors(api):
    create_user(api, "pat@example.com", name="Pat")
    ok = api.post(
        f"{USERS}/auth-with-password", json={"identity": "pat@example.com", "password": "user-password-1"}
    )
    assert ok.status_code == 200
    body = ok.json()
    assert set(body) == {"record", "token"}
    assert body["record"]["email"] == "pat@example.com", "the owner sees its email"
    assert "password" not in body["record"] and "tokenKey" not in body["record"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert (claims["type"], claims["refreshable"]) == ("auth", True)
    wrong_field = api.post(
        f"{USERS}/auth-with-password",
        json={"identity": "pat@example.com", "password": "user-password-1", "identityField": "name"},
    )
    assert wrong_field.status_code == 400 and "identityField" in wrong_field.json()["data"]


def test_imported_pocketbase_and_emmett_hashes_sign_in_and_are_rehashed(api):
    user = create_user(api, "legacy@example.com")
    other = create_user(api, "emmett@example.com")
    compiled = users_table(api)
    column = compiled.columns["password"].name
    pocketbase_hash = bcrypt.hashpw(b"old-pocketbase-pw", bcrypt.gensalt(10)).decode().replace("$2b$", "$2a$")
    emmett_hash = str(Crypt(algorithm="pbkdf2(2000,20,sha512)")("old-emmett-pw")[0])
    for record_id, stored in ((user["id"], pocketbase_hash), (other["id"], emmett_hash)):
        api.runtime.db.execute(
            where(compiled.table, compiled.id_column == record_id)._update(**{column: stored})
        )

    for email, password, record_id in (
        ("legacy@example.com", "old-pocketbase-pw", user["id"]),
        ("emmett@example.com", "old-emmett-pw", other["id"]),
    ):
        before = load_record(api.runtime.db, compiled, record_id)
        assert (
            api.post(f"{USERS}/auth-with-password", json={"identity": email, "password": "wrong"}).status_code
            == 400
        )
        response = api.post(f"{USERS}/auth-with-password", json={"identity": email, "password": password})
        assert response.status_code == 200, response.text
        after = load_record(api.runtime.db, compiled, record_id)
        assert after["password"].startswith("$argon2id$"), "rehashed with argon2id at sign-in"
        assert after["tokenKey"] == before["tokenKey"], "a rehash is not a password change"
        again = api.post(f"{USERS}/auth-with-password", json={"identity": email, "password": password})
        assert again.status_code == 200


# -- refresh and impersonation ------------------------------------------------------------------------


def test_refresh_keeps_the_sign_in_time_and_stops_at_the_maximum_lifetime(api):
    create_user(api, "ref@example.com")
    headers = user_headers(api, "ref@example.com")
    first = jwt.decode(headers["Authorization"], options={"verify_signature": False})
    refreshed = api.post(f"{USERS}/auth-refresh", headers=headers)
    assert refreshed.status_code == 200
    claims = jwt.decode(refreshed.json()["token"], options={"verify_signature": False})
    assert claims["auth_time"] == first["auth_time"]

    compiled = users_table(api)
    record = load_record(api.runtime.db, compiled, claims["id"])
    stale = new_auth_token(compiled, record, auth_time=int(time.time()) - 31 * 24 * 3600)
    assert api.post(f"{USERS}/auth-refresh", headers={"Authorization": stale}).status_code == 401
    assert api.post(f"{USERS}/auth-refresh").status_code == 401
    su = superuser_headers(api)
    assert api.post(f"{USERS}/auth-refresh", headers=su).status_code == 403


def test_impersonation(api):
    user = create_user(api, "imp@example.com")
    create_user(api, "someone@example.com")
    path = f"{USERS}/impersonate/{user['id']}"
    assert api.post(path).status_code == 401
    assert api.post(path, headers=user_headers(api, "someone@example.com")).status_code == 403
    su = superuser_headers(api)
    assert api.post(f"{USERS}/impersonate/missing12345678", headers=su).status_code == 404
    assert api.post(path, headers=su, json={"duration": -1}).status_code == 400
    response = api.post(path, headers=su, json={"duration": 60})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["refreshable"] is False and claims["exp"] - time.time() <= 61
    assert response.json()["record"]["email"] == "imp@example.com"
    # A non-refreshable token is answered with itself (PocketBase).
    refreshed = api.post(f"{USERS}/auth-refresh", headers={"Authorization": token})
    assert (refreshed.status_code, refreshed.json()["token"]) == (200, token)


# -- OTP ----------------------------------------------------------------------------------------------


def test_otp_flow(api):
    user = create_user(api, "otto@example.com")
    disabled = api.post(f"{USERS}/request-otp", json={"email": "otto@example.com"})
    assert disabled.status_code == 403
    enable(api, otp={"enabled": True})

    unknown = api.post(f"{USERS}/request-otp", json={"email": "nobody@example.com"})
    assert unknown.status_code == 200 and len(unknown.json()["otpId"]) == 15
    assert mails(api) == [], "no mail for an unknown address, same answer"

    otp_id, code = request_code(api, "otto@example.com")
    assert len(code) == 8 and code.isdigit()
    wrong = api.post(
        f"{USERS}/auth-with-otp",
        json={"otpId": otp_id, "password": "00000000" if code != "00000000" else "1"},
    )
    assert (wrong.status_code, wrong.json()["message"]) == (400, "Invalid or expired OTP.")
    ok = api.post(f"{USERS}/auth-with-otp", json={"otpId": otp_id, "password": code})
    assert ok.status_code == 200, ok.text
    assert ok.json()["record"]["id"] == user["id"]
    assert ok.json()["record"]["verified"] is True, "the code proved the address"
    # AUTH-8: single use.
    reuse = api.post(f"{USERS}/auth-with-otp", json={"otpId": otp_id, "password": code})
    assert reuse.status_code == 400
    # the random password set at verification (no MFA) replaced the one chosen before
    assert (
        api.post(
            f"{USERS}/auth-with-password",
            json={"identity": "otto@example.com", "password": "user-password-1"},
        ).status_code
        == 400
    )


def test_otp_expires_and_limits_attempts(api):
    create_user(api, "late@example.com")
    enable(api, otp={"enabled": True, "duration": 60})
    otp_id, code = request_code(api, "late@example.com")
    otps = api.runtime.registry.get("_otps")
    old = "2000-01-01 00:00:00.000Z"
    api.runtime.db.execute(
        where(otps.table, otps.id_column == otp_id)._update(**{otps.columns["created"].name: old})
    )
    expired = api.post(f"{USERS}/auth-with-otp", json={"otpId": otp_id, "password": code})
    assert expired.status_code == 400

    otp_id, code = request_code(api, "late@example.com")
    statuses = [
        api.post(f"{USERS}/auth-with-otp", json={"otpId": otp_id, "password": "x1"}).status_code
        for _ in range(6)
    ]
    assert statuses == [400] * 6, "the same answer before and after the code is burnt"
    burnt = api.post(f"{USERS}/auth-with-otp", json={"otpId": otp_id, "password": code})
    assert burnt.status_code == 400, "5 wrong codes deleted the code (tests/api/test_otp_attempts.py)"


# -- MFA ----------------------------------------------------------------------------------------------


def test_mfa_needs_two_different_methods(api):
    create_user(api, "mia@example.com", password="mia-password-77")
    enable(api, otp={"enabled": True}, mfa={"enabled": True})
    credentials = {"identity": "mia@example.com", "password": "mia-password-77"}
    first = api.post(f"{USERS}/auth-with-password", json=credentials)
    assert first.status_code == 401 and set(first.json()) == {"mfaId"}
    mfa_id = first.json()["mfaId"]

    same = api.post(f"{USERS}/auth-with-password", json={**credentials, "mfaId": mfa_id})
    assert (same.status_code, same.json()["message"]) == (
        400,
        "A different authentication method is required.",
    )
    bogus = api.post(f"{USERS}/auth-with-password", json={**credentials, "mfaId": "nope"})
    assert (bogus.status_code, bogus.json()["message"]) == (400, "Invalid or expired MFA session.")

    otp_id, code = request_code(api, "mia@example.com")
    done = api.post(f"{USERS}/auth-with-otp?mfaId={mfa_id}", json={"otpId": otp_id, "password": code})
    assert done.status_code == 200, done.text
    assert set(done.json()) == {"record", "token"}
    # the session is used up
    otp_id, code = request_code(api, "mia@example.com")
    again = api.post(f"{USERS}/auth-with-otp", json={"otpId": otp_id, "password": code, "mfaId": mfa_id})
    assert again.status_code == 400


def test_mfa_rule_limits_who_needs_a_second_factor(api):
    create_user(api, "plain@example.com", password="plain-pass-123", name="plain")
    create_user(api, "vip@example.com", password="vip-pass-12345", name="vip")
    enable(api, otp={"enabled": True}, mfa={"enabled": True, "rule": "name = 'vip'"})
    plain = api.post(
        f"{USERS}/auth-with-password", json={"identity": "plain@example.com", "password": "plain-pass-123"}
    )
    assert plain.status_code == 200
    vip = api.post(
        f"{USERS}/auth-with-password", json={"identity": "vip@example.com", "password": "vip-pass-12345"}
    )
    assert vip.status_code == 401 and "mfaId" in vip.json()


# -- login alerts -------------------------------------------------------------------------------------


def test_login_from_a_new_device_sends_an_alert(api):
    create_user(api, "ali@example.com")
    credentials = {"identity": "ali@example.com", "password": "user-password-1"}
    assert (
        api.post(
            f"{USERS}/auth-with-password", json=credentials, headers={"user-agent": "laptop"}
        ).status_code
        == 200
    )
    assert (
        api.post(
            f"{USERS}/auth-with-password", json=credentials, headers={"user-agent": "laptop"}
        ).status_code
        == 200
    )
    assert mails(api) == [], "first and known origins send nothing"
    assert (
        api.post(f"{USERS}/auth-with-password", json=credentials, headers={"user-agent": "phone"}).status_code
        == 200
    )
    alert = last_mail(api, "ali@example.com")
    assert alert.subject == "Login from a new location"
    assert "phone" in alert.html


def test_deleting_an_account_removes_its_sign_in_leftovers(api):
    user = create_user(api, "leaver@example.com", password="leaver-pass-99")
    enable(api, otp={"enabled": True}, mfa={"enabled": True})
    assert (
        api.post(
            f"{USERS}/auth-with-password",
            json={"identity": "leaver@example.com", "password": "leaver-pass-99"},
        ).status_code
        == 401
    )
    request_code(api, "leaver@example.com")
    runtime = api.runtime

    def count(name: str) -> int:
        system = runtime.registry.get(name)
        sql = where(system.table, system.columns["recordRef"] == user["id"])._select(system.id_column)
        return len(runtime.db.fetchall(sql))

    assert count("_mfas") == 1 and count("_otps") == 1
    assert api.delete(f"{USERS}/records/{user['id']}", headers=superuser_headers(api)).status_code == 204
    assert count("_mfas") == count("_otps") == count("_authOrigins") == count("_externalAuths") == 0
