"""The in-process rate limiter (``emmettbase serve``): fixed windows counted in a dict.

Counters of windows that have ended are dropped as new hits arrive, so memory stays bounded by
the number of keys active in the current window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from . import Verdict


class MemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, hits)
        self._next_sweep = 0.0

    def hit(self, key: str, max_requests: int, window_seconds: int) -> Verdict:
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            end, hits = self._windows.get(key, (0.0, 0))
            if now >= end:
                end, hits = now + window_seconds, 0
            if hits >= max_requests:
                return Verdict(False, max(1, int(end - now + 0.999)))
            self._windows[key] = (end, hits + 1)
            return Verdict(True)

    def _sweep(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        self._next_sweep = now + 60
