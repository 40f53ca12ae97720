"""Attacks on OTP sign-in (issue 8, finding 6, and the MFA order of finding 9), four ways:
{SQLite, PostgreSQL} x {ASGI, Lambda}.

- Wrong codes used to be counted per account (5 per 3 minutes): the 6th answered 429 for an
  account that exists and 400 for a made-up ``otpId`` (enumeration), and anyone could keep an
  account's OTP sign-in locked by spending those 5 attempts on a code they requested for it.
  Now they are counted per code: the 5th wrong one deletes the code, every failure is the same 400.
- A correct code sent with a bad ``mfaId`` used to be spent before the MFA session was checked.
"""

from __future__ import annotations

from typing import Any

from app.auth.otp import ATTEMPTS
from app.db.sql import where
from tests.api.test_auth_signin import USERS, enable, request_code
from tests.support.ratelimit import set_limits
from tests.support.scenario import create_user, superuser_headers

INVALID = {"data": {}, "message": "Invalid or expired OTP.", "status": 400}
SIGN_IN = f"{USERS}/auth-with-otp"


def wrong_code(code: str) -> str:
    return "1" + code[1:] if code[0] != "1" else "2" + code[1:]


def attempt(api: Any, otp_id: str, code: str, **extra: Any) -> tuple[int, Any]:
    response = api.post(SIGN_IN, json={"otpId": otp_id, "password": code, **extra})
    return response.status_code, response.json()


def test_wrong_codes_answer_alike_for_real_and_made_up_otp_ids(api, clock):
    create_user(api, "victim@example.com")
    enable(api, otp={"enabled": True})
    real, code = request_code(api, "victim@example.com")
    unknown = api.post(f"{USERS}/request-otp", json={"email": "nobody@example.com"}).json()["otpId"]
    made_up = "a" * 15
    bad = wrong_code(code)
    answers = {
        otp_id: [attempt(api, otp_id, bad) for _ in range(ATTEMPTS + 2)]
        for otp_id in (real, unknown, made_up)
    }
    assert answers[real] == answers[unknown] == answers[made_up] == [(400, INVALID)] * (ATTEMPTS + 2), (
        "an attacker cannot tell a real otpId (an existing account) from a made-up one"
    )
    assert attempt(api, real, code) == (400, INVALID), "5 wrong codes burnt the code"


def test_strangers_burning_codes_cannot_lock_the_owner_out(api, clock):
    user = create_user(api, "victim@example.com")
    enable(api, otp={"enabled": True})
    owners, owner_code = request_code(api, "victim@example.com")
    # the attacker asks for codes for the victim's address and spends the attempts on them
    for _ in range(2):
        theirs, their_code = request_code(api, "victim@example.com")
        assert [attempt(api, theirs, wrong_code(their_code))[0] for _ in range(ATTEMPTS)] == [400] * ATTEMPTS
        assert attempt(api, theirs, their_code) == (400, INVALID)
    status, body = attempt(api, owners, owner_code)
    assert status == 200, body
    assert body["record"]["id"] == user["id"]
    # once the owner's own code is burnt, the next request gives a fresh one that works
    burnt, burnt_code = request_code(api, "victim@example.com")
    for _ in range(ATTEMPTS):
        attempt(api, burnt, wrong_code(burnt_code))
    fresh, fresh_code = request_code(api, "victim@example.com")
    assert fresh != burnt
    assert attempt(api, fresh, fresh_code)[0] == 200


def test_a_code_survives_fewer_wrong_attempts_than_the_limit(api, clock):
    create_user(api, "ann@example.com")
    enable(api, otp={"enabled": True})
    otp_id, code = request_code(api, "ann@example.com")
    assert [attempt(api, otp_id, wrong_code(code))[0] for _ in range(ATTEMPTS - 1)] == [400] * (ATTEMPTS - 1)
    assert attempt(api, otp_id, code)[0] == 200
    assert attempt(api, otp_id, code) == (400, INVALID), "single use"


def test_the_per_ip_limit_still_applies_to_otp_sign_in(api, clock):
    su = superuser_headers(api)
    create_user(api, "ann@example.com")
    enable(api, otp={"enabled": True})
    set_limits(api, su, [{"label": "*:auth", "maxRequests": 3}])
    made_up = [attempt(api, f"{n:015d}", "12345678")[0] for n in range(3)]
    assert made_up == [400] * 3
    otp_id, code = request_code(api, "ann@example.com")
    status, body = attempt(api, otp_id, code)
    assert (status, body["message"]) == (429, "Too Many Requests."), "spread over made-up ids, still counted"
    clock.now += 20
    assert attempt(api, otp_id, code)[0] == 200


# -- MFA: the code is checked, then the session, and only a passing sign-in spends the code ---------


def mfa_session(api: Any, email: str, password: str) -> str:
    first = api.post(f"{USERS}/auth-with-password", json={"identity": email, "password": password})
    assert first.status_code == 401, first.text
    return str(first.json()["mfaId"])


def test_a_failing_mfa_check_does_not_spend_a_valid_code(api, clock):
    create_user(api, "mia@example.com", password="mia-password-77")
    create_user(api, "other@example.com", password="other-password-77")
    enable(api, otp={"enabled": True}, mfa={"enabled": True})
    mine = mfa_session(api, "mia@example.com", "mia-password-77")
    someone_elses = mfa_session(api, "other@example.com", "other-password-77")
    expired = mfa_session(api, "mia@example.com", "mia-password-77")
    mfas = api.runtime.registry.get("_mfas")
    api.runtime.db.execute(
        where(mfas.table, mfas.id_column == expired)._update(
            **{mfas.columns["created"].name: "2000-01-01 00:00:00.000Z"}
        )
    )
    otp_id, code = request_code(api, "mia@example.com")
    failures = [
        ("nosuchmfasession", "Invalid or expired MFA session."),
        (expired, "Invalid or expired MFA session."),
        (someone_elses, "Invalid MFA session."),
    ]
    for mfa_id, message in failures:
        status, body = attempt(api, otp_id, code, mfaId=mfa_id)
        assert (status, body["message"]) == (400, message)
    status, body = attempt(api, otp_id, code, mfaId=mine)
    assert status == 200, body
    assert set(body) == {"record", "token"}
    assert attempt(api, otp_id, code, mfaId=mine)[0] == 400, "spent once the sign-in passed"


def test_a_code_used_as_the_first_factor_is_spent(api, clock):
    create_user(api, "mia@example.com", password="mia-password-77")
    enable(api, otp={"enabled": True}, mfa={"enabled": True})
    otp_id, code = request_code(api, "mia@example.com")
    status, body = attempt(api, otp_id, code)
    assert status == 401 and set(body) == {"mfaId"}
    assert attempt(api, otp_id, code) == (400, INVALID), "as PocketBase: it opened an MFA session"
    done = api.post(
        f"{USERS}/auth-with-password?mfaId={body['mfaId']}",
        json={"identity": "mia@example.com", "password": "mia-password-77"},
    )
    assert done.status_code == 200, done.text
