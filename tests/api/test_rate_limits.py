"""Rate limits through the API (RELIABILITY.md AUTH-7), four ways: {SQLite, PostgreSQL} x {ASGI, Lambda}.

The app ships one rule, ``*:auth`` 30 per 60 s per client IP. Each test swaps the runtime's limiter
for one on a frozen clock, so a window never ends in the middle of a test unless the test says so.
The ASGI door's client is 198.51.100.9; the Lambda door's is API Gateway's ``sourceIp``, 203.0.113.7.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.doors import LambdaDoor
from tests.support.ratelimit import Clock, set_limits
from tests.support.scenario import create_user, superuser_headers, user_headers

PASSWORD = "Rate-limit-pass-4817"
TOO_MANY = {"data": {}, "message": "Too Many Requests.", "status": 429}
DOOR_IPS = {"asgi": "198.51.100.9", "lambda": "203.0.113.7"}


@pytest.fixture
def su(api) -> dict[str, str]:
    return superuser_headers(api)


@pytest.fixture
def posts(api, su) -> dict[str, Any]:
    body = {
        "name": "posts",
        "listRule": "",
        "viewRule": "",
        "createRule": "",
        "fields": [{"name": "title", "type": "text"}],
    }
    response = api.post("/api/collections", headers=su, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def sign_in(api, identity: str, password: str = "wrong-password", **kwargs: Any) -> Any:
    return api.post(
        "/api/collections/users/auth-with-password",
        json={"identity": identity, "password": password},
        **kwargs,
    )


def sign_in_to(api, collection: str) -> Any:
    return api.post(
        f"/api/collections/{collection}/auth-with-password", json={"identity": "a@b.c", "password": "x"}
    )


def statuses(api, url: str, times: int, **kwargs: Any) -> list[int]:
    return [api.get(url, **kwargs).status_code for _ in range(times)]


def test_sign_in_is_limited_per_ip_by_default_and_reopens_with_the_next_window(api, clock, su):
    create_user(api, "ann@example.com", PASSWORD)
    answers = [sign_in(api, "ann@example.com").status_code for _ in range(29)]
    answers.append(sign_in(api, "ann@example.com", PASSWORD).status_code)
    assert answers == [400] * 29 + [200], "30 attempts a minute go through, right or wrong"
    refused = sign_in(api, "ann@example.com", PASSWORD, headers={"Origin": "https://app.example"})
    assert refused.status_code == 429
    assert refused.json() == TOO_MANY
    assert refused.headers["retry-after"] == "20"
    assert refused.headers["access-control-allow-origin"], "a refusal keeps the CORS headers"
    # AUTH-7: the count is per client IP, so another identity from the same address is refused too
    assert sign_in(api, "bob@example.com").status_code == 429
    clock.now += 20
    assert sign_in(api, "ann@example.com", PASSWORD).status_code == 200


def test_each_collection_and_sign_in_route_counts_apart_and_other_routes_are_not_limited(
    api, clock, su, posts
):
    create_user(api, "ann@example.com", PASSWORD)
    ann = user_headers(api, "ann@example.com", PASSWORD)
    for _ in range(30):
        sign_in(api, "ann@example.com")
    assert sign_in(api, "ann@example.com").status_code == 429
    assert superuser_headers(api), "signing in to _superusers is counted apart from users"
    assert statuses(api, "/api/collections/posts/records", 40) == [200] * 40
    assert api.post("/api/collections/posts/records", json={"title": "t"}).status_code == 200
    assert api.get("/api/health").status_code == 200
    refresh = [api.post("/api/collections/users/auth-refresh", headers=ann).status_code for _ in range(35)]
    assert refresh == [200] * 35, "auth-refresh carries its own tag, not 'auth'"
    missing = [sign_in_to(api, "nope").status_code for _ in range(32)]
    assert missing == [404] * 32, "a collection that does not exist has no counter"


def test_collection_rules_set_through_the_settings_api(api, clock, su, posts):
    set_limits(api, su, [{"label": "*:auth", "maxRequests": 30}, {"label": "posts:list", "maxRequests": 2}])
    assert statuses(api, "/api/collections/posts/records", 2, headers={}) == [200, 200]
    refused = api.get(f"/api/collections/{posts['id']}/records")
    assert refused.status_code == 429, "by id or by name, the same collection shares a counter"
    assert refused.json() == TOO_MANY and refused.headers["retry-after"] == "20"
    assert api.get("/api/collections/users/records").status_code != 429
    record = api.post("/api/collections/posts/records", json={"title": "t"}).json()
    assert statuses(api, f"/api/collections/posts/records/{record['id']}", 5) == [200] * 5

    set_limits(
        api, su, [{"label": "*:create", "maxRequests": 1}, {"label": "GET /api/health", "maxRequests": 2}]
    )
    assert api.post("/api/collections/posts/records", json={"title": "a"}).status_code == 200
    assert api.post("/api/collections/posts/records", json={"title": "b"}).status_code == 429
    assert statuses(api, "/api/health", 3) == [200, 200, 429]
    assert statuses(api, "/api/collections/posts/records", 3) == [200] * 3, (
        "the new rules replaced posts:list"
    )


def test_path_prefix_rules_limit_every_route_below_them(api, clock, su, posts):
    set_limits(api, su, [{"label": "/api/collections/", "maxRequests": 3}])
    assert statuses(api, "/api/collections/posts/records", 3) == [200] * 3
    assert api.get("/api/collections/posts/records").status_code == 429
    # collection routes count per collection and route, as PocketBase does
    assert api.post("/api/collections/posts/records", json={"title": "x"}).status_code == 200
    assert api.get("/api/health").status_code == 200


def test_audiences_tell_guests_from_signed_in_callers(api, clock, su, posts):
    create_user(api, "ann@example.com", PASSWORD)
    ann = user_headers(api, "ann@example.com", PASSWORD)
    set_limits(
        api,
        su,
        [
            {"label": "*:auth", "maxRequests": 30},
            {"label": "*:list", "audience": "@guest", "maxRequests": 1},
            {"label": "*:list", "audience": "@auth", "maxRequests": 3},
        ],
    )
    url = "/api/collections/posts/records"
    assert statuses(api, url, 2) == [200, 429]
    assert statuses(api, url, 2, headers={"Authorization": "not-a-token"}) == [429, 429], (
        "an invalid token is a guest"
    )
    assert statuses(api, url, 4, headers=ann) == [200, 200, 200, 429]


def test_superusers_are_never_limited(api, clock, su, posts):
    set_limits(api, su, [{"label": "/api/", "maxRequests": 1}])
    assert statuses(api, "/api/collections/posts/records", 5, headers=su) == [200] * 5
    assert statuses(api, "/api/collections/posts/records", 2) == [200, 429]


def test_excluded_ips_are_not_limited(api, door_kind, clock, su, posts):
    set_limits(api, su, [{"label": "*:list", "maxRequests": 1}], excludedIPs=["192.0.2.1", "198.51.100.0/24"])
    url = "/api/collections/posts/records"
    expected = [200] * 3 if door_kind == "asgi" else [200, 429, 429]
    assert statuses(api, url, 3) == expected
    set_limits(api, su, excludedIPs=[DOOR_IPS[door_kind]])
    assert statuses(api, url, 3) == [200] * 3


def test_forwarded_headers_count_only_when_trusted(api, clock, su, posts):
    url = "/api/collections/posts/records"
    set_limits(api, su, [{"label": "*:list", "maxRequests": 1}])
    spoofed = [api.get(url, headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(3)]
    assert spoofed == [200, 429, 429], "an untrusted X-Forwarded-For cannot pick a fresh counter"

    response = api.patch("/api/settings", headers=su, json={"trustedProxy": {"headers": ["X-Real-IP"]}})
    assert response.status_code == 200
    assert [
        api.get(url, headers={"X-Real-IP": ip}).status_code for ip in ("10.0.0.1", "10.0.0.1", "10.0.0.2")
    ] == [
        200,
        429,
        200,
    ]

    chain = "X-Forwarded-For"
    api.patch("/api/settings", headers=su, json={"trustedProxy": {"headers": [chain]}})
    # rightmost (the address the trusted proxy appended) by default
    assert api.get(url, headers={chain: "1.1.1.1, 10.0.1.9"}).status_code == 200
    assert api.get(url, headers={chain: "2.2.2.2, 10.0.1.9"}).status_code == 429
    api.patch("/api/settings", headers=su, json={"trustedProxy": {"headers": [chain], "useLeftmostIP": True}})
    assert api.get(url, headers={chain: "3.3.3.3, 10.0.1.9"}).status_code == 200
    assert api.get(url, headers={chain: "3.3.3.3, 10.0.1.8"}).status_code == 429


def test_disabled_rate_limits_limit_nothing(api, clock, su, posts):
    set_limits(api, su, [{"label": "*:list", "maxRequests": 1}], enabled=False)
    assert statuses(api, "/api/collections/posts/records", 5) == [200] * 5
    set_limits(api, su, enabled=True)
    assert statuses(api, "/api/collections/posts/records", 2) == [200, 429]


def test_settings_validation_follows_pocketbase(api, su):
    def patch(section: dict[str, Any]) -> Any:
        return api.patch("/api/settings", headers=su, json={"rateLimits": section})

    bad_label = patch({"rules": [{"label": "users:*", "duration": 1, "maxRequests": 1}]})
    assert bad_label.status_code == 400
    assert bad_label.json()["data"]["rateLimits"]["rules"]["0"]["label"]["code"] == "validation_match_invalid"
    clash = patch(
        {
            "rules": [
                {"label": "*:auth", "duration": 1, "maxRequests": 1},
                {"label": "*:auth", "audience": "@guest", "duration": 5, "maxRequests": 1},
            ]
        }
    )
    assert clash.status_code == 400
    error = clash.json()["data"]["rateLimits"]["rules"]["1"]["label"]
    assert error["code"] == "validation_conflicting_rate_limit_rule"
    assert error["params"] == {"label": "*:auth"}
    ips = patch({"excludedIPs": ["10.0.0.0/8", "10.0.0.300", ""]})
    assert ips.status_code == 400
    assert set(ips.json()["data"]["rateLimits"]["excludedIPs"]) == {"1", "2"}
    empty = patch({"enabled": True, "rules": []})
    assert empty.json()["data"]["rateLimits"]["rules"]["code"] == "validation_required"
    assert patch({"enabled": False, "rules": []}).status_code == 200, "no rules is fine while disabled"
    assert patch({"enabled": "yes"}).status_code == 400
    proxy = api.patch("/api/settings", headers=su, json={"trustedProxy": {"useLeftmostIP": "yes"}})
    assert set(proxy.json()["data"]["trustedProxy"]) == {"useLeftmostIP"}


@pytest.mark.aws
def test_lambda_instances_sharing_one_dynamodb_table_share_the_limit(make_settings, monkeypatch):
    """AUTH-7: the limit holds across Lambda instances, counted in one DynamoDB table."""
    pytest.importorskip("moto")
    import boto3
    from moto import mock_aws

    from app.adapters.lambda_http import build_handler
    from app.ratelimit.dynamodb import DynamoDBRateLimiter
    from tests.contract.test_rate_limiter import create_table

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    settings = make_settings(rate_limit_table="emmettbase-rate-limits")
    clock = Clock()
    with mock_aws():
        create_table(boto3.client("dynamodb", region_name="eu-west-1"), "emmettbase-rate-limits")
        doors = [
            LambdaDoor(
                build_handler(
                    settings, rate_limiter=DynamoDBRateLimiter(settings.rate_limit_table, clock=clock)
                )
            )
            for _ in range(2)
        ]
        try:
            create_user(doors[0], "ann@example.com", PASSWORD)
            answers = [sign_in(doors[n % 2], "ann@example.com").status_code for n in range(30)]
            assert answers == [400] * 30
            for door in doors:
                refused = sign_in(door, "ann@example.com", PASSWORD)
                assert refused.status_code == 429 and refused.json() == TOO_MANY
                assert refused.headers["retry-after"] == "20"
            clock.now += 20
            assert sign_in(doors[1], "ann@example.com", PASSWORD).status_code == 200
        finally:
            for door in doors:
                door.close()


@pytest.mark.e2e
def test_the_local_door_counts_by_the_connection_peer(tmp_path):
    """``emmettbase serve`` (Granian, RSGI): the client is the TCP peer, whatever it claims."""
    import httpx

    from tests.support.server import ServeProcess

    with ServeProcess(tmp_path / "pb_data") as server:
        url = server.url + "/api/collections/users/auth-with-password"
        answers = []
        # Real time here: a window may end during the loop, but fixed windows let at most twice
        # the limit through across one boundary, so the first refusal comes by attempt 61.
        for n in range(61):
            response = httpx.post(
                url,
                json={"identity": "x@example.com", "password": "wrong"},
                headers={"X-Forwarded-For": f"10.9.0.{n}"},
            )
            answers.append(response.status_code)
            if response.status_code == 429:
                break
        assert answers[-1] == 429 and 30 <= answers.index(429) <= 60
        assert set(answers[:-1]) == {400}
        assert response.json() == TOO_MANY and 1 <= int(response.headers["retry-after"]) <= 60


def test_renaming_a_collection_renames_its_rate_limit_labels(api):
    """PocketBase keeps ``name:action`` rules pointing at a renamed collection."""
    su = superuser_headers(api)
    rules = [
        {"label": "posts:create", "audience": "", "duration": 60, "maxRequests": 5},
        {"label": "*:auth", "audience": "", "duration": 60, "maxRequests": 30},
    ]
    assert (
        api.patch(
            "/api/settings", headers=su, json={"rateLimits": {"enabled": True, "rules": rules}}
        ).status_code
        == 200
    )
    assert api.post("/api/collections", headers=su, json={"name": "posts", "type": "base"}).status_code == 200
    assert api.patch("/api/collections/posts", headers=su, json={"name": "articles"}).status_code == 200
    labels = [rule["label"] for rule in api.get("/api/settings", headers=su).json()["rateLimits"]["rules"]]
    assert labels == ["articles:create", "*:auth"]


def test_batch_items_count_under_their_record_action(api):
    su = superuser_headers(api)
    settings = {
        "batch": {"enabled": True},
        "rateLimits": {
            "enabled": True,
            "rules": [{"label": "*:create", "audience": "@guest", "duration": 60, "maxRequests": 2}],
        },
    }
    assert api.patch("/api/settings", headers=su, json=settings).status_code == 200
    created = api.post(
        "/api/collections",
        headers=su,
        json={"name": "notes", "type": "base", "createRule": "", "listRule": ""},
    )
    assert created.status_code == 200, created.text
    item = {"method": "POST", "url": "/api/collections/notes/records", "body": {}}
    assert api.post("/api/batch", json={"requests": [item, item]}).status_code == 200
    over = api.post("/api/batch", json={"requests": [item]})
    assert over.status_code == 400, over.text
    assert over.json()["data"]["requests"]["0"]["response"]["status"] == 429
    assert api.get("/api/collections/notes/records").json()["totalItems"] == 2, "nothing past the limit"
    assert api.post("/api/collections/notes/records", json={}).status_code == 429, "the same counter"
