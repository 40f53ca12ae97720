"""``GET/PATCH /api/settings``: PocketBase's shape, superusers only, secrets write-only, shared
by every process through the database."""

from __future__ import annotations

from tests.support.doors import open_door
from tests.support.scenario import create_user, superuser_headers, user_headers


def test_defaults_and_superuser_only(api):
    assert api.get("/api/settings").status_code == 401
    create_user(api, "someone@example.com")
    assert api.get("/api/settings", headers=user_headers(api, "someone@example.com")).status_code == 403
    settings = api.get("/api/settings", headers=superuser_headers(api)).json()
    assert set(settings) == {"meta", "smtp", "batch", "rateLimits", "trustedProxy"}
    assert settings["batch"] == {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0}
    assert settings["meta"]["appName"] == "Acme"
    assert "password" not in settings["smtp"]
    assert settings["rateLimits"]["enabled"] is True
    assert [r["label"] for r in settings["rateLimits"]["rules"]] == ["*:auth"]


def test_patch_merges_and_keeps_secrets_out_of_responses(api):
    su = superuser_headers(api)
    response = api.patch(
        "/api/settings",
        headers=su,
        json={"meta": {"appName": "Mine", "senderAddress": "no-reply@mine.test"},
              "smtp": {"enabled": True, "host": "127.0.0.1", "port": 2525, "password": "s3cret"}},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["appName"] == "Mine" and body["meta"]["appURL"] == "http://localhost:8090"
    assert body["smtp"]["port"] == 2525 and "password" not in body["smtp"]
    assert "s3cret" not in response.text
    again = api.patch("/api/settings", headers=su, json={"smtp": {"port": 2626}})
    assert again.status_code == 200
    assert api.runtime.app_settings.get()["smtp"]["password"] == "s3cret", "an omitted secret is kept"


def test_invalid_values_are_400_and_change_nothing(api):
    su = superuser_headers(api)
    before = api.get("/api/settings", headers=su).json()
    bad = api.patch(
        "/api/settings",
        headers=su,
        json={"meta": {"appURL": "not a url"}, "rateLimits": {"rules": [{"label": "", "duration": 0}]}},
    )
    assert bad.status_code == 400
    assert set(bad.json()["data"]) == {"meta", "rateLimits"}
    assert api.get("/api/settings", headers=su).json() == before


def test_a_change_reaches_other_processes_on_their_next_request(door_kind, make_settings):
    settings = make_settings()
    a, b = open_door(door_kind, settings), open_door(door_kind, settings)
    try:
        su = superuser_headers(a)
        b.get("/api/settings", headers=su)
        a.patch("/api/settings", headers=su, json={"batch": {"enabled": True}})
        assert b.get("/api/settings", headers=su).json()["batch"]["enabled"] is True
        # enabled: the batch is read and validated (an empty one is PocketBase's 400), not refused (403)
        empty = b.post("/api/batch", headers=su, json={"requests": []})
        assert (empty.status_code, empty.json()["message"]) == (400, "Invalid batch request data.")
    finally:
        a.close()
        b.close()


# Issue 8 finding 9: values that end up in mail headers or on the SMTP wire refuse line breaks
# (PocketBase's codes: validation_is_email, validation_is_host, validation_is_url).
INJECTED = "\r\nBcc: victim@example.com"
HEADER_BOUND = [
    ({"meta": {"senderAddress": "a@b.co" + INJECTED}}, ("meta", "senderAddress"), "validation_is_email"),
    ({"meta": {"senderAddress": "a@b.co\n"}}, ("meta", "senderAddress"), "validation_is_email"),
    ({"meta": {"senderAddress": "Bob <a@b.co>"}}, ("meta", "senderAddress"), "validation_is_email"),
    ({"meta": {"senderAddress": ""}}, ("meta", "senderAddress"), "validation_required"),
    ({"meta": {"senderName": "Support" + INJECTED}}, ("meta", "senderName"), "validation_invalid_value"),
    ({"meta": {"senderName": "x" * 256}}, ("meta", "senderName"), "validation_length_out_of_range"),
    ({"meta": {"appName": "Acme\nX-Evil: 1"}}, ("meta", "appName"), "validation_invalid_value"),
    ({"meta": {"appURL": "http://a.test/\r\nX-Evil: 1"}}, ("meta", "appURL"), "validation_is_url"),
    ({"smtp": {"enabled": True, "host": "mail.test\r\nRCPT"}}, ("smtp", "host"), "validation_is_host"),
    ({"smtp": {"host": "mail.test\n"}}, ("smtp", "host"), "validation_is_host"),
    ({"smtp": {"localName": "me\r\nMAIL FROM:<x@y.z>"}}, ("smtp", "localName"), "validation_is_host"),
    ({"smtp": {"username": "me\r\nAUTH"}}, ("smtp", "username"), "validation_invalid_value"),
]  # fmt: skip


def test_header_bound_settings_refuse_line_breaks(api):
    su = superuser_headers(api)
    before = api.get("/api/settings", headers=su).json()
    for patch, (section, key), code in HEADER_BOUND:
        response = api.patch("/api/settings", headers=su, json=patch)
        assert response.status_code == 400, (patch, response.text)
        body = response.json()
        assert body["message"] == "An error occurred while saving the new settings."
        assert body["data"] == {section: {key: body["data"][section][key]}}, body
        assert body["data"][section][key]["code"] == code, (patch, body)
    assert api.get("/api/settings", headers=su).json() == before
    # well-formed values still save
    good = {"meta": {"senderAddress": "no-reply@mail.example.com", "senderName": "Acme Support"},
            "smtp": {"host": "::1", "localName": "relay-1.example.com", "username": "acme"}}  # fmt: skip
    response = api.patch("/api/settings", headers=su, json=good)
    assert response.status_code == 200, response.text
    for host in ("localhost", "127.0.0.1", "smtp.example.com"):
        assert api.patch("/api/settings", headers=su, json={"smtp": {"host": host}}).status_code == 200


def test_email_patterns_refuse_a_trailing_newline():
    """``$`` also matches before a final newline: the patterns that guard header-bound addresses
    (sender, test-mail recipient, identities) must end at the true end of the text."""
    from app.api.mail_test import _EMAIL_RE
    from app.core.collections.fields.text import EMAIL_RE

    for pattern in (EMAIL_RE, _EMAIL_RE):
        assert pattern.match("a@b.co") and not pattern.match("a@b.co\n")
