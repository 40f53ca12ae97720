"""Rate limiting: the implementations of the ``RateLimiter`` port and the choice among them.

A limiter counts hits per key in fixed windows; the rules (which requests share a key, how many
hits a window allows) come from the ``rateLimits`` app settings and are applied by
``app.api.ratelimit``. ``memory`` keeps counters in the process (``emmettbase serve``);
``dynamodb`` keeps them in a table every Lambda instance shares. The port itself (``RateLimiter``,
``Verdict``) is declared by its consumers in ``app.auth.rate_limiter``; it is re-exported here.
"""

from __future__ import annotations

from ..auth.rate_limiter import RateLimiter, Verdict
from ..settings import Settings

__all__ = ["RateLimiter", "Verdict", "default_limiter"]


def default_limiter(settings: Settings) -> RateLimiter:
    """The limiter ``settings`` call for: DynamoDB when a table is named, else process memory."""
    if settings.rate_limit_table:
        from .dynamodb import DynamoDBRateLimiter

        return DynamoDBRateLimiter(settings.rate_limit_table)
    from .memory import MemoryRateLimiter

    return MemoryRateLimiter()
