"""The ``Mailer`` service: fills the sender from the app settings and picks the transport.

The transport is chosen per message from the current settings: SMTP when ``smtp.enabled`` (as in
PocketBase), else Amazon SES when ``EMMETTBASE_SES_REGION`` is set, else ``.eml`` files under
``<data dir>/mails`` (development). A transport given explicitly (tests, embedding) always wins.
SMTP is built from the settings for each message (a settings change applies at once); the SES
client and the file mailbox are built once and kept.

``send`` blocks (an SMTP exchange can take seconds). Async handlers use ``send_async``: the settings
are read on the calling thread (the request's worker thread, or the loop's on Lambda: database
access stays with the request's own unit of work), only the network or file work runs in a
worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..settings import Settings
from . import MailTransport, Message


class Mailer:
    def __init__(self, settings: Settings, app_settings: Any, transport: MailTransport | None = None):
        self.settings = settings
        self.app_settings = app_settings
        self.transport = transport
        self._kept: dict[str, MailTransport] = {}

    def send(self, message: Message) -> None:
        self.prepare(message).send(message)

    async def send_async(self, message: Message) -> None:
        transport = self.prepare(message)
        await asyncio.to_thread(transport.send, message)

    def prepare(self, message: Message) -> MailTransport:
        """Fill the sender from ``meta`` when the message has none; return the transport to use."""
        current = self.app_settings.get()
        if not message.sender[1]:
            meta = current["meta"]
            message.sender = (str(meta.get("senderName") or ""), str(meta.get("senderAddress") or ""))
        return self.transport_for(current)

    def transport_for(self, current: dict[str, Any]) -> MailTransport:
        if self.transport is not None:
            return self.transport
        smtp = current.get("smtp") or {}
        if smtp.get("enabled"):
            from .smtp import SmtpTransport

            return SmtpTransport.from_settings(smtp)
        if self.settings.ses_region:
            if "ses" not in self._kept:
                from .ses import SesTransport

                self._kept["ses"] = SesTransport(self.settings.ses_region)
            return self._kept["ses"]
        if "files" not in self._kept:
            from .files import EmlFileTransport

            self._kept["files"] = EmlFileTransport(self.settings.data_path)
        return self._kept["files"]
