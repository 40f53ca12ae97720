"""Which requests already did something that must not happen twice.

The API pipe retries a request that met a stale schema cache (another process changed the
schema). A retry is safe only while nothing took effect: no transaction committed, no mail was
queued. Those places call ``note``; the pipe opens a fresh ``track`` marker for each attempt and
retries only when it is still zero. Outside a tracked request ``note`` costs one ContextVar read.
"""

from __future__ import annotations

from contextvars import ContextVar

_MARKER: ContextVar[list[int] | None] = ContextVar("emmettbase_effects", default=None)


def track() -> list[int]:
    """Start counting effects in the current context; the returned list's one item is the count."""
    marker = [0]
    _MARKER.set(marker)
    return marker


def note() -> None:
    """Record that the current request did something a retry would repeat."""
    marker = _MARKER.get()
    if marker is not None:
        marker[0] += 1
