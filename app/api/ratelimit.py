"""Rate-limit enforcement for API requests: the ``rateLimits`` settings applied before a handler runs.

``RateLimitGuard.check()`` is called by the API pipe for every request, with the route the router
matched and its arguments: the labels come from that route (``app.ratelimit.rules.route_of``), so
whatever spelling of a path reached a handler is counted as that handler's route. It costs a few
dict lookups when no rule can apply (the common case: by default only the sign-in routes are
limited). Only when a rule's label matches does it work out the client IP, skip excluded IPs and
superusers (PocketBase exempts both), verify the auth token to know the audience, and count the
hit with ``runtime.rate_limiter``. A refused hit is PocketBase's 429 envelope plus a
``Retry-After`` header. Labels, rule choice and keys are ``app.ratelimit.rules``;
docs/rate-limits.md explains them.

``check_batch_item`` applies the records rules to one item of ``/api/batch``, as PocketBase does
for batch sub-requests (it is called by the batch endpoint).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from emmett import current

from ..core.errors import TooManyRequests
from ..core.rules.context import AuthState
from ..ratelimit.rules import (
    AUTH_AUDIENCES,
    GUEST_AUDIENCES,
    TAGGED_ROUTES,
    Route,
    RuleSet,
    batch_item_route,
    client_key,
    limiter_key,
    route_of,
)
from ..runtime import Runtime
from .client_ip import real_ip
from .request import request_auth

log = logging.getLogger("emmettbase.ratelimit")

# The API module's routes are named "api.<route>" (``app.api.mount``).
ROUTE_PREFIX = "api."
# Routes whose handlers never read the schema registry: checking the settings version for them
# would add a database read to each call, so they use the settings this process last loaded
# (every other request reloads them when they changed).
REGISTRY_FREE_ROUTES = frozenset({ROUTE_PREFIX + "health"})
# Only these routes carry tags (``*:auth``, ``posts:list``); the rest have path labels only.
TAGGED_ROUTE_NAMES = frozenset(ROUTE_PREFIX + name for name in TAGGED_ROUTES)


class Policy:
    """The parts of the app settings the guard uses, compiled once per settings version."""

    __slots__ = ("leftmost", "rules", "trusted_headers")

    def __init__(self, settings: Mapping[str, Any]):
        self.rules = RuleSet.from_settings(settings.get("rateLimits") or {})
        proxy = settings.get("trustedProxy") or {}
        self.trusted_headers = tuple(str(h) for h in proxy.get("headers") or () if h)
        self.leftmost = bool(proxy.get("useLeftmostIP"))


class RateLimitGuard:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        # (settings dict it was compiled from, registry version it was checked at, policy): one
        # tuple, replaced whole, so concurrent requests never see a policy paired with other settings
        self._compiled: tuple[Mapping[str, Any], str | None, Policy] | None = None

    def policy(self, fresh: bool = True) -> Policy:
        """The compiled settings; ``fresh=False`` accepts the version this process loaded last."""
        registry = self.runtime.registry
        compiled = self._compiled
        if not fresh and compiled is not None and compiled[1] == registry.version:
            return compiled[2]
        settings = self.runtime.app_settings.get()
        # The settings store hands out the same dict until the settings change: compile once.
        policy = compiled[2] if compiled is not None and compiled[0] is settings else Policy(settings)
        self._compiled = (settings, registry.version, policy)
        return policy

    def check(self, route_name: str, args: Mapping[str, Any]) -> None:
        """Count the current request, which the router matched to the route named ``route_name``
        with path arguments ``args``, against its rule; raise ``TooManyRequests`` over the limit."""
        policy = self.policy(fresh=route_name not in REGISTRY_FREE_ROUTES)
        rules = policy.rules
        if not rules.enabled or not (rules.has_path_labels or route_name in TAGGED_ROUTE_NAMES):
            return  # no rule about paths, and a route without tags: nothing can match
        request = current.request
        name = route_name.removeprefix(ROUTE_PREFIX)
        route = route_of(name, request.method, request.path, str(args.get("collection") or ""))
        self._enforce(policy, request, route, None)

    def check_batch_item(self, method: str, collection: str, record_id: str, auth: AuthState | None) -> None:
        """Count one batch item (its method, an upsert as the create or update it turns into, and
        the collection and record its URL names) under the same rules and counters as the
        direct route."""
        policy = self.policy()
        route = batch_item_route(method, collection, record_id)
        if policy.rules.enabled and route is not None:
            self._enforce(policy, current.request, route, auth, auth_known=True)

    def _enforce(
        self, policy: Policy, request: Any, route: Route, auth: AuthState | None, auth_known: bool = False
    ) -> None:
        rules = policy.rules
        if not rules.may_apply(route):
            return
        registry = self.runtime.registry
        compiled = None
        if route.collection and rules.has_named_labels:
            # A rule names a collection, and the path may hold its id: the labels need the name.
            compiled = registry.get(route.collection)
            if compiled is None:
                return  # no such collection: the handler answers 404, nothing to count
        labels = route.labels(compiled.name if compiled is not None else "")
        if rules.find(labels) is None:
            return
        ip = real_ip(request, policy.trusted_headers, policy.leftmost)
        if not ip or rules.excludes(ip):
            return
        if not auth_known:
            # verified (a forged token must not pass for a superuser), and only once a rule matched
            auth = request_auth(self.runtime)
        if auth is not None and auth.is_superuser:
            return
        rule = rules.find(labels, AUTH_AUDIENCES if auth is not None else GUEST_AUDIENCES)
        if rule is None:
            return
        if route.collection:
            if compiled is None:
                compiled = registry.get(route.collection)
                if compiled is None:
                    # The handler answers 404 (as PocketBase does before counting); made-up names
                    # must not mint fresh counters.
                    return
            scope = route.scope(compiled.id)
        else:
            scope = rule.label
        key = limiter_key(scope, rule.audience, rule.duration, client_key(ip))
        verdict = self.runtime.rate_limiter.hit(key, rule.max_requests, rule.duration)
        if not verdict.allowed:
            log.debug("rate limit rule %r refused %s %s from %s", rule.label, route.method, route.path, ip)
            raise TooManyRequests(headers={"retry-after": str(max(1, verdict.retry_after))})


def guard_for(runtime: Runtime) -> RateLimitGuard:
    """The runtime's guard (one per app, created on first use)."""
    if runtime.rate_limit_guard is None:
        runtime.rate_limit_guard = RateLimitGuard(runtime)
    guard: RateLimitGuard = runtime.rate_limit_guard
    return guard


def check_batch_item(
    runtime: Runtime, method: str, collection: str, record_id: str, auth: AuthState | None
) -> None:
    """``RateLimitGuard.check_batch_item`` for the runtime's guard (what ``app.api.batch`` calls)."""
    guard_for(runtime).check_batch_item(method, collection, record_id, auth)
