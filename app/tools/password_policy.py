"""Refusing the most common passwords (RELIABILITY.md AUTH-5; NIST SP 800-63B 5.1.1.2).

The list is the 10,000 most frequent passwords of zxcvbn's password frequency list, loaded on the
first password that is set (not at start: it costs ~0.1 s while loading) and kept as a set of
lower-cased strings (~1 MB); the rest of zxcvbn's lists is let go. There are no composition rules:
length (8 by default) and this list are the whole policy.
"""

from __future__ import annotations

import importlib.util
import os
import threading

TOP_N = 10_000
_lock = threading.Lock()
_common: frozenset[str] | None = None


def common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        with _lock:
            if _common is None:
                _common = frozenset(p.lower() for p in _password_list()[:TOP_N])
    return _common


def _password_list() -> list[str]:
    """zxcvbn's password list, read from its data module alone: importing the ``zxcvbn`` package
    would build its matcher's dictionaries (~15 MB kept for the life of the process)."""
    spec = importlib.util.find_spec("zxcvbn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("zxcvbn is not installed")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "frequency_lists.py")
    data_spec = importlib.util.spec_from_file_location("_emmettbase_zxcvbn_lists", path)
    assert data_spec is not None and data_spec.loader is not None
    module = importlib.util.module_from_spec(data_spec)
    data_spec.loader.exec_module(module)
    return list(module.FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()
