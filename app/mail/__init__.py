"""Outgoing mail: the ``Message`` value, the ``MailTransport`` port and the ``Mailer`` service.

Transports: SMTP (when the app settings enable it, as in PocketBase), Amazon SES (the AWS door),
and a development transport writing ``.eml`` files under the data dir. ``Mailer`` picks the
transport for each message from the current settings, so a settings change applies at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Message:
    to: list[tuple[str, str]]  # (name, address) pairs; name may be ""
    subject: str
    html: str
    text: str = ""
    sender: tuple[str, str] = ("", "")
    headers: dict[str, str] = field(default_factory=dict)


class MailTransport(Protocol):
    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise ``MailError``."""
        ...


class MailError(Exception):
    """A message could not be handed to the transport."""
