"""The in-process rate limiter (``emmettbase serve``): fixed windows counted in a dict.

Windows are aligned to multiples of their length on the limiter's clock, the same arithmetic the
DynamoDB limiter uses, so both pass one contract suite. Counters of windows that have ended are
dropped as new hits arrive, so memory stays bounded by the keys active in the current window.
Each worker process counts on its own (``--workers 2`` lets a client through up to twice).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ..auth.rate_limiter import Verdict

SWEEP_INTERVAL = 60.0


def window_bounds(now: float, window_seconds: int) -> tuple[int, int]:
    """Start and end of the fixed window holding ``now`` (aligned to multiples of its length)."""
    start = math.floor(now / window_seconds) * window_seconds
    return start, start + window_seconds


def seconds_left(now: float, end: float) -> int:
    """Whole seconds until ``end`` (at least 1: a refused client must wait)."""
    return max(1, math.ceil(end - now))


class MemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        # (key, window length) -> (window end, hits): one key counts apart per window length
        self._windows: dict[tuple[str, int], tuple[int, int]] = {}
        self._next_sweep = 0.0

    def hit(self, key: str, max_requests: int, window_seconds: int) -> Verdict:
        now = self._clock()
        _, end = window_bounds(now, window_seconds)
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            slot = (key, window_seconds)
            current_end, hits = self._windows.get(slot, (0, 0))
            if current_end != end:
                hits = 0
            if hits >= max_requests:
                return Verdict(False, seconds_left(now, end))
            self._windows[slot] = (end, hits + 1)
            return Verdict(True)

    def _sweep(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        self._next_sweep = now + SWEEP_INTERVAL
