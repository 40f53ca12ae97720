"""``SmtpTransport``: delivery through the SMTP server configured in the app settings (``smtp``).

Behaviour follows PocketBase's SMTP settings:
- ``tls: true`` connects with implicit TLS (SMTPS, usually port 465);
- ``tls: false`` connects in plain text and upgrades with STARTTLS whenever the server offers it
  (so "Auto (StartTLS)" is the safe default for port 587);
- credentials are sent with AUTH PLAIN (the default) or AUTH LOGIN when a username or password is
  set — and, like Go's ``net/smtp`` that PocketBase uses, never over an unencrypted connection to
  anything but the loopback interface;
- ``localName`` is the EHLO name (default ``localhost``, which also spares smtplib's DNS lookup of
  this machine's name).

Server certificates are verified against the system trust store (``ssl_context`` replaces that,
e.g. for a private CA). Each ``send`` opens one connection, sends one message and closes it.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from collections.abc import Mapping
from typing import Any

from . import MailError, Message
from .mime import build, check_header_value

log = logging.getLogger("emmettbase.mail")

AUTH_PLAIN = "PLAIN"
AUTH_LOGIN = "LOGIN"
DEFAULT_TIMEOUT = 15.0


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SmtpTransport:
    def __init__(
        self,
        host: str,
        port: int = 587,
        username: str = "",
        password: str = "",
        auth_method: str = "",
        tls: bool = False,
        local_name: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ):
        if auth_method.upper() not in ("", AUTH_PLAIN, AUTH_LOGIN):
            raise MailError(f"unsupported SMTP auth method {auth_method!r} (PLAIN or LOGIN)")
        self.host = host
        self.port = int(port)
        self.username = username
        self.password = password
        self.auth_method = auth_method.upper() or AUTH_PLAIN
        self.tls = tls
        self.local_name = local_name or "localhost"
        self.timeout = timeout
        self.ssl_context = ssl_context

    @classmethod
    def from_settings(cls, smtp: Mapping[str, Any], **overrides: Any) -> SmtpTransport:
        """A transport for the ``smtp`` section of the app settings (PocketBase's SMTPConfig)."""
        values: dict[str, Any] = {
            "host": str(smtp.get("host") or ""),
            "port": int(smtp.get("port") or 587),
            "username": str(smtp.get("username") or ""),
            "password": str(smtp.get("password") or ""),
            "auth_method": str(smtp.get("authMethod") or ""),
            "tls": bool(smtp.get("tls")),
            "local_name": str(smtp.get("localName") or ""),
        }
        values.update(overrides)
        return cls(**values)

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpTransport({self.host}:{self.port}, tls={self.tls}, auth={bool(self.username)})"

    def send(self, message: Message) -> None:
        built = build(message)  # refuses a bad message before any connection is made
        if not self.host:
            raise MailError("SMTP host is not configured")
        check_header_value("SMTP local name", self.local_name)
        context = self.ssl_context or ssl.create_default_context()
        client: smtplib.SMTP | None = None
        try:
            if self.tls:
                client = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self.local_name,
                    timeout=self.timeout,
                    context=context,
                )
            else:
                client = smtplib.SMTP(
                    self.host, self.port, local_hostname=self.local_name, timeout=self.timeout
                )
            client.ehlo()
            encrypted = self.tls
            if not self.tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()  # the capabilities before STARTTLS must not be trusted
                encrypted = True
            if self.username or self.password:
                self._authenticate(client, encrypted)
            refused = client.sendmail(built.sender, built.recipients, built.data)
            if refused:
                # Some recipients took the message: raising would make a retry send it twice.
                log.warning("SMTP server refused %d of %d recipients", len(refused), len(built.recipients))
        except MailError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"SMTP authentication failed ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
            raise MailError(f"SMTP server answered {exc.smtp_code} {detail}".strip()) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"SMTP server refused all {len(exc.recipients)} recipients") from None
        except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError and timeouts are OSErrors
            raise MailError(f"SMTP delivery to {self.host}:{self.port} failed: {exc}") from None
        finally:
            if client is not None:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()

    def _authenticate(self, client: smtplib.SMTP, encrypted: bool) -> None:
        if not encrypted and not _is_loopback(self.host):
            raise MailError(
                "refusing to send SMTP credentials over an unencrypted connection "
                "(the server offers no STARTTLS: enable TLS or use a server that does)"
            )
        client.user, client.password = self.username, self.password
        if self.auth_method == AUTH_LOGIN:
            client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        else:
            client.auth("PLAIN", client.auth_plain)
