"""Hypothesis profiles for the fuzz tier.

- ``ci`` (default): 200 examples per property, derandomized (the same examples on every run, so a
  red build is reproducible), no deadline (PostgreSQL round trips vary), no example database.
- ``nightly``: 5,000 random examples per property, with the local example database so a failure
  found once is replayed first next time.

Pick one with ``HYPOTHESIS_PROFILE=nightly`` or pytest's ``--hypothesis-profile nightly``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    # no "explain" phase: it re-runs a failure ~150 times to list the lines it covers
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "nightly",
    max_examples=5000,
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
