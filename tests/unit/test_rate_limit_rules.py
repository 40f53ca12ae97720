"""Rate-limit rules without HTTP: route tags, labels, which rule wins, keys, label validation, and
the client IP as PocketBase computes it (remote address or trusted proxy headers)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from app.api.client_ip import last_header, normalize, real_ip, remote_ip
from app.core.rate_limit_syntax import conflicting_rule, label_is_valid
from app.ratelimit.rules import (
    AUTH_AUDIENCES,
    GUEST_AUDIENCES,
    TAGGED_ROUTES,
    Rule,
    RuleSet,
    batch_item_route,
    client_key,
    limiter_key,
    route_of,
)

C = "/api/collections/users"
# (route name, method, path) of requests the router takes to a named route
ROUTED = {
    "list": ("records_list", "GET", f"{C}/records"),
    "view": ("records_view", "GET", f"{C}/records/abc"),
    "create": ("records_create", "POST", f"{C}/records"),
    "update": ("records_update", "PATCH", f"{C}/records/abc"),
    "delete": ("records_delete", "DELETE", f"{C}/records/abc"),
    "password": ("auth_with_password", "POST", f"{C}/auth-with-password"),
    "health": ("health", "GET", "/api/health"),
    "head_health": ("health", "HEAD", "/api/health"),
}


def classify(kind: str, collection: str = "users") -> Any:
    name, method, path = ROUTED[kind]
    return route_of(name, method, path, collection if path.startswith(C) else "")


@pytest.mark.parametrize(
    ("name", "method", "tags", "pattern"),
    [
        ("records_list", "GET", ("list",), "GET /api/collections/{collection}/records"),
        ("records_view", "GET", ("view",), "GET /api/collections/{collection}/records/{id}"),
        ("records_create", "POST", ("create",), "POST /api/collections/{collection}/records"),
        ("records_update", "PATCH", ("update",), "PATCH /api/collections/{collection}/records/{id}"),
        ("records_delete", "DELETE", ("delete",), "DELETE /api/collections/{collection}/records/{id}"),
        ("auth_with_password", "POST", ("authWithPassword", "auth"), None),
        ("auth_with_otp", "POST", ("authWithOTP", "auth"), None),
        ("auth_with_oauth2", "POST", ("authWithOAuth2", "auth"), None),
        ("request_otp", "POST", ("requestOTP",), None),
        ("auth_refresh", "POST", ("authRefresh",), None),
        ("auth_methods", "GET", ("listAuthMethods",), None),
        ("request_password_reset", "POST", ("requestPasswordReset",), None),
        ("confirm_password_reset", "POST", ("confirmPasswordReset",), None),
        ("request_verification", "POST", ("requestVerification",), None),
        ("confirm_verification", "POST", ("confirmVerification",), None),
        ("request_email_change", "POST", ("requestEmailChange",), None),
        ("confirm_email_change", "POST", ("confirmEmailChange",), None),
    ],
)
def test_collection_routes_carry_pocketbase_tags(name, method, tags, pattern):
    route = route_of(name, method, f"{C}/whatever", "users")
    assert route.tags == tags
    assert route.collection == "users"
    assert route.pattern == (pattern or TAGGED_ROUTES[name][0])
    assert route.pattern.startswith(method + " ")


@pytest.mark.parametrize(
    ("name", "method", "path"),
    [
        ("impersonate", "POST", f"{C}/impersonate/abc"),  # superusers only: the path labels are enough
        ("collections_view", "GET", C),
        ("collections_list", "GET", "/api/collections"),
        ("batch", "POST", "/api/batch"),
        ("health", "GET", "/api/health"),
    ],
)
def test_other_routes_carry_only_their_path(name, method, path):
    route = route_of(name, method, path, "users" if path.startswith(C) else "")
    assert route.tags == () and route.collection == ""
    assert route.labels() == [f"{method} {path}", path]


def test_batch_items_count_as_the_record_route_they_stand_for():
    create = batch_item_route("post", "users", "")
    assert create is not None
    assert (create.tags, create.path) == (("create",), f"{C}/records")
    update = batch_item_route("PATCH", "users", "abc")
    assert update is not None
    assert (update.tags, update.pattern, update.path) == (
        ("update",),
        TAGGED_ROUTES["records_update"][0],
        f"{C}/records/abc",
    )
    assert batch_item_route("PUT", "users", "") is None, "an upsert counts as what it becomes"
    assert batch_item_route("POST", "users", "abc") is None


def test_labels_go_from_the_collection_to_the_wildcard_to_the_path():
    route = classify("password")
    assert route.labels() == [
        "users:authWithPassword",
        "users:auth",
        "*:authWithPassword",
        "*:auth",
        f"POST {C}/auth-with-password",
        f"{C}/auth-with-password",
    ]
    by_id = route_of("records_list", "get", "/api/collections/_pb_users_auth_/records", "_pb_users_auth_")
    assert by_id.labels("users")[0] == "users:list", "the resolved name replaces an id in the path"
    assert by_id.method == "GET"


def rules(*specs: tuple[str, str, int]) -> RuleSet:
    return RuleSet([Rule(label, audience, 60, n) for label, audience, n in specs])


def test_the_most_specific_label_wins_whatever_the_rule_order():
    ruleset = rules(("/api/", "", 1), ("*:auth", "", 2), ("users:auth", "", 3))
    labels = classify("password").labels()
    assert ruleset.find(labels).max_requests == 3
    assert ruleset.find(classify("password", "posts").labels()).max_requests == 2
    assert ruleset.find(classify("health").labels()).max_requests == 1


def test_for_one_label_an_exact_rule_beats_a_prefix_and_the_first_prefix_listed_wins():
    ruleset = rules(("/api/", "", 1), ("/api/collections/", "", 2), ("/api/batch", "", 3))
    assert ruleset.find(["/api/batch"]).max_requests == 3
    assert ruleset.find(["/api/collections/users/records"]).max_requests == 1, "listed first"
    assert ruleset.find(["/api/collections"]).max_requests == 1
    assert rules(("/api/collections/", "", 2)).find(["/api/collections"]).max_requests == 2
    assert rules(("/api/batch", "", 3)).find(["/api/batch/x"]) is None, "without '/' a label is exact"
    assert rules(("/api/", "", 1)).find(["/apix"]) is None


def test_method_labels_match_only_their_method():
    ruleset = rules(("POST /api/collections/", "", 1), ("GET /api/health", "", 2))
    assert ruleset.find(classify("create").labels()).max_requests == 1
    assert ruleset.find(classify("list").labels()) is None
    assert ruleset.find(classify("health").labels()).max_requests == 2
    assert ruleset.find(classify("head_health").labels()) is None


def test_audiences_filter_the_rules_a_request_can_match():
    ruleset = rules(("*:list", "@guest", 1), ("*:list", "@auth", 2), ("/api/", "", 3))
    labels = classify("list").labels()
    assert ruleset.find(labels, GUEST_AUDIENCES).max_requests == 1
    assert ruleset.find(labels, AUTH_AUDIENCES).max_requests == 2
    only_guests = rules(("*:list", "@guest", 1))
    assert only_guests.find(labels, AUTH_AUDIENCES) is None
    assert only_guests.find(labels) is not None, "no audience given: any rule counts"


def test_may_apply_is_a_cheap_superset_of_find():
    auth_only = rules(("*:auth", "", 30))
    assert auth_only.may_apply(classify("password"))
    assert not auth_only.may_apply(classify("list"))
    assert not auth_only.may_apply(classify("health"))
    assert rules(("/api/", "", 1)).may_apply(classify("health"))
    assert rules(("posts:list", "", 1)).has_named_labels
    assert not auth_only.has_named_labels


def test_from_settings_reads_the_section_and_skips_what_is_malformed():
    ruleset = RuleSet.from_settings(
        {
            "enabled": True,
            "excludedIPs": ["10.0.0.0/8", "2001:db8::1", "bogus"],
            "rules": [
                {"label": "*:auth", "audience": "", "duration": 60, "maxRequests": 30},
                {"label": "x", "duration": "soon", "maxRequests": 1},
                {"label": "y", "audience": "@robots", "duration": 1, "maxRequests": 1},
                {"duration": 1, "maxRequests": 1},
            ],
        }
    )
    assert ruleset.enabled
    assert [r.label for r in ruleset.rules] == ["*:auth"]
    assert ruleset.excludes("10.1.2.3") and ruleset.excludes("2001:db8::1")
    assert not ruleset.excludes("11.0.0.1") and not ruleset.excludes("2001:db8::2")
    assert not ruleset.excludes("not an ip") and not ruleset.excludes("")
    assert not RuleSet.from_settings(
        {"enabled": False, "rules": [{"label": "/", "duration": 1, "maxRequests": 1}]}
    ).enabled
    assert not RuleSet.from_settings({"enabled": True, "rules": []}).enabled


def test_keys_name_the_scope_audience_window_and_client():
    route = classify("password")
    scope = route.scope("_pb_users_auth_")
    assert (
        scope == "_pb_users_auth_ POST /api/collections/{collection}/auth-with-password authWithPassword,auth"
    )
    assert limiter_key(scope, "@guest", 60, "198.51.100.9") == f"{scope}|@guest|60|198.51.100.9"
    long = limiter_key("/" + "a" * 2000, "", 60, "1.2.3.4")
    assert len(long) < 200 and long.startswith("sha256:") and long.endswith("|60|1.2.3.4")
    assert long != limiter_key("/" + "b" * 2000, "", 60, "1.2.3.4")


def test_ipv6_clients_are_counted_per_64():
    assert client_key("198.51.100.9") == "198.51.100.9"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")


@pytest.mark.parametrize(
    ("label", "valid"),
    [
        ("*:auth", True),
        ("users:create", True),
        ("/api/", True),
        ("/", True),
        ("/api/batch", True),
        ("POST /api/collections/", True),
        ("test_a", True),
        ("", False),
        ("*", False),
        ("users:*", False),
        ("/api/ x", False),
        ("POST api/", False),
        ("/api/ü", False),
        ("users:auth:x", False),
    ],
)
def test_label_grammar(label, valid):
    assert label_is_valid(label) is valid


def test_conflicting_rules_are_found_like_pocketbase():
    assert conflicting_rule([{"label": "*:auth"}, {"label": "*:create"}]) is None
    assert conflicting_rule([{"label": "*:auth"}, {"label": "/api/"}, {"label": "*:auth"}]) == 2
    assert (
        conflicting_rule(
            [{"label": "*:list", "audience": "@guest"}, {"label": "*:list", "audience": "@auth"}]
        )
        is None
    )
    # a rule for everybody collides with one for an audience on the same label
    assert (
        conflicting_rule([{"label": "*:list", "audience": ""}, {"label": "*:list", "audience": "@auth"}]) == 1
    )


# -- client IP ------------------------------------------------------------------------------------


def asgi_request(client: tuple[str, int] | None, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    from emmett_core.protocols.asgi.wrappers import Headers

    scope = {"client": client, "headers": headers or []}
    return SimpleNamespace(_scope=scope, headers=Headers(scope))


class RsgiHeaders:
    def __init__(self, items: list[tuple[str, str]]):
        self._items = items

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def get(self, key: str, default: Any = None) -> Any:
        return next((v for k, v in self._items if k == key.lower()), default)


def rsgi_request(client: str, headers: list[tuple[str, str]] | None = None) -> Any:
    return SimpleNamespace(_scope=SimpleNamespace(client=client), headers=RsgiHeaders(headers or []))


def test_remote_address_from_asgi_and_rsgi_scopes():
    assert remote_ip(asgi_request(("203.0.113.7", 0))) == "203.0.113.7"
    assert remote_ip(asgi_request(None)) == ""
    assert remote_ip(rsgi_request("127.0.0.1:54321")) == "127.0.0.1"
    assert remote_ip(rsgi_request("[2001:db8::1]:8090")) == "2001:db8::1"
    assert remote_ip(rsgi_request("::1")) == "::1"
    assert remote_ip(rsgi_request("")) == ""


def test_normalize():
    assert normalize(" 10.0.0.1 ") == "10.0.0.1"
    assert normalize("::ffff:10.0.0.1") == "10.0.0.1", "IPv4-mapped IPv6 is the IPv4 client"
    assert normalize("2001:0db8:0000::0001") == "2001:db8::1"
    assert normalize("[::1]") == "::1"
    assert normalize("unknown") == normalize("") == normalize("10.0.0.256") == ""


# PocketBase's own vectors for RealIP (remote address 127.0.0.1, repeated headers).
PB_HEADERS = [
    ("cf-connecting-ip", "1.2.3.4"),
    ("cf-connecting-ip", "1.1.1.1"),
    ("x-real-ip", "1.2.3.4"),
    ("x-real-ip", "1.1.1.3,1.1.1.4"),
    ("x-forwarded-for", "1.2.3.4"),
    ("x-forwarded-for", "invalid,1.1.1.5,1.1.1.6,invalid"),
]


@pytest.mark.parametrize(
    ("trusted", "leftmost", "expected"),
    [
        ((), False, "127.0.0.1"),
        (("header1", "header2"), False, "127.0.0.1"),
        (("header1", "X-Real-IP", "x-forwarded-for"), False, "1.1.1.4"),
        (("header1", "x-real-ip", "x-forwarded-for"), True, "1.1.1.3"),
        (("header1", "x-forwarded-for"), False, "1.1.1.6"),
        (("header1", "x-forwarded-for"), True, "1.1.1.5"),
    ],
)
def test_real_ip_follows_trusted_headers(trusted, leftmost, expected):
    asgi = asgi_request(("127.0.0.1", 80), [(k.encode(), v.encode()) for k, v in PB_HEADERS])
    rsgi = rsgi_request("127.0.0.1:80", PB_HEADERS)
    assert real_ip(asgi, trusted, leftmost) == expected
    assert real_ip(rsgi, trusted, leftmost) == expected


def test_untrusted_and_useless_headers_fall_back_to_the_remote_address():
    spoofed = asgi_request(("198.51.100.9", 1), [(b"x-forwarded-for", b"6.6.6.6")])
    assert real_ip(spoofed) == "198.51.100.9", "X-Forwarded-For means nothing unless trusted"
    junk = asgi_request(("198.51.100.9", 1), [(b"x-real-ip", b"unknown, ,")])
    assert real_ip(junk, ("x-real-ip",)) == "198.51.100.9"
    assert last_header(rsgi_request("1.1.1.1:1", [("x-a", "1"), ("X-A", "2")]), "x-a") == "2"


def test_every_tagged_route_is_registered_under_its_name_at_its_pattern(tmp_path):
    """The tags are looked up by the name of the route the router matched: a renamed or moved
    route must not silently lose them (and with them its ``*:auth`` limit)."""
    from app import create_app
    from app.settings import Settings

    app = create_app(Settings.from_env({}, data_dir=str(tmp_path / "pb_data")))
    try:
        router = app._router_http
        for name, (pattern, _) in TAGGED_ROUTES.items():
            registered = router.routes_out.get(f"api.{name}")
            assert registered is not None, f"no route named api.{name}"
            method, path = pattern.split(" ", 1)
            assert "".join(registered["path"]) == re.sub(r"\{\w+\}", "{}", path), name
            described = router._routes_str[f"api.{name}"]  # "METHODS scheme://host/path -> name"
            assert described.split(" ", 1)[0] == method, name
            assert "/api/collections/<str:collection>/" in described, "the guard reads args['collection']"
    finally:
        app.runtime.close()
