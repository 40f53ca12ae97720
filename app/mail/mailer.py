"""The ``Mailer`` service: fills the sender from the app settings and picks the transport.

The transport is chosen per message from the current settings: SMTP when ``smtp.enabled`` (as in
PocketBase), else Amazon SES when ``EMMETTBASE_SES_REGION`` is set, else ``.eml`` files under
``<data dir>/mails`` (development). A transport given explicitly (tests, embedding) always wins.
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from . import MailTransport, Message


class Mailer:
    def __init__(self, settings: Settings, app_settings: Any, transport: MailTransport | None = None):
        self.settings = settings
        self.app_settings = app_settings
        self.transport = transport

    def send(self, message: Message) -> None:
        current = self.app_settings.get()
        if not message.sender[1]:
            meta = current["meta"]
            message.sender = (str(meta.get("senderName") or ""), str(meta.get("senderAddress") or ""))
        self.transport_for(current).send(message)

    def transport_for(self, current: dict[str, Any]) -> MailTransport:
        if self.transport is not None:
            return self.transport
        smtp = current.get("smtp") or {}
        if smtp.get("enabled"):
            from .smtp import SmtpTransport

            return SmtpTransport.from_settings(smtp)
        if self.settings.ses_region:
            from .ses import SesTransport

            return SesTransport(self.settings.ses_region)
        from .files import EmlFileTransport

        return EmlFileTransport(self.settings.data_path)
