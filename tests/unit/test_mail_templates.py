"""Email templates: PocketBase's placeholders, escaping of user-controlled values, the message the
auth flows get from ``record_message``, and the HTML -> text conversion of the text part."""

from __future__ import annotations

import datetime as dt
import email
from email.policy import default as default_policy

import pytest

from app.core.collections.auth_options import default_auth_options
from app.core.collections.model import Collection, Field
from app.mail.html2text import html_to_text
from app.mail.mime import build
from app.mail.templates import LAYOUT, PLACEHOLDERS, as_text, record_message, record_values, render

SETTINGS = {
    "meta": {
        "appName": "Acme",
        "appURL": "https://acme.test",
        "senderName": "Acme Support",
        "senderAddress": "support@acme.test",
    }
}
USERS = Collection(
    name="users",
    type="auth",
    fields=[
        Field(name="id", type="text"),
        Field(name="email", type="email"),
        Field(name="name", type="text"),
        Field(name="password", type="password", hidden=True),
        Field(name="tokenKey", type="text", hidden=True),
        Field(name="ssn", type="text", hidden=True),
        Field(name="verified", type="bool"),
        Field(name="age", type="number"),
    ],
)
RECORD = {
    "id": "abc123def456ghi",
    "email": "alice@example.test",
    "name": "Alice",
    "password": "$argon2id$v=19$secret-hash",
    "tokenKey": "token-key-secret",
    "ssn": "123-45-6789",
    "verified": False,
    "age": 42.0,
}


def test_the_placeholders_are_pocketbases() -> None:
    assert set(PLACEHOLDERS) == {"APP_NAME", "APP_URL", "TOKEN", "OTP", "OTP_ID", "ALERT_INFO"}


def test_default_verification_template_resolves_app_and_token() -> None:
    template = default_auth_options()["verificationTemplate"]
    subject, html = render(template, {"APP_NAME": "Acme", "APP_URL": "https://acme.test", "TOKEN": "t.o.k"})
    assert subject == "Verify your Acme email"
    assert 'href="https://acme.test/_/#/auth/confirm-verification/t.o.k"' in html
    assert "{" not in html.split("<body>")[1].split("</body>")[0], "every placeholder resolved"


@pytest.mark.parametrize(
    "name, value",
    [("OTP", "123456"), ("OTP_ID", "otp_record_id"), ("ALERT_INFO", "2026-01-01 10:00 - 198.51.100.7")],
)
def test_flow_placeholders_resolve_in_subject_and_body(name: str, value: str) -> None:
    template = {"subject": f"Code {{{name}}}", "body": f"<p>{{{name}}}</p>"}
    subject, html = render(template, {name: value}, layout=False)
    assert subject == f"Code {value}"
    assert html == f"<p>{value}</p>"


def test_record_fields_resolve_and_hidden_ones_never_do() -> None:
    template = {
        "subject": "Hi {RECORD:name}",
        "body": "<p>{RECORD:email} {RECORD:verified} {RECORD:age} {RECORD:password} {RECORD:tokenKey} "
        "{RECORD:ssn}</p>",
    }
    message = record_message(SETTINGS, template, RECORD, RECORD["email"], collection=USERS)
    assert message.subject == "Hi Alice"
    assert (
        "<p>alice@example.test false 42 {RECORD:password} {RECORD:tokenKey} {RECORD:ssn}</p>" in message.html
    )
    for secret in ("secret-hash", "token-key-secret", "123-45-6789"):
        assert secret not in message.html


def test_without_a_collection_password_and_token_key_are_still_withheld() -> None:
    values = record_values(RECORD)
    assert "RECORD:password" not in values and "RECORD:tokenKey" not in values
    assert values["RECORD:email"] == "alice@example.test"


def test_compiled_collections_are_accepted_too() -> None:
    class Compiled:  # what the registry hands out: the definition under ``.collection``
        collection = USERS

    assert "RECORD:ssn" not in record_values(RECORD, Compiled())
    assert record_values(RECORD, Compiled())["RECORD:name"] == "Alice"


def test_values_in_the_body_are_html_escaped_but_not_in_the_subject() -> None:
    hostile = {**RECORD, "name": '<img src=x onerror="alert(1)"> & Co'}
    template = {"subject": "Welcome {RECORD:name}", "body": '<p title="{RECORD:name}">{RECORD:name}</p>'}
    message = record_message(SETTINGS, template, hostile, hostile["email"], collection=USERS)
    assert "<img" not in message.html
    assert (
        '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Co">'
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Co</p>" in message.html
    )
    assert message.subject == 'Welcome <img src=x onerror="alert(1)"> & Co', "a subject is text, not HTML"


def test_app_name_is_text_in_the_body_too() -> None:
    settings = {"meta": {**SETTINGS["meta"], "appName": "Tom & Jerry <Inc>"}}
    message = record_message(
        settings, {"subject": "{APP_NAME}", "body": "<b>{APP_NAME}</b>"}, RECORD, "a@b.test"
    )
    assert "<b>Tom &amp; Jerry &lt;Inc&gt;</b>" in message.html
    assert message.subject == "Tom & Jerry <Inc>"


def test_line_breaks_in_values_cannot_break_the_subject_header() -> None:
    hostile = {**RECORD, "name": "Alice\r\nBcc: victim@evil.test"}
    message = record_message(SETTINGS, {"subject": "Hi {RECORD:name}", "body": "x"}, hostile, "a@b.test")
    assert "\r" not in message.subject and "\n" not in message.subject
    assert message.subject == "Hi Alice Bcc: victim@evil.test"
    build(message)  # the MIME builder accepts it: the value became harmless text


def test_substitution_is_one_pass() -> None:
    # A user who names themselves "{TOKEN}" must not get another value pasted in.
    sneaky = {**RECORD, "name": "{TOKEN} {APP_URL}"}
    message = record_message(
        SETTINGS, {"subject": "s", "body": "<p>{RECORD:name}|{TOKEN}</p>"}, sneaky, "a@b.test", TOKEN="real"
    )
    assert "<p>{TOKEN} {APP_URL}|real</p>" in message.html


def test_unknown_placeholders_are_left_as_written() -> None:
    subject, html = render({"subject": "{NOPE} {RECORD:missing}", "body": "{lower} {A B}"}, {}, layout=False)
    assert subject == "{NOPE} {RECORD:missing}"
    assert html == "{lower} {A B}"


def test_record_message_builds_a_complete_message() -> None:
    options = default_auth_options()
    message = record_message(
        SETTINGS, options["resetPasswordTemplate"], RECORD, RECORD["email"], collection=USERS, token="tok123"
    )
    assert message.to == [("", "alice@example.test")]
    assert message.sender == ("Acme Support", "support@acme.test")
    assert message.subject == "Reset your Acme password"
    assert message.html.startswith("<!DOCTYPE html>") and message.html.rstrip().endswith("</html>")
    assert 'href="https://acme.test/_/#/auth/confirm-password-reset/tok123"' in message.html, (
        "placeholder names given in lower case work too"
    )
    parsed = email.message_from_bytes(build(message).data, policy=default_policy)
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Reset password (https://acme.test/_/#/auth/confirm-password-reset/tok123)" in text
    assert "color:" not in text and "DOCTYPE" not in text, "the layout's head never reaches the text part"


def test_otp_and_alert_defaults_render() -> None:
    options = default_auth_options()
    otp = record_message(
        SETTINGS, options["otp"]["emailTemplate"], RECORD, "a@b.test", OTP="987654", OTP_ID="x"
    )
    assert otp.subject == "OTP for Acme" and "<strong>987654</strong>" in otp.html
    alert_template = {"subject": "New login", "body": "<p><em>{ALERT_INFO}</em></p>"}
    alert = record_message(
        SETTINGS, alert_template, RECORD, "a@b.test", ALERT_INFO="<script>x</script> Firefox"
    )
    assert "<p><em>&lt;script&gt;x&lt;/script&gt; Firefox</em></p>" in alert.html


def test_the_layout_can_be_left_out() -> None:
    _, with_layout = render({"subject": "s", "body": "<p>b</p>"}, {})
    _, without = render({"subject": "s", "body": "<p>b</p>"}, {}, layout=False)
    assert with_layout == LAYOUT % "<p>b</p>" and without == "<p>b</p>"


@pytest.mark.parametrize(
    "value, text",
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (3.0, "3"),
        (2.5, "2.5"),
        ("plain", "plain"),
        (["a", "b"], '["a","b"]'),
        ({"k": 1}, '{"k":1}'),
        (dt.datetime(2026, 1, 2, 3, 4, 5, 678000), "2026-01-02 03:04:05.678Z"),
    ],
)
def test_field_values_as_text(value: object, text: str) -> None:
    assert as_text(value) == text


# -- html -> text -----------------------------------------------------------------------------------


def test_html_to_text_keeps_words_paragraphs_lists_and_link_targets() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<h1>Welcome</h1><p>Hello&nbsp;<b>Alice</b> &amp; co,<br>second line</p>"
        "<ul><li>one</li><li>two</li></ul>"
        '<p><a href="https://acme.test/a?b=1&amp;c=2">Confirm</a> or <a href="https://acme.test/x">'
        'https://acme.test/x</a> or <a href="#top">top</a></p>'
        "<script>steal()</script><p>  spaced\n\n   out  </p></body></html>"
    )
    assert html_to_text(html) == (
        "Welcome\n\nHello\xa0Alice & co,\nsecond line\n\n- one\n- two\n\n"
        "Confirm (https://acme.test/a?b=1&c=2) or https://acme.test/x or top\n\nspaced out"
    )


def test_html_to_text_survives_broken_markup() -> None:
    assert (
        html_to_text("<p>unclosed <b>bold <a href='https://x.test'>link")
        == "unclosed bold link (https://x.test)"
    )
    assert html_to_text("") == ""
    assert html_to_text("plain & simple") == "plain & simple"
