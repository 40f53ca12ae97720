"""``POST /api/settings/test/email``: superusers send a sample of an auth collection's template,
through the development mailbox (``<data dir>/mails/*.eml``) or the SMTP server of the settings."""

from __future__ import annotations

import email
import os
import re
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from tests.contract.test_mail_transports import SmtpServer, free_port
from tests.support.scenario import create_user, superuser_headers, user_headers

URL = "/api/settings/test/email"
JWT_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def mailbox(door: Any) -> list[EmailMessage]:
    directory = os.path.join(door.runtime.settings.data_path, "mails")
    if not os.path.isdir(directory):
        return []
    out = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as handle:
            out.append(email.message_from_binary_file(handle, policy=default_policy))
    return out  # type: ignore[return-value]


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_only_superusers_may_send(api: Any) -> None:
    body = {"template": "verification", "email": "someone@example.test"}
    assert api.post(URL, json=body).status_code == 401
    create_user(api, "user@example.test")
    response = api.post(URL, json=body, headers=user_headers(api, "user@example.test"))
    assert response.status_code == 403
    assert mailbox(api) == []


def test_verification_sample_lands_in_the_dev_mailbox(api: Any) -> None:
    su = superuser_headers(api)
    response = api.post(URL, headers=su, json={"template": "verification", "email": "dev@example.test"})
    assert response.status_code == 204, response.text
    assert response.content == b""
    [sent] = mailbox(api)
    assert [a.addr_spec for a in sent["To"].addresses] == ["dev@example.test"]
    assert sent["From"].addresses[0].addr_spec == "support@example.com"
    assert sent["From"].addresses[0].display_name == "Support"
    assert sent["Subject"] == "Verify your Acme email"
    match = re.search(r'href="http://localhost:8090/_/#/auth/confirm-verification/([^"]+)"', html_of(sent))
    assert match and JWT_RE.match(match.group(1)), "a token shaped like the real one"
    text = sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Verify (http://localhost:8090/_/#/auth/confirm-verification/" in text


#: test template name -> (where the template sits in the collection's options, what fills it in)
SAMPLES = {
    "verification": (("verificationTemplate",), "{TOKEN}", re.compile(r"ey[\w-]+\.[\w-]+\.[\w-]+")),
    "password-reset": (("resetPasswordTemplate",), "{TOKEN}", re.compile(r"ey[\w-]+\.[\w-]+\.[\w-]+")),
    "email-change": (("confirmEmailChangeTemplate",), "{TOKEN}", re.compile(r"ey[\w-]+\.[\w-]+\.[\w-]+")),
    "otp": (("otp", "emailTemplate"), "{OTP}", re.compile("123456")),
    "login-alert": (("authAlert", "emailTemplate"), "{ALERT_INFO}", re.compile(r"203\.0\.113\.1")),
}


@pytest.mark.parametrize("template", list(SAMPLES))
def test_every_template_of_an_auth_collection(api: Any, template: str) -> None:
    su = superuser_headers(api)
    users = api.get("/api/collections/users", headers=su).json()
    path, placeholder, filled = SAMPLES[template]
    expected: Any = users
    for key in path:
        expected = expected[key]
    response = api.post(
        URL, headers=su, json={"template": template, "email": "a@example.test", "collection": "users"}
    )
    assert response.status_code == 204, response.text
    [sent] = mailbox(api)
    assert sent["Subject"] == expected["subject"].replace("{APP_NAME}", "Acme")
    html = html_of(sent)
    assert "{APP_NAME}" not in html and "{APP_URL}" not in html
    if placeholder in expected["body"]:
        assert placeholder not in html and filled.search(html), f"{placeholder} is filled in"


def test_the_collections_own_template_and_record_placeholders(api: Any) -> None:
    su = superuser_headers(api)
    users = api.get("/api/collections/users", headers=su).json()
    template = {
        "subject": "{APP_NAME}: hello {RECORD:name}",
        "body": "<p>{RECORD:email} / {RECORD:name} / {RECORD:password} / {TOKEN}</p>",
    }
    response = api.patch(
        f"/api/collections/{users['id']}", headers=su, json={"verificationTemplate": template}
    )
    assert response.status_code == 200, response.text
    api.patch("/api/settings", headers=su, json={"meta": {"appName": "Mine & Co"}})
    response = api.post(
        URL,
        headers=su,
        json={"template": "verification", "email": "x@example.test", "collection": users["id"]},
    )
    assert response.status_code == 204, response.text
    [sent] = mailbox(api)
    assert sent["Subject"] == "Mine & Co: hello __test_name__"
    html = html_of(sent)
    assert "<p>x@example.test / __test_name__ / {RECORD:password} / ey" in html, (
        "hidden fields stay unresolved"
    )


def test_login_alert_sample_fills_the_alert_info(api: Any) -> None:
    su = superuser_headers(api)
    alert = {
        "enabled": True,
        "emailTemplate": {"subject": "New sign-in", "body": "<p>Seen: {ALERT_INFO}</p>"},
    }
    response = api.patch("/api/collections/users", headers=su, json={"authAlert": alert})
    assert response.status_code == 200, response.text
    response = api.post(
        URL, headers=su, json={"template": "login-alert", "email": "a@example.test", "collection": "users"}
    )
    assert response.status_code == 204, response.text
    [sent] = mailbox(api)
    assert sent["Subject"] == "New sign-in"
    assert re.search(
        r"<p>Seen: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC - 203\.0\.113\.1 \(test user agent\)</p>", html_of(sent)
    )


def test_through_the_smtp_server_of_the_settings(api: Any) -> None:
    server = SmtpServer().start()
    try:
        su = superuser_headers(api)
        response = api.patch(
            "/api/settings",
            headers=su,
            json={"smtp": {"enabled": True, "host": "127.0.0.1", "port": server.port},
                  "meta": {"senderName": "Acme Mailer", "senderAddress": "mailer@acme.test"}},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        response = api.post(URL, headers=su, json={"template": "otp", "email": "smtp@example.test"})
        assert response.status_code == 204, response.text
        [received] = server.received
        assert received.sender == "mailer@acme.test"
        assert received.recipients == ["smtp@example.test"]
        assert received.parsed["Subject"] == "OTP for Acme"
        assert mailbox(api) == [], "with SMTP enabled nothing goes to the dev mailbox"
    finally:
        server.stop()


def test_a_failing_transport_is_a_400_with_the_reason(api: Any) -> None:
    su = superuser_headers(api)
    api.patch(
        "/api/settings",
        headers=su,
        json={"smtp": {"enabled": True, "host": "127.0.0.1", "port": free_port()}},
    )
    response = api.post(URL, headers=su, json={"template": "verification", "email": "a@example.test"})
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("Failed to send the test email. Raw error: \n")
    assert "127.0.0.1" in body["message"] and body["data"] == {}


@pytest.mark.parametrize(
    "body, errors",
    [
        ({}, {"email": "validation_required", "template": "validation_required"}),
        ({"template": "welcome", "email": "a@example.test"}, {"template": "validation_in_invalid"}),
        ({"template": "otp", "email": "not an email"}, {"email": "validation_is_email"}),
        (
            {"template": "otp", "email": "a@example.test\r\nBcc: b@evil.test"},
            {"email": "validation_is_email"},
        ),
        (
            {"template": "otp", "email": "a@example.test", "collection": "missing"},
            {"collection": "validation_invalid_auth_collection"},
        ),
        (
            {"template": "otp", "email": "a@example.test", "collection": "x" * 256},
            {"collection": "validation_length_out_of_range"},
        ),
    ],
    ids=["empty", "template", "email", "email-injection", "collection", "collection-length"],
)
def test_invalid_input_is_400_with_field_errors(
    api: Any, body: dict[str, Any], errors: dict[str, str]
) -> None:
    response = api.post(URL, headers=superuser_headers(api), json=body)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["message"] == "Failed to send the test email."
    assert {key: value["code"] for key, value in payload["data"].items()} == errors
    assert mailbox(api) == []


def test_a_base_collection_is_not_an_auth_collection(api: Any) -> None:
    su = superuser_headers(api)
    created = api.post("/api/collections", headers=su, json={"name": "notes", "type": "base", "fields": []})
    assert created.status_code == 200, created.text
    response = api.post(
        URL, headers=su, json={"template": "otp", "email": "a@example.test", "collection": "notes"}
    )
    assert response.status_code == 400
    assert response.json()["data"]["collection"]["code"] == "validation_invalid_auth_collection"


def test_non_string_values_are_a_malformed_body(api: Any) -> None:
    response = api.post(URL, headers=superuser_headers(api), json={"template": ["otp"], "email": 5})
    assert response.status_code == 400
    assert response.json()["data"] == {}
