"""Random identifiers: record ids, tokens and strings generated from simple regex patterns.

PocketBase generates text values from an ``autogeneratePattern`` such as ``[a-z0-9]{15}``. We
support the subset such patterns use in practice: literals, escapes, character classes with ranges,
and the quantifiers ``{n}``, ``{n,m}``, ``?``. Anything else is refused with ``PatternError`` so a
collection definition cannot be saved with a pattern we cannot honour.
"""

from __future__ import annotations

import secrets
import string
from functools import lru_cache

ID_ALPHABET = string.ascii_lowercase + string.digits
MAX_GENERATED_LENGTH = 1000


class PatternError(ValueError):
    """The autogenerate pattern is outside the supported subset."""


def random_string(length: int, alphabet: str = ID_ALPHABET) -> str:
    """``length`` characters drawn uniformly from ``alphabet`` with the OS CSPRNG.

    One ``token_bytes`` call per string instead of one ``secrets.choice`` (one system call) per
    character: bytes at or above the largest multiple of the alphabet size are skipped, so the
    modulo adds no bias.
    """
    size = len(alphabet)
    if size == 1:
        return alphabet * length
    if size > 256:
        return "".join(secrets.choice(alphabet) for _ in range(length))
    limit = 256 - 256 % size
    out: list[str] = []
    while len(out) < length:
        for byte in secrets.token_bytes(length - len(out) + 8):
            if byte < limit:
                out.append(alphabet[byte % size])
                if len(out) == length:
                    break
    return "".join(out)


def record_id() -> str:
    """A PocketBase-style record id: 15 characters of ``[a-z0-9]``."""
    return random_string(15)


def _parse_class(pattern: str, pos: int) -> tuple[str, int]:
    """Parse ``[...]`` starting after ``[``; returns (alphabet, next position)."""
    chars: list[str] = []
    if pos < len(pattern) and pattern[pos] == "^":
        raise PatternError("negated character classes are not supported")
    while pos < len(pattern) and pattern[pos] != "]":
        char = pattern[pos]
        if char == "\\":
            pos += 1
            if pos >= len(pattern):
                raise PatternError("dangling escape")
            char = pattern[pos]
        if pos + 2 < len(pattern) and pattern[pos + 1] == "-" and pattern[pos + 2] != "]":
            end = pattern[pos + 2]
            if ord(end) < ord(char):
                raise PatternError(f"bad range {char}-{end}")
            chars.extend(chr(c) for c in range(ord(char), ord(end) + 1))
            pos += 3
            continue
        chars.append(char)
        pos += 1
    if pos >= len(pattern):
        raise PatternError("unterminated character class")
    if not chars:
        raise PatternError("empty character class")
    return "".join(dict.fromkeys(chars)), pos + 1


def _parse_quantifier(pattern: str, pos: int) -> tuple[int, int, int]:
    if pos < len(pattern) and pattern[pos] == "{":
        end = pattern.find("}", pos)
        if end < 0:
            raise PatternError("unterminated quantifier")
        body = pattern[pos + 1 : end]
        low, _, high = body.partition(",")
        try:
            lo = int(low)
            hi = int(high) if high else lo
        except ValueError:
            raise PatternError(f"bad quantifier {{{body}}}") from None
        if hi < lo or hi > MAX_GENERATED_LENGTH:
            raise PatternError(f"bad quantifier {{{body}}}")
        return lo, hi, end + 1
    if pos < len(pattern) and pattern[pos] == "?":
        return 0, 1, pos + 1
    if pos < len(pattern) and pattern[pos] in "*+":
        raise PatternError("unbounded quantifiers are not supported")
    return 1, 1, pos


def generate_from_pattern(pattern: str) -> str:
    """A random string matching ``pattern`` (e.g. ``[a-z0-9]{15}`` or ``post_[A-Z]{4}``)."""
    out: list[str] = []
    for alphabet, low, high in _compiled_pattern(pattern):
        count = low if low == high else low + secrets.randbelow(high - low + 1)
        out.append(random_string(count, alphabet))
    return "".join(out)


@lru_cache(maxsize=256)
def _compiled_pattern(pattern: str) -> tuple[tuple[str, int, int], ...]:
    """The pattern as (alphabet, min count, max count) parts; raises ``PatternError``."""
    pattern = pattern.removeprefix("^").removesuffix("$")
    parts: list[tuple[str, int, int]] = []
    longest = 0
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "[":
            alphabet, pos = _parse_class(pattern, pos + 1)
        elif char == "\\":
            if pos + 1 >= len(pattern):
                raise PatternError("dangling escape")
            alphabet, pos = pattern[pos + 1], pos + 2
            if alphabet == "d":
                alphabet = string.digits
            elif alphabet == "w":
                alphabet = string.ascii_letters + string.digits + "_"
        elif char in "()|.*+?{}":
            raise PatternError(f"unsupported pattern syntax {char!r}")
        else:
            alphabet, pos = char, pos + 1
        low, high, pos = _parse_quantifier(pattern, pos)
        parts.append((alphabet, low, high))
        longest += high
        if longest > MAX_GENERATED_LENGTH:
            raise PatternError("pattern generates values that are too long")
    return tuple(parts)
