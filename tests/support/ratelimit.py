"""Rate-limit test helpers: a frozen clock for the in-memory limiter, and the settings call that
sets the ``rateLimits`` rules (used by the rate-limit, path-spelling and OTP attempt tests)."""

from __future__ import annotations

from typing import Any

from app.ratelimit.memory import MemoryRateLimiter

# 1_000_000 s lies 40 s into the 60-second window [999_960, 1_000_020).
START = 1_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def freeze_rate_limits(api: Any) -> Clock:
    """Swap the door's limiter for an in-memory one on a frozen clock (a window ends only when the
    test moves ``clock.now``)."""
    clock = Clock()
    api.runtime.rate_limiter = MemoryRateLimiter(clock=clock)
    return clock


def set_limits(
    api: Any, su: dict[str, str], rules: list[dict[str, Any]] | None = None, **section: Any
) -> None:
    body: dict[str, Any] = {"rateLimits": dict(section)}
    if rules is not None:
        body["rateLimits"]["rules"] = [{"audience": "", "duration": 60, **r} for r in rules]
    response = api.patch("/api/settings", headers=su, json=body)
    assert response.status_code == 200, response.text
