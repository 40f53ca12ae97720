"""Email templates of auth collections: placeholders resolved for one record, wrapped in a layout.

A template is PocketBase's ``{subject, body}`` (``verificationTemplate``, ``resetPasswordTemplate``,
``confirmEmailChangeTemplate``, ``otp.emailTemplate``, ``authAlert.emailTemplate``). Placeholders:

    {APP_NAME} {APP_URL}     from the app settings' ``meta``
    {TOKEN}                  verification / password-reset / email-change token
    {OTP} {OTP_ID}           one-time password and the id of its ``_otps`` record
    {ALERT_INFO}             the login alert's "when and from where" line
    {RECORD:<field>}         any non-hidden field of the auth record (e.g. {RECORD:email})

Substitution is one pass over the template: a value is never scanned again, so a record field
holding ``{TOKEN}`` stays that text. Every value put into the HTML body is HTML-escaped — record
fields are written by users, and the app name by a superuser is text, not markup. Values in the
subject (a header, not HTML) are not escaped; their line breaks become spaces so a field value
can never break the header. Unknown placeholders are left as they are, as PocketBase does.

``record_message`` is what the auth flows call; ``render`` and ``record_values`` are its parts.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import orjson

from . import Message

APP_NAME = "APP_NAME"
APP_URL = "APP_URL"
TOKEN = "TOKEN"  # noqa: S105 - a placeholder name
OTP = "OTP"
OTP_ID = "OTP_ID"
ALERT_INFO = "ALERT_INFO"
RECORD_PREFIX = "RECORD:"
#: The placeholders PocketBase defines (``{RECORD:<field>}`` comes in addition).
PLACEHOLDERS = (APP_NAME, APP_URL, TOKEN, OTP, OTP_ID, ALERT_INFO)
#: Fields never offered as ``{RECORD:...}`` when no collection says which fields are hidden.
_ALWAYS_HIDDEN = frozenset({"password", "tokenKey"})

_PLACEHOLDER_RE = re.compile(r"\{([A-Z][A-Z0-9_]*|RECORD:[A-Za-z0-9_]+)\}")
_BREAKS_RE = re.compile(r"[\x00-\x1f\x7f]+")

#: The document every body is placed in (mail clients ignore most CSS: keep it small and inline-safe).
LAYOUT = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { margin: 0; padding: 24px 28px; background: #ffffff; color: #1b1b1f; font-size: 15px;
         line-height: 1.5; font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
  p { margin: 0 0 12px; }
  a { color: inherit; }
  .btn { display: inline-block; margin: 4px 0; padding: 10px 22px; border-radius: 6px; background: #1b1b1f;
         color: #ffffff !important; font-weight: 600; text-decoration: none; }
</style>
</head>
<body>
%s
</body>
</html>
"""


def as_text(value: Any) -> str:
    """A field value as the text a placeholder shows (JSON for lists and objects)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)


def record_values(record: Mapping[str, Any], collection: Any = None) -> dict[str, str]:
    """``{"RECORD:<field>": text}`` for the record's fields that are not hidden.

    ``collection`` (a ``Collection`` or ``CompiledCollection``) says which fields exist and which are
    hidden; without it every key of ``record`` is offered except ``password`` and ``tokenKey``.
    """
    definition = getattr(collection, "collection", collection)
    if definition is not None:
        names = [f.name for f in definition.fields if not f.hidden]
    else:
        names = [name for name in record if name not in _ALWAYS_HIDDEN]
    return {RECORD_PREFIX + name: as_text(record.get(name)) for name in names}


def app_values(app_settings: Mapping[str, Any]) -> dict[str, str]:
    """``APP_NAME`` and ``APP_URL`` from the settings (the whole settings, or just ``meta``)."""
    meta = app_settings.get("meta", app_settings)
    return {APP_NAME: as_text(meta.get("appName")), APP_URL: as_text(meta.get("appURL"))}


def _substitute(text: str, values: Mapping[str, str], escape: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None else escape(value)

    return _PLACEHOLDER_RE.sub(replace, text)


def render(template: Mapping[str, Any], values: Mapping[str, Any], layout: bool = True) -> tuple[str, str]:
    """``(subject, html)`` of ``template`` with ``values`` (placeholder names without braces).

    The body is wrapped in ``LAYOUT`` unless ``layout`` is false.
    """
    texts = {key: as_text(value) for key, value in values.items()}
    subject = _substitute(str(template.get("subject") or ""), texts, lambda v: _BREAKS_RE.sub(" ", v))
    body = _substitute(str(template.get("body") or ""), texts, lambda v: html.escape(v, quote=True))
    # The subject's own text may hold line breaks too (a template edited in a textarea).
    subject = _BREAKS_RE.sub(" ", subject).strip()
    return subject, (LAYOUT % body if layout else body)


def record_message(
    app_settings: Mapping[str, Any],
    template: Mapping[str, Any],
    record: Mapping[str, Any],
    to_address: str,
    *,
    collection: Any = None,
    to_name: str = "",
    **values: Any,
) -> Message:
    """The ``Message`` of an auth email to ``to_address``, ready for ``runtime.mailer.send``.

    - ``app_settings``: ``runtime.app_settings.get()`` — gives ``{APP_NAME}``, ``{APP_URL}`` and the
      sender (``meta.senderName`` / ``meta.senderAddress``);
    - ``template``: the ``{subject, body}`` from the collection's auth options;
    - ``record``: the auth record's field values; pass ``collection=`` (the record's ``Collection``
      or ``CompiledCollection``) so hidden fields stay out of ``{RECORD:...}``;
    - ``values``: the flow's placeholders by name, e.g. ``TOKEN=token``, ``OTP=password,
      OTP_ID=otp_id``, ``ALERT_INFO=info`` (case-insensitive names; they win over record fields).

    Example (password reset)::

        message = record_message(
            runtime.app_settings.get(), options["resetPasswordTemplate"], record, record["email"],
            collection=compiled, TOKEN=token,
        )
        runtime.mailer.send(message)
    """
    merged: dict[str, Any] = record_values(record, collection)
    merged.update(app_values(app_settings))
    merged.update({key.upper(): value for key, value in values.items()})
    subject, body = render(template, merged)
    meta = app_settings.get("meta", app_settings)
    sender = (as_text(meta.get("senderName")), as_text(meta.get("senderAddress")))
    return Message(to=[(to_name, to_address)], subject=subject, html=body, sender=sender)
