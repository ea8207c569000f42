"""Per-tenant rate limits: one budget per (tenant, bucket, window) shared by every
container, leased in blocks so a busy tenant costs a table call per lease."""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_sdk import RateLimited

from chalicelib.settings import Settings
from chalicelib.storage.aws import AwsClients
from chalicelib.storage.items import from_item
from chalicelib.storage.keys import TenantKeys
from chalicelib.tenancy.ratelimit import EXPIRY_SECONDS, RateLimiter, window_for
from tests.conftest import AtomicCalls

TABLE = "switchboard"
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a whole second: a window starts here


class Clock:
    def __init__(self) -> None:
        self.now = START + timedelta(seconds=0.25)

    def __call__(self) -> datetime:
        return self.now


class CallCounter:
    """Counts DynamoDB API calls through botocore's ``before-call`` event."""

    def __init__(self, client: Any) -> None:
        self.calls = 0
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1


class InFlight:
    """A client whose calls take a millisecond, as over a network, counting the
    most calls it had in flight at once."""

    def __init__(self, client: Any) -> None:
        self._client, self._lock = client, threading.Lock()
        self.now = self.most = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(0.001)  # other threads run meanwhile
                return attribute(*args, **kwargs)
            finally:
                with self._lock:
                    self.now -= 1

        return call


@pytest.fixture
def db(aws: AwsClients) -> Any:
    client = aws.dynamodb
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
    )
    return client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(db: Any, clock: Clock) -> RateLimiter:
    return RateLimiter(db, TABLE, clock)


def admitted(limiter: RateLimiter, times: int, tenant: str = "acme", bucket: str = "webhook",
             per_second: float = 10) -> int:
    count = 0
    for _ in range(times):
        try:
            limiter.check(tenant, bucket, per_second)
        except RateLimited:
            continue
        count += 1
    return count


def counter_item(db: Any, tenant: str, bucket: str, window_start: datetime) -> dict[str, Any]:
    key = TenantKeys(tenant).rate_window(bucket, int(window_start.timestamp()))
    return from_item(db.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"])


def test_requests_under_the_limit_all_pass(limiter: RateLimiter) -> None:
    assert admitted(limiter, 10) == 10


def test_over_the_limit_is_a_429_with_retry_after_until_the_window_ends(limiter: RateLimiter) -> None:
    admitted(limiter, 10)
    with pytest.raises(RateLimited) as refused:
        limiter.check("acme", "webhook", 10)
    assert refused.value.status == 429
    assert refused.value.headers() == {"Retry-After": "1"}


def test_retry_after_counts_the_seconds_left_in_a_longer_window(db: Any, clock: Clock) -> None:
    limiter = RateLimiter(db, TABLE, clock, window_seconds=10)
    clock.now = START + timedelta(seconds=3.2)
    assert admitted(limiter, 100) == 100, "10 requests/s over a 10 s window"
    with pytest.raises(RateLimited) as refused:
        limiter.check("acme", "webhook", 10)
    assert refused.value.retry_after_seconds == 7  # 6.8 s left, rounded up


def test_a_rate_under_one_per_second_gets_a_window_long_enough_for_one_request(
    limiter: RateLimiter, clock: Clock
) -> None:
    clock.now = START + timedelta(seconds=1)
    assert admitted(limiter, 3, per_second=0.2) == 1, "one request per 5 s"
    with pytest.raises(RateLimited) as refused:
        limiter.check("acme", "webhook", 0.2)
    assert refused.value.retry_after_seconds == 4
    clock.now = START + timedelta(seconds=5)
    assert admitted(limiter, 1, per_second=0.2) == 1


@pytest.mark.parametrize(("per_second", "base", "seconds", "budget"), [
    (100, 1, 1, 100), (2.5, 1, 1, 2), (0.2, 1, 5, 1), (0.3, 1, 4, 1), (0.29, 1, 4, 1), (10, 10, 10, 100),
])
def test_windows_and_budgets(per_second: float, base: int, seconds: int, budget: int) -> None:
    window = window_for(per_second, START.timestamp() + 0.5, base)
    assert (window.seconds, window.budget) == (seconds, budget)
    assert window.start <= START.timestamp() + 0.5 < window.end
    assert window.start % seconds == 0


def test_a_new_window_refills_and_counters_expire(limiter: RateLimiter, clock: Clock, db: Any) -> None:
    assert admitted(limiter, 15) == 10
    item = counter_item(db, "acme", "webhook", START)
    assert item["used"] == 10
    assert item["type"] == "rate_window"
    assert item["expires_at"] == int(START.timestamp()) + 1 + EXPIRY_SECONDS
    clock.now += timedelta(seconds=1)
    assert admitted(limiter, 15) == 10


def test_two_containers_share_one_budget(db: Any, clock: Clock) -> None:
    containers = [RateLimiter(db, TABLE, clock), RateLimiter(db, TABLE, clock)]
    shuffle = random.Random(7)
    counts = [0, 0]
    for _ in range(400):
        which = shuffle.randrange(2)
        counts[which] += admitted(containers[which], 1, per_second=100)
    assert sum(counts) == 100, "a container refuses only when its lease is spent and the window is empty"
    assert min(counts) > 20, "both got a share"
    assert counter_item(db, "acme", "webhook", START)["used"] == 100


def test_containers_and_threads_racing_never_exceed_the_budget(db: Any, clock: Clock) -> None:
    atomic = AtomicCalls(db)  # moto does not lock; DynamoDB applies each update atomically
    clients = [InFlight(atomic), InFlight(atomic)]
    containers = [RateLimiter(client, TABLE, clock) for client in clients]
    counts: list[int] = []
    lock, start = threading.Lock(), threading.Barrier(8)

    def hammer(container: RateLimiter) -> None:
        start.wait()
        got = admitted(container, 300, per_second=1000)
        with lock:
            counts.append(got)

    threads = [threading.Thread(target=hammer, args=(c,)) for c in containers for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 1000, "every token leased was spent"
    assert [client.most for client in clients] == [1, 1], "a container's threads wait for its lease call"


def test_tenants_and_buckets_have_budgets_of_their_own(limiter: RateLimiter) -> None:
    assert admitted(limiter, 12, tenant="acme") == 10
    assert admitted(limiter, 12, tenant="globex") == 10
    assert admitted(limiter, 12, tenant="acme", bucket="api") == 10


def test_a_quiet_container_leases_one_token_and_a_busy_one_at_most_what_it_spent(
    limiter: RateLimiter, db: Any
) -> None:
    limiter.check("acme", "webhook", 100)
    assert counter_item(db, "acme", "webhook", START)["used"] == 1
    admitted(limiter, 9, per_second=100)
    used = counter_item(db, "acme", "webhook", START)["used"]
    assert 10 < used <= 2 * 10, "leases grow with demand, never past twice what was spent"


@pytest.mark.parametrize("per_second", [100, 1000])
def test_a_busy_tenant_costs_about_one_call_per_lease(db: Any, clock: Clock, per_second: int) -> None:
    limiter, counter = RateLimiter(db, TABLE, clock), CallCounter(db)
    lease = per_second // 20
    assert admitted(limiter, per_second, per_second=per_second) == per_second
    first = counter.calls
    # ramping up costs log2(lease) leases; the last, refused, one takes what is left
    assert per_second / lease <= first <= per_second / lease + math.ceil(math.log2(lease)) + 2
    assert admitted(limiter, 50, per_second=per_second) == 0
    assert counter.calls == first + 1, "after one refusal the window is refused locally"
    clock.now += timedelta(seconds=1)
    counter.calls = 0
    assert admitted(limiter, per_second, per_second=per_second) == per_second
    assert counter.calls <= per_second / lease + 2, "the next window starts at full lease size"
    print(f"per_second={per_second} calls_per_request first_window={first / per_second:.3f} "
          f"steady={counter.calls / per_second:.3f}")


def test_when_the_table_fails_it_fails_open_and_the_container_limits_alone(
    aws: AwsClients, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RateLimiter(aws.dynamodb, "no-such-table", clock)  # every call: ResourceNotFoundException
    counter = CallCounter(aws.dynamodb)
    with caplog.at_level(logging.WARNING, logger="chalicelib.tenancy.ratelimit"):
        assert admitted(limiter, 10) == 10, "a table failure never refuses a request"
        warnings = [r for r in caplog.records if "ratelimit.unavailable" in r.getMessage()]
        assert len(warnings) == 1
        assert "ResourceNotFoundException" in warnings[0].getMessage()
        assert warnings[0].levelno == logging.WARNING
        with pytest.raises(RateLimited):
            limiter.check("acme", "webhook", 10)  # this container alone already admitted the budget
        assert counter.calls == 1, "no table call per request while it is down"
        clock.now += timedelta(seconds=1)
        limiter.check("acme", "webhook", 10)
    assert counter.calls == 2, "the next window asks the table again"


@pytest.mark.parametrize("per_second", [0, -1, math.nan, math.inf])
def test_a_limit_must_be_a_positive_rate(limiter: RateLimiter, per_second: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        limiter.check("acme", "webhook", per_second)


@pytest.mark.parametrize(("tenant", "bucket"), [("acme", "web#hook"), ("acme", ""), ("T#acme", "webhook")])
def test_tenant_and_bucket_are_validated(limiter: RateLimiter, tenant: str, bucket: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        limiter.check(tenant, bucket, 10)


def test_default_rates_come_from_the_environment() -> None:
    assert (Settings.from_env({}).webhook_rate, Settings.from_env({}).api_rate) == (100.0, 20.0)
    settings = Settings.from_env({"SWITCHBOARD_WEBHOOK_RATE": "250", "SWITCHBOARD_API_RATE": "2.5"})
    assert (settings.webhook_rate, settings.api_rate) == (250.0, 2.5)
    with pytest.raises(ValueError, match="SWITCHBOARD_API_RATE"):
        Settings.from_env({"SWITCHBOARD_API_RATE": "lots"})
