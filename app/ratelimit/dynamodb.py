"""The shared rate limiter: fixed-window counters in a DynamoDB table every Lambda instance uses.

Table schema (created by the CDK stack):

- partition key ``pk`` (String), no sort key: ``"<limiter key>#<window length>#<window start>"``
  — one item per key and window, windows aligned to multiples of their length in Unix seconds;
- ``hits`` (Number): the hits counted in that window;
- ``expiresAt`` (Number, Unix seconds): the window's end; enable TTL on this attribute so
  DynamoDB deletes items of ended windows (lazily: an ended window's item is never read again,
  since the next window has another ``pk``);
- billing: on-demand suits it (one write per limited request, nothing else).

A hit is one conditional ``UpdateItem`` (``ADD hits 1`` if the item is new or ``hits < max``),
atomic on the DynamoDB side, so concurrent instances never let more than ``max`` through in a
window. A refused condition, and throttling of the table, refuse the hit. Any other failure
(table missing, network) lets it through and logs: an outage of the limiter table must not
lock every user out of signing in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..auth.rate_limiter import Verdict
from .memory import seconds_left, window_bounds

log = logging.getLogger("emmettbase.ratelimit")

PARTITION_KEY = "pk"
TTL_ATTRIBUTE = "expiresAt"
COUNT_ATTRIBUTE = "hits"
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
_UPDATE = f"ADD {COUNT_ATTRIBUTE} :one SET {TTL_ATTRIBUTE} = :expires"
_CONDITION = f"attribute_not_exists({COUNT_ATTRIBUTE}) OR {COUNT_ATTRIBUTE} < :max"


def new_client() -> Any:
    """A DynamoDB client with short timeouts: the check sits in front of a request."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=2, retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("dynamodb", config=config)


class DynamoDBRateLimiter:
    def __init__(self, table_name: str, client: Any = None, clock: Callable[[], float] = time.time):
        self.table_name = table_name
        self._client = client
        self._client_lock = threading.Lock()
        # Wall-clock time: windows must line up across instances (Lambda clocks are NTP-synced).
        self._clock = clock

    @property
    def client(self) -> Any:
        # Created on the first hit, not at cold start: most requests never consult the limiter.
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = new_client()
        return self._client

    def hit(self, key: str, max_requests: int, window_seconds: int) -> Verdict:
        from botocore.exceptions import BotoCoreError, ClientError

        now = self._clock()
        start, end = window_bounds(now, window_seconds)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={PARTITION_KEY: {"S": f"{key}#{window_seconds}#{start}"}},
                UpdateExpression=_UPDATE,
                ConditionExpression=_CONDITION,
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":max": {"N": str(max_requests)},
                    ":expires": {"N": str(end)},
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                return Verdict(False, seconds_left(now, end))
            if code in THROTTLING_CODES:
                # The table is overloaded, most likely by the traffic being limited: refuse, briefly.
                log.warning("rate limit table %s throttled: refusing the hit", self.table_name)
                return Verdict(False, 1)
            log.error("rate limit table %s failed (%s): letting the hit through", self.table_name, code)
            return Verdict(True)
        except BotoCoreError as exc:
            log.error("rate limit table %s unreachable (%s): letting the hit through", self.table_name, exc)
            return Verdict(True)
        return Verdict(True)
