"""PocketBase's rate-limit rules, without HTTP: which labels a request carries, which rule wins,
and the key its hits are counted under.

A request carries an ordered list of labels, most specific first:

- routes scoped to a collection (records CRUD, the auth routes, file downloads) carry
  ``<collection name>:<tag>`` for each of the route's tags, then ``*:<tag>`` for each tag;
- every request then carries ``<METHOD> <path>`` and ``<path>``.

A rule's label is one of those forms; a label ending in ``/`` is a prefix (``/api/`` covers every
path below it, ``POST /api/collections/`` every POST below that). For each request label in order,
an exact rule wins over a prefix rule, and among equals the first rule in the settings list wins.
Only rules whose audience fits the caller take part (``""`` everybody, ``@guest`` requests without
a valid auth token, ``@auth`` requests with one).

The tags are PocketBase's, route by route (``ROUTE_TAGS``): ``auth`` marks only the three sign-in
routes (password, OTP, OAuth2) — requesting an OTP or a password reset has its own tag.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The settings syntax (audiences, label grammar, excluded networks) is core's: saving settings
# validates it there.
from ..core.rate_limit_syntax import AUDIENCE_ALL, AUDIENCE_AUTH, AUDIENCE_GUEST, AUDIENCES, parse_network

#: The rule audiences a request may match, by whether it carries a valid auth token.
GUEST_AUDIENCES = (AUDIENCE_ALL, AUDIENCE_GUEST)
AUTH_AUDIENCES = (AUDIENCE_ALL, AUDIENCE_AUTH)

COLLECTIONS_PREFIX = "/api/collections/"
FILES_PREFIX = "/api/files/"

#: Tags of the routes under /api/collections/{collection}/, by (method, last path segment).
ROUTE_TAGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "auth-methods"): ("listAuthMethods",),
    ("POST", "auth-refresh"): ("authRefresh",),
    ("POST", "auth-with-password"): ("authWithPassword", "auth"),
    ("POST", "auth-with-oauth2"): ("authWithOAuth2", "auth"),
    ("POST", "request-otp"): ("requestOTP",),
    ("POST", "auth-with-otp"): ("authWithOTP", "auth"),
    ("POST", "request-password-reset"): ("requestPasswordReset",),
    ("POST", "confirm-password-reset"): ("confirmPasswordReset",),
    ("POST", "request-verification"): ("requestVerification",),
    ("POST", "confirm-verification"): ("confirmVerification",),
    ("POST", "request-email-change"): ("requestEmailChange",),
    ("POST", "confirm-email-change"): ("confirmEmailChange",),
}
#: Tags of the records routes, by (method, whether the path names a record).
RECORD_TAGS: dict[tuple[str, bool], str] = {
    ("GET", False): "list",
    ("GET", True): "view",
    ("POST", False): "create",
    ("PATCH", True): "update",
    ("DELETE", True): "delete",
}
# Keys longer than this are hashed: DynamoDB caps a partition key at 2048 bytes, and a label is
# free text a superuser typed.
MAX_KEY_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Route:
    """What the rules need to know of a request: its method and path, and for collection-scoped
    routes the ``{collection}`` path segment, the route pattern and the route's tags."""

    method: str
    path: str
    collection: str = ""
    pattern: str = ""
    tags: tuple[str, ...] = ()

    def labels(self, collection_name: str = "") -> list[str]:
        """The request's labels, most specific first."""
        out: list[str] = []
        if self.tags:
            name = collection_name or self.collection
            out.extend(f"{name}:{tag}" for tag in self.tags)
            out.extend(f"*:{tag}" for tag in self.tags)
        out.append(f"{self.method} {self.path}")
        out.append(self.path)
        return out

    def scope(self, collection_id: str) -> str:
        """The counter scope of a collection-scoped route: one per collection, route and tags, so
        signing in to ``users`` and to ``_superusers`` are counted apart (as PocketBase does)."""
        return f"{collection_id} {self.pattern} {','.join(self.tags)}"


def classify(method: str, path: str) -> Route:
    """The ``Route`` of a request (``path`` is the decoded URL path, ``/api/...``)."""
    method = method.upper()
    if path.startswith(COLLECTIONS_PREFIX):
        parts = path[len(COLLECTIONS_PREFIX) :].split("/")
        if len(parts) >= 2 and parts[0]:
            collection, rest = parts[0], parts[1:]
            if rest[0] == "records" and len(rest) <= 2:
                has_id = len(rest) == 2 and rest[1] != ""
                tag = RECORD_TAGS.get((method, has_id))
                if tag:
                    suffix = "/records/{id}" if has_id else "/records"
                    return Route(
                        method, path, collection, f"{method} /api/collections/{{collection}}{suffix}", (tag,)
                    )
            elif len(rest) == 1:
                tags = ROUTE_TAGS.get((method, rest[0]))
                if tags:
                    pattern = f"{method} /api/collections/{{collection}}/{rest[0]}"
                    return Route(method, path, collection, pattern, tags)
    elif method == "GET" and path.startswith(FILES_PREFIX):
        parts = path[len(FILES_PREFIX) :].split("/")
        if len(parts) == 3 and all(parts):
            pattern = "GET /api/files/{collection}/{recordId}/{filename}"
            return Route(method, path, parts[0], pattern, ("file",))
    return Route(method, path)


@dataclass(frozen=True, slots=True)
class Rule:
    label: str
    audience: str
    duration: int
    max_requests: int


class RuleSet:
    """The ``rateLimits`` settings, indexed for the per-request lookup."""

    __slots__ = (
        "_exact",
        "_excluded",
        "_prefix",
        "_tags",
        "enabled",
        "has_named_labels",
        "has_path_labels",
        "rules",
    )

    def __init__(self, rules: Sequence[Rule], enabled: bool = True, excluded_ips: Iterable[str] = ()):
        self.rules = tuple(rules)
        self.enabled = enabled and bool(self.rules)
        self._exact: dict[str, list[Rule]] = {}
        self._prefix: list[Rule] = []
        for rule in self.rules:
            self._exact.setdefault(rule.label, []).append(rule)
            if rule.label.endswith("/"):
                self._prefix.append(rule)
        #: whether a rule names a collection (``posts:list``): only then must a request's
        #: ``{collection}`` segment, which may be an id, be resolved to the collection's name
        self.has_named_labels = any(
            ":" in r.label and not r.label.startswith("*:") and " " not in r.label for r in self.rules
        )
        #: the tags rules name (``auth`` of ``*:auth``) and whether any rule is about paths: the
        #: per-request fast path skips building labels when neither can match
        self._tags = frozenset(r.label.partition(":")[2] for r in self.rules if ":" in r.label)
        self.has_path_labels = any("/" in r.label for r in self.rules)
        self._excluded = [net for net in (parse_network(text) for text in excluded_ips) if net is not None]

    @classmethod
    def from_settings(cls, rate_limits: Mapping[str, Any]) -> RuleSet:
        """Build from the ``rateLimits`` settings section (validated on save; anything malformed
        that got stored anyway is skipped rather than failing every request)."""
        rules = []
        for raw in rate_limits.get("rules") or []:
            try:
                rule = Rule(
                    str(raw["label"]),
                    str(raw.get("audience") or ""),
                    int(raw["duration"]),
                    int(raw["maxRequests"]),
                )
            except (KeyError, TypeError, ValueError):
                continue
            if rule.label and rule.audience in AUDIENCES and rule.duration > 0 and rule.max_requests > 0:
                rules.append(rule)
        return cls(rules, bool(rate_limits.get("enabled")), rate_limits.get("excludedIPs") or ())

    def may_apply(self, route: Route) -> bool:
        """False when no rule can match ``route`` whatever its labels: no rule about paths, and
        none naming one of the route's tags (one set lookup per tag, no strings built)."""
        return self.has_path_labels or any(tag in self._tags for tag in route.tags)

    def find(self, labels: Sequence[str], audiences: Collection[str] | None = None) -> Rule | None:
        """The rule for a request with ``labels``; ``audiences=None`` ignores the audience (to learn
        cheaply whether any rule could apply before finding out who is calling)."""
        for label in labels:
            for rule in self._exact.get(label, ()):
                if audiences is None or rule.audience in audiences:
                    return rule
            if self._prefix:
                probe = label + "/"
                for rule in self._prefix:
                    if probe.startswith(rule.label) and (audiences is None or rule.audience in audiences):
                        return rule
        return None

    def excludes(self, ip: str) -> bool:
        """Whether ``ip`` is in ``excludedIPs`` (single addresses or CIDR subnets)."""
        if not self._excluded or not ip:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in net for net in self._excluded)


def client_key(ip: str) -> str:
    """The part of the limiter key that names the client. IPv6 clients are counted per /64: a
    single host usually holds a whole /64, so counting per address would let it rotate freely."""
    if ":" not in ip:
        return ip
    try:
        network = ipaddress.ip_network(f"{ip}/64", strict=False)
    except ValueError:
        return ip
    return str(network)


def limiter_key(scope: str, audience: str, duration: int, client: str) -> str:
    """The key hits are counted under: the rule's scope and audience, the window length (a changed
    rule starts fresh counters) and the client."""
    key = f"{scope}|{audience}|{duration}|{client}"
    if len(key) > MAX_KEY_LENGTH:
        digest = hashlib.sha256(scope.encode()).hexdigest()
        key = f"sha256:{digest}|{audience}|{duration}|{client}"
    return key
