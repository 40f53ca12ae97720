"""``EmlFileTransport``: the development mailer — each message becomes a ``.eml`` file.

Used when neither SMTP (app settings) nor SES (``EMMETTBASE_SES_REGION``) is configured, so a fresh
``emmettbase serve`` can run the verification, password-reset and OTP flows without a mail server:
open ``<data dir>/mails/*.eml`` in any mail client or read it as text. These files hold live tokens
(reset links, one-time passwords): they are created readable by the owner only, and the log line
names the file, never its content. Not meant for production.

File names are ``<UTC time to the microsecond>-<random>.eml``: they sort in sending order and
never collide (the file is created exclusively, written, then renamed into place so a reader never
sees half a message).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from datetime import UTC, datetime

from . import MailError, Message
from .mime import build

log = logging.getLogger("emmettbase.mail")

MAILBOX_DIR = "mails"


class EmlFileTransport:
    def __init__(self, data_dir: str):
        self.directory = os.path.join(os.path.abspath(data_dir), MAILBOX_DIR)

    def send(self, message: Message) -> None:
        self.write(message)

    def write(self, message: Message) -> str:
        """Write ``message`` and return the path of its file."""
        built = build(message)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{secrets.token_hex(4)}.eml"
        path = os.path.join(self.directory, name)
        partial = os.path.join(self.directory, "." + name + ".part")
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(built.data)
            os.replace(partial, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise MailError(f"could not write the message to {self.directory}: {exc.strerror}") from None
        log.info("mail written to %s", path)
        return path

    def messages(self) -> list[str]:
        """Paths of the written messages, oldest first."""
        try:
            names = sorted(n for n in os.listdir(self.directory) if n.endswith(".eml"))
        except FileNotFoundError:
            return []
        return [os.path.join(self.directory, n) for n in names]
