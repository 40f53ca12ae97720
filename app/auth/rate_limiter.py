"""The ``RateLimiter`` port, declared where it is consumed.

The auth flows (OTP attempts, the resend interval of verification mails) and the HTTP layer's
``rateLimits`` guard (``app.api.ratelimit``, ``app.api.batch``) count hits through it; the HTTP layer
may import this lower layer, so the port lives here. Implementations (``app.ratelimit.memory``,
``app.ratelimit.dynamodb``) depend on this module, never the other way round; the composition root
(``app.composition``) picks one from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    #: Seconds until the key may be hit again (0 when allowed).
    retry_after: int = 0


class RateLimiter(Protocol):
    def hit(self, key: str, max_requests: int, window_seconds: int) -> Verdict:
        """Count one hit of ``key``; refuse it when the window already holds ``max_requests``."""
        ...
