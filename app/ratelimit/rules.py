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

The tags are PocketBase's, route by route (``TAGGED_ROUTES``), looked up by the route the request
was matched to: ``auth`` marks only the three sign-in routes (password, OTP, OAuth2) — requesting
an OTP or a password reset has its own tag.
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

#: The pattern and tags of each tagged route, by the name the API registers the route under
#: (PocketBase's tags, route by route). A request's tags come from the route the router matched,
#: never from parsing its path again: a path the router would not take to the route (say with a
#: trailing slash) is never a route's, and a path it does take is counted as that route.
TAGGED_ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "records_list": ("GET /api/collections/{collection}/records", ("list",)),
    "records_view": ("GET /api/collections/{collection}/records/{id}", ("view",)),
    "records_create": ("POST /api/collections/{collection}/records", ("create",)),
    "records_update": ("PATCH /api/collections/{collection}/records/{id}", ("update",)),
    "records_delete": ("DELETE /api/collections/{collection}/records/{id}", ("delete",)),
    "auth_methods": ("GET /api/collections/{collection}/auth-methods", ("listAuthMethods",)),
    "auth_refresh": ("POST /api/collections/{collection}/auth-refresh", ("authRefresh",)),
    "auth_with_password": (
        "POST /api/collections/{collection}/auth-with-password",
        ("authWithPassword", "auth"),
    ),
    "auth_with_oauth2": ("POST /api/collections/{collection}/auth-with-oauth2", ("authWithOAuth2", "auth")),
    "request_otp": ("POST /api/collections/{collection}/request-otp", ("requestOTP",)),
    "auth_with_otp": ("POST /api/collections/{collection}/auth-with-otp", ("authWithOTP", "auth")),
    "request_password_reset": (
        "POST /api/collections/{collection}/request-password-reset",
        ("requestPasswordReset",),
    ),
    "confirm_password_reset": (
        "POST /api/collections/{collection}/confirm-password-reset",
        ("confirmPasswordReset",),
    ),
    "request_verification": (
        "POST /api/collections/{collection}/request-verification",
        ("requestVerification",),
    ),
    "confirm_verification": (
        "POST /api/collections/{collection}/confirm-verification",
        ("confirmVerification",),
    ),
    "request_email_change": (
        "POST /api/collections/{collection}/request-email-change",
        ("requestEmailChange",),
    ),
    "confirm_email_change": (
        "POST /api/collections/{collection}/confirm-email-change",
        ("confirmEmailChange",),
    ),
    # (file downloads, PocketBase's ``file`` tag, are not served yet: their route adds its entry)
}
#: The record route each batch item stands for, by its method and whether its URL names a record.
BATCH_ITEM_ROUTES: dict[tuple[str, bool], str] = {
    ("POST", False): "records_create",
    ("PATCH", True): "records_update",
    ("DELETE", True): "records_delete",
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


def route_of(name: str, method: str, path: str, collection: str = "") -> Route:
    """The ``Route`` of a request the router took to the route registered as ``name``, with the
    request's ``method`` and ``path`` (``/api/...``, as routed) and its ``{collection}`` path
    argument. Untagged routes carry only their path labels."""
    method = method.upper()
    spec = TAGGED_ROUTES.get(name)
    if spec is None or not collection:
        return Route(method, path)
    pattern, tags = spec
    return Route(method, path, collection, pattern, tags)


def batch_item_route(method: str, collection: str, record_id: str) -> Route | None:
    """The ``Route`` a batch item counts as: the record route it stands for, at that route's own
    path (so path rules see what a direct request would show); None for anything else."""
    name = BATCH_ITEM_ROUTES.get((method.upper(), bool(record_id)))
    if name is None:
        return None
    path = f"/api/collections/{collection}/records" + (f"/{record_id}" if record_id else "")
    return route_of(name, method, path, collection)


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
