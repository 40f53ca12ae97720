"""The one MIME builder every transport uses: ``Message`` -> RFC 5322 bytes, with its checks.

SMTP, SES (raw content) and the ``.eml`` development mailbox all send exactly what ``build`` makes,
so a message looks the same whichever door it leaves by. ``build`` is also where a message is
refused: CR/LF in a subject, name, address or header (header injection — Python 3.11 before
3.11.10 serializes such values without complaint), an address that is not a plain
``local@domain``, or a header that would override the structure this module writes.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from . import MailError, Message
from .html2text import html_to_text

#: Local part: the characters RFC 5321 allows unquoted (ASCII only: no SMTPUTF8). Domain: labels of
#: letters, digits and hyphens (an internationalized domain is IDNA-encoded first).
_LOCAL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_HEADER_NAME_RE = re.compile(r"^[!-9;-~]{1,76}$")  # printable ASCII except ':' (RFC 5322 ftext)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is the only control a header may hold
#: Headers this module writes itself: a custom header may not replace them.
RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "mime-version", "content-type", "content-transfer-encoding"}
)


@dataclass(frozen=True)
class Built:
    """A message ready for the wire: envelope sender, envelope recipients and the MIME bytes."""

    sender: str
    recipients: list[str]
    data: bytes


def check_header_value(what: str, value: str) -> str:
    if not isinstance(value, str):
        raise MailError(f"{what} must be a string")
    if _CONTROL_RE.search(value):
        raise MailError(f"{what} must not contain line breaks or control characters")
    return value


def check_address(what: str, value: str) -> str:
    """``value`` as a plain ``local@domain`` address (domain IDNA-encoded), or ``MailError``."""
    check_header_value(what, value)
    local, at, domain = value.strip().rpartition("@")
    if not at or not _LOCAL_RE.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise MailError(f"{what} is not a valid email address: {value!r}")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise MailError(f"{what} is not a valid email address: {value!r}") from None
    labels = ascii_domain.rstrip(".").split(".")
    if len(ascii_domain) > 253 or not all(_LABEL_RE.match(label) for label in labels):
        raise MailError(f"{what} is not a valid email address: {value!r}")
    return f"{local}@{ascii_domain}"


def _address(what: str, pair: tuple[str, str]) -> Address:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise MailError(f"{what} must be a (name, address) pair")
    name, addr = pair
    name = check_header_value(what + " name", name or "")
    local, _, domain = check_address(what, addr).rpartition("@")
    # headerregistry quotes and RFC 2047-encodes the display name as needed (non-ASCII, commas...).
    return Address(display_name=name, username=local, domain=domain)


def build(message: Message) -> Built:
    """Check ``message`` and turn it into MIME bytes (CRLF line endings, as SMTP wants them).

    With an empty ``text`` a plain-text part is derived from the HTML (``html2text``), so a message
    with HTML is always ``multipart/alternative``: a text part, then the HTML part.
    """
    if not message.to:
        raise MailError("a message needs at least one recipient")
    sender = _address("sender", message.sender)
    recipients = [_address("recipient", pair) for pair in message.to]
    subject = check_header_value("subject", message.subject or "")
    if not isinstance(message.html, str) or not isinstance(message.text, str):
        raise MailError("html and text must be strings")

    mime = EmailMessage(policy=SMTP)
    mime["From"] = sender
    mime["To"] = recipients
    mime["Subject"] = subject
    custom = {}
    for name, value in (message.headers or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME_RE.match(name):
            raise MailError(f"invalid header name {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise MailError(f"header {name!r} is set from the message itself")
        custom[name.lower()] = (name, check_header_value(f"header {name}", value))
    if "date" not in custom:
        mime["Date"] = formatdate(localtime=False, usegmt=True)
    if "message-id" not in custom:
        # Random at the sender's domain: email.utils.make_msgid would look up this machine's name
        # (slow) and put it and the process id into every message.
        mime["Message-ID"] = f"<{secrets.token_hex(16)}@{sender.domain}>"
    for name, value in custom.values():
        mime[name] = value

    text = message.text or html_to_text(message.html)
    # Quoted-printable keeps the bytes 7-bit: not every SMTP server announces 8BITMIME.
    mime.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if message.html:
        mime.add_alternative(message.html, subtype="html", charset="utf-8", cte="quoted-printable")
        for part in mime.iter_parts():
            del part["MIME-Version"]  # set_content adds it to every part; it belongs on top only
    try:
        data = mime.as_bytes()
    except (ValueError, TypeError) as exc:  # the policy's own header checks, as a last line
        raise MailError(f"message could not be serialized: {exc}") from None
    return Built(sender=sender.addr_spec, recipients=[r.addr_spec for r in recipients], data=data)
