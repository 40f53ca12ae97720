"""The ``fields`` query parameter: pick keys (``id,title,expand.author.name``), ``*`` for all keys of a
level, and the ``:excerpt(maxLength, withEllipsis)`` modifier that turns rich text into a short
plain-text excerpt.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest

MAX_FIELDS_LENGTH = 2000
_EXCERPT_RE = re.compile(r"^excerpt\(\s*(\d+)\s*(?:,\s*(true|false|1|0|t|f)\s*)?\)$", re.IGNORECASE)
_TAGS_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")
LEAF = None


@dataclass(frozen=True)
class Excerpt:
    length: int
    ellipsis: bool


Tree = dict[str, Any]


def parse_fields(raw: str) -> Tree | None:
    """The projection tree of a ``fields`` value; None when there is nothing to project."""
    if not raw or not raw.strip():
        return None
    if len(raw) > MAX_FIELDS_LENGTH:
        raise BadRequest(detail="The fields parameter is too long.")
    tree: Tree = {}
    for item in _split(raw):
        item = item.strip()
        if not item:
            continue
        path, _, modifier = item.partition(":")
        leaf: Any = LEAF
        if modifier:
            match = _EXCERPT_RE.match(modifier.strip())
            if not match:
                raise BadRequest(detail=f"Unsupported fields modifier {modifier!r}.")
            leaf = Excerpt(
                min(int(match.group(1)), 100000), (match.group(2) or "false").lower() in ("true", "1", "t")
            )
        node = tree
        parts = [p.strip() for p in path.split(".")]
        if any(not p for p in parts) or len(parts) > 8:
            raise BadRequest(detail=f"Invalid fields path {path!r}.")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = leaf
    return tree or None


def _split(raw: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in raw:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def project(value: Any, tree: Tree, memo: dict[tuple[int, int], Any] | None = None) -> Any:
    """``value`` cut down to ``tree``. Expanded records are shared dicts (one per fetched record,
    see expand.py); the memo projects each (dict, subtree) pair once and shares the result, so the
    projection stays as small as its input instead of copying every repetition."""
    if isinstance(value, list):
        if memo is None:
            memo = {}
        return [project(item, tree, memo) for item in value]
    if not isinstance(value, dict):
        return value
    if memo is None:
        memo = {}
    # Both objects outlive the call (the caller holds them), so their ids stay unique meanwhile.
    key = (id(value), id(tree))
    done = memo.get(key)
    if done is not None:
        return done
    out: dict[str, Any] = dict(value) if "*" in tree else {}
    for name, sub in tree.items():
        if name == "*" or name not in value:
            continue
        if sub is LEAF:
            out[name] = value[name]
        elif isinstance(sub, Excerpt):
            out[name] = excerpt(value[name], sub.length, sub.ellipsis)
        else:
            out[name] = project(value[name], sub, memo)
    memo[key] = out
    return out


def excerpt(value: Any, length: int, ellipsis: bool) -> Any:
    if not isinstance(value, str):
        return value
    text = _SPACE_RE.sub(" ", html.unescape(_TAGS_RE.sub(" ", value))).strip()
    if len(text) <= length:
        return text
    cut = text[:length].rstrip()
    return cut + "..." if ellipsis else cut
