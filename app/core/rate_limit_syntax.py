"""The syntax of the ``rateLimits`` settings, as the settings store validates it: rule audiences,
PocketBase's label grammar, ``excludedIPs`` entries, and rules that collide with an earlier one.

It lives in core because saving settings is domain work; ``app.ratelimit.rules`` (which applies the
rules to requests) builds on these definitions rather than the other way round.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any

AUDIENCE_ALL = ""
AUDIENCE_GUEST = "@guest"
AUDIENCE_AUTH = "@auth"
AUDIENCES = (AUDIENCE_ALL, AUDIENCE_GUEST, AUDIENCE_AUTH)

# The label grammar PocketBase accepts: "METHOD /path", "/path", "name:tag", "*:tag" or a bare tag.
# ASCII: Go's \w is [0-9A-Za-z_].
LABEL_RE = re.compile(r"^(?:\w+ /[\w/-]*|/[\w/-]*|\w+:\w+|\*:\w+|\w+)$", re.ASCII)


def label_is_valid(label: Any) -> bool:
    return isinstance(label, str) and bool(LABEL_RE.match(label))


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An ``excludedIPs`` entry as a network (a single address is a /32 or /128); None if invalid."""
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None


def conflicting_rule(rules: Sequence[Mapping[str, Any]]) -> int | None:
    """The index of the first rule that repeats (or, in PocketBase's prefix sense, collides with)
    the label and audience of an earlier rule; None when all are distinct."""
    seen: list[str] = []
    for index, rule in enumerate(rules):
        full = f"{rule.get('label', '')}@@{rule.get('audience') or ''}"
        if any(full.startswith(key) or key.startswith(full) for key in seen):
            return index
        seen.append(full)
    return None
