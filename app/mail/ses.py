"""``SesTransport``: delivery through Amazon SES (API v2 ``SendEmail`` with raw content).

The AWS door's mailer, chosen when ``EMMETTBASE_SES_REGION`` is set and SMTP is not enabled in the
app settings. The message is the same MIME the SMTP transport sends (``app.mail.mime``), so text
and HTML parts, encoded headers and the injection checks are identical. The sender address (or
its domain) must be a verified SES identity, and the function needs ``ses:SendRawEmail`` /
``ses:SendEmail`` on it. The transport is synchronous; on AWS, sends will go through the outbox
(a dispatcher outside the VPC calls this), since SES is a public endpoint.
"""

from __future__ import annotations

import logging
from typing import Any

from . import MailError, Message
from .mime import build

log = logging.getLogger("emmettbase.mail")

#: SES rejects a raw message larger than this (10 MB for API v2).
MAX_RAW_SIZE = 10 * 1024 * 1024
#: botocore's defaults wait 60 s to connect and 60 s per read, with retries on top: a stalled SES
#: endpoint would hold a request (or a Lambda invocation) for minutes. Bounded: a few seconds to
#: connect, ten to answer, three attempts in all with botocore's standard backoff.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
MAX_ATTEMPTS = 3


def client_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    )


class SesTransport:
    def __init__(self, region: str, client: Any = None, configuration_set: str = ""):
        self.region = region
        self.configuration_set = configuration_set
        self._client = client

    @property
    def client(self) -> Any:
        # boto3 is imported and the client built on first use: a cold start that sends no mail
        # pays nothing for it (a client costs ~100 ms).
        if self._client is None:
            import boto3

            self._client = boto3.client("sesv2", region_name=self.region, config=client_config())
        return self._client

    def send(self, message: Message) -> None:
        built = build(message)
        if len(built.data) > MAX_RAW_SIZE:
            raise MailError("message is larger than SES accepts (10 MB)")
        request: dict[str, Any] = {
            # The bare address: a display name with non-ASCII characters would need encoding here,
            # and the MIME ``From`` header already carries the name.
            "FromEmailAddress": built.sender,
            "Destination": {"ToAddresses": built.recipients},
            "Content": {"Raw": {"Data": built.data}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.send_email(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise MailError(f"SES refused the message: {error.get('Code')}: {error.get('Message')}") from None
        except BotoCoreError as exc:
            raise MailError(f"SES request failed: {exc}") from None
        log.info("mail sent through SES (message id %s)", response.get("MessageId"))
