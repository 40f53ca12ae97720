"""Fixtures shared by the API scenario tests of this folder."""

from __future__ import annotations

import pytest

from tests.support.ratelimit import Clock, freeze_rate_limits


@pytest.fixture
def clock(api) -> Clock:
    """The door's rate limiter on a frozen clock (``tests.support.ratelimit``)."""
    return freeze_rate_limits(api)
