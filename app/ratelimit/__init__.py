"""Rate limiting: the ``RateLimiter`` port and the choice of its implementation.

A limiter counts hits per key in fixed windows; the rules (which requests share a key, how many
hits a window allows) come from the ``rateLimits`` app settings and are applied by
``app.api.ratelimit``. ``memory`` keeps counters in the process (``emmettbase serve``);
``dynamodb`` keeps them in a table every Lambda instance shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..settings import Settings


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    #: Seconds until the key may be hit again (0 when allowed).
    retry_after: int = 0


class RateLimiter(Protocol):
    def hit(self, key: str, max_requests: int, window_seconds: int) -> Verdict:
        """Count one hit of ``key``; refuse it when the window already holds ``max_requests``."""
        ...


def default_limiter(settings: Settings) -> RateLimiter:
    """The limiter ``settings`` call for: DynamoDB when a table is named, else process memory."""
    if settings.rate_limit_table:
        from .dynamodb import DynamoDBRateLimiter

        return DynamoDBRateLimiter(settings.rate_limit_table)
    from .memory import MemoryRateLimiter

    return MemoryRateLimiter()
