"""Reading what the development mailer sent: the ``.eml`` files under ``<data dir>/mails``."""

from __future__ import annotations

import email
import os
import re
from dataclasses import dataclass
from email import policy
from typing import Any


@dataclass
class Mail:
    to: str
    subject: str
    html: str
    text: str

    def link_token(self) -> str:
        """The token at the end of the first ``.../#/auth/<action>/<token>`` link."""
        match = re.search(r"/_/#/auth/[a-z-]+/([A-Za-z0-9_\-.]+)", self.html)
        assert match, self.html
        return match.group(1)

    def otp(self) -> str:
        match = re.search(r"<strong>(\d+)</strong>", self.html)
        assert match, self.html
        return match.group(1)


def mails(door: Any) -> list[Mail]:
    """Every message sent so far, oldest first (waits for background sends to finish)."""
    runtime = door.runtime
    runtime.mail_queue.drain()
    directory = os.path.join(runtime.settings.data_path, "mails")
    if not os.path.isdir(directory):
        return []
    out = []
    for name in sorted(n for n in os.listdir(directory) if n.endswith(".eml")):
        with open(os.path.join(directory, name), "rb") as handle:
            message = email.message_from_binary_file(handle, policy=policy.default)
        html = message.get_body(("html",))
        text = message.get_body(("plain",))
        out.append(
            Mail(
                to=str(message["To"]),
                subject=str(message["Subject"]),
                html=html.get_content() if html is not None else "",  # type: ignore[union-attr]
                text=text.get_content() if text is not None else "",  # type: ignore[union-attr]
            )
        )
    return out


def last_mail(door: Any, to: str) -> Mail:
    sent = [m for m in mails(door) if to in m.to]
    assert sent, f"no mail to {to}"
    return sent[-1]
