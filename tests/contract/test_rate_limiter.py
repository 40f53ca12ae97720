"""One contract for every ``RateLimiter``: process memory and DynamoDB (under moto).

Both count fixed windows aligned to multiples of their length on an injected clock, so the same
expectations hold to the second: hits up to the maximum pass, the next is refused with the seconds
left in the window, keys count apart, a new window starts from zero, and threads hammering one key
get exactly the maximum through. Then what only the DynamoDB limiter does: one item per key and
window with its TTL attribute, a refused hit under throttling, and letting hits through when the
table itself fails.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.ratelimit import RateLimiter, Verdict
from app.ratelimit.memory import MemoryRateLimiter

TABLE = "emmettbase-rate-limits"
REGION = "eu-west-1"
# 1_000_000 s lies 40 s into the 60-second window [999_960, 1_000_020).
START = 1_000_000.0


class Clock:
    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def create_table(client: Any, name: str = TABLE) -> None:
    """The table as the CDK stack creates it (partition key ``pk``, TTL on ``expiresAt``)."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
    )


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def dynamodb(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("moto")
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import DynamoDBBackend

    # DynamoDB applies a conditional write to an item atomically; moto evaluates the condition and
    # the update in Python with no lock, so threads interleave inside one call. Serialise single
    # calls as DynamoDB does: a limiter that read and then wrote in two calls would still race.
    original = DynamoDBBackend.update_item
    item_lock = threading.Lock()

    def atomic_update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with item_lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", atomic_update_item)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client)
        yield client


@pytest.fixture(params=["memory", pytest.param("dynamodb", marks=pytest.mark.aws)])
def make_limiter(request: pytest.FixtureRequest) -> Callable[[Clock], RateLimiter]:
    if request.param == "memory":
        return lambda clock: MemoryRateLimiter(clock=clock)
    from app.ratelimit.dynamodb import DynamoDBRateLimiter

    client = request.getfixturevalue("dynamodb")
    return lambda clock: DynamoDBRateLimiter(TABLE, client, clock=clock)


# -- the contract ---------------------------------------------------------------------------------


def test_counts_hits_up_to_the_maximum_then_refuses_until_the_window_ends(make_limiter):
    clock = Clock()
    limiter = make_limiter(clock)
    assert [limiter.hit("k", 3, 60) for _ in range(3)] == [Verdict(True, 0)] * 3
    assert limiter.hit("k", 3, 60) == Verdict(False, 20)
    clock.advance(15.5)
    assert limiter.hit("k", 3, 60) == Verdict(False, 5), "rounded up: 4.5 s left"
    clock.advance(4.4)
    assert limiter.hit("k", 3, 60) == Verdict(False, 1), "never less than a second"


def test_refused_hits_do_not_count_and_a_new_window_starts_from_zero(make_limiter):
    clock = Clock()
    limiter = make_limiter(clock)
    for _ in range(10):
        limiter.hit("k", 2, 60)
    clock.advance(20)  # 1_000_020: the next window
    assert [limiter.hit("k", 2, 60).allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit("k", 2, 60).retry_after == 60
    clock.advance(59.9)
    assert limiter.hit("k", 2, 60).allowed is False
    clock.advance(0.1)
    assert limiter.hit("k", 2, 60).allowed is True


def test_keys_count_apart(make_limiter):
    limiter = make_limiter(Clock())
    assert limiter.hit("a", 1, 60).allowed is True
    assert limiter.hit("a", 1, 60).allowed is False
    assert limiter.hit("b", 1, 60).allowed is True
    assert limiter.hit("a|other-client", 1, 60).allowed is True
    assert limiter.hit("b", 1, 60).allowed is False


def test_windows_are_aligned_to_their_length(make_limiter):
    clock = Clock(3_600.0 * 1000 + 3_599)  # one second before an hour boundary
    limiter = make_limiter(clock)
    assert limiter.hit("k", 1, 3600).allowed is True
    assert limiter.hit("k", 1, 3600) == Verdict(False, 1)
    assert limiter.hit("k", 1, 10) == Verdict(True, 0), "another window length is another window"
    clock.advance(1)
    assert limiter.hit("k", 1, 3600).allowed is True


def test_threads_hammering_one_key_get_exactly_the_maximum_through(make_limiter):
    limiter = make_limiter(Clock())
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(25):
            allowed = limiter.hit("contended", 40, 60).allowed
            with lock:
                results.append(allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 200
    assert results.count(True) == 40


# -- DynamoDB specifics ---------------------------------------------------------------------------


@pytest.mark.aws
def test_dynamodb_keeps_one_item_per_key_and_window_with_its_ttl(dynamodb):
    from app.ratelimit.dynamodb import DynamoDBRateLimiter

    clock = Clock()
    limiter = DynamoDBRateLimiter(TABLE, dynamodb, clock=clock)
    limiter.hit("users-auth|198.51.100.9", 5, 60)
    limiter.hit("users-auth|198.51.100.9", 5, 60)
    clock.advance(30)
    limiter.hit("users-auth|198.51.100.9", 5, 60)
    items = {i["pk"]["S"]: i for i in dynamodb.scan(TableName=TABLE)["Items"]}
    assert set(items) == {"users-auth|198.51.100.9#60#999960", "users-auth|198.51.100.9#60#1000020"}
    first = items["users-auth|198.51.100.9#60#999960"]
    assert first["hits"] == {"N": "2"}
    assert first["expiresAt"] == {"N": "1000020"}, "TTL: the end of the window, in Unix seconds"


@pytest.mark.aws
def test_two_limiters_on_one_table_share_the_count(dynamodb, aws_env):
    import boto3

    from app.ratelimit.dynamodb import DynamoDBRateLimiter

    clock = Clock()
    a = DynamoDBRateLimiter(TABLE, dynamodb, clock=clock)
    b = DynamoDBRateLimiter(TABLE, boto3.client("dynamodb", region_name=REGION), clock=clock)
    assert [a.hit("k", 3, 60).allowed, b.hit("k", 3, 60).allowed, a.hit("k", 3, 60).allowed] == [True] * 3
    assert b.hit("k", 3, 60) == Verdict(False, 20)


def _stubbed(error_code: str, times: int = 1) -> Any:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("dynamodb", region_name=REGION)
    stubber = Stubber(client)
    for _ in range(times):
        stubber.add_client_error("update_item", service_error_code=error_code, http_status_code=400)
    stubber.activate()
    return client


@pytest.mark.aws
@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_dynamodb_refuses_when_the_table_is_throttled(aws_env, code):
    from app.ratelimit.dynamodb import DynamoDBRateLimiter

    limiter = DynamoDBRateLimiter(TABLE, _stubbed(code), clock=Clock())
    assert limiter.hit("k", 100, 60) == Verdict(False, 1)


@pytest.mark.aws
def test_dynamodb_lets_hits_through_when_the_table_fails(dynamodb, caplog):
    from app.ratelimit.dynamodb import DynamoDBRateLimiter

    limiter = DynamoDBRateLimiter("no-such-table", dynamodb, clock=Clock())
    with caplog.at_level("ERROR", logger="emmettbase.ratelimit"):
        assert limiter.hit("k", 1, 60).allowed is True
        assert limiter.hit("k", 1, 60).allowed is True
    assert "ResourceNotFoundException" in caplog.text


def test_default_limiter_follows_the_settings(aws_env):
    from app.ratelimit import default_limiter
    from app.ratelimit.dynamodb import DynamoDBRateLimiter
    from app.settings import Settings

    assert isinstance(default_limiter(Settings.from_env({})), MemoryRateLimiter)
    shared = default_limiter(Settings.from_env({"EMMETTBASE_RATE_LIMIT_TABLE": TABLE}))
    assert isinstance(shared, DynamoDBRateLimiter) and shared.table_name == TABLE
