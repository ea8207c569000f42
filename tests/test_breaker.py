"""Circuit breakers: a burst of transient failures rests the endpoint, one probe
decides, and jobs that meet an open breaker keep their attempt budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from switchboard_sdk.testing import StatusServer

from chalicelib.hub import Hub
from chalicelib.pipeline.breaker import BASE_COOLDOWN, THRESHOLD, CircuitBreakers
from tests.conftest import table_items
from tests.helpers import enqueue, event, receive_records
from tools.local.demo import DemoTenant


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        self.ticks = 0.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        self.ticks += 10.0  # every read is past the per-container cache
        return self.ticks


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breakers(hub: Hub, clock: Clock) -> CircuitBreakers:
    return CircuitBreakers(hub.aws.dynamodb, hub.settings.table_name, clock, monotonic=clock.monotonic)


def fail(breakers: CircuitBreakers, times: int) -> None:
    for _ in range(times):
        breakers.record("demo", "webhook", transient_failure=True)


def test_it_opens_after_a_burst_and_only_then(breakers: CircuitBreakers) -> None:
    fail(breakers, THRESHOLD - 1)
    assert breakers.wait_seconds("demo", "webhook") == 0
    fail(breakers, 1)
    assert breakers.wait_seconds("demo", "webhook") == pytest.approx(BASE_COOLDOWN.total_seconds())


def test_failures_in_flight_do_not_extend_an_open_breaker(breakers: CircuitBreakers, clock: Clock) -> None:
    fail(breakers, THRESHOLD + 5)
    assert breakers.wait_seconds("demo", "webhook") == pytest.approx(BASE_COOLDOWN.total_seconds())


def test_one_probe_after_the_cooldown_then_it_closes_on_success(breakers: CircuitBreakers, clock: Clock) -> None:
    fail(breakers, THRESHOLD)
    clock.now += BASE_COOLDOWN + timedelta(seconds=1)
    assert breakers.wait_seconds("demo", "webhook") == 0, "the first caller probes"
    assert breakers.wait_seconds("demo", "webhook") == BASE_COOLDOWN.total_seconds(), "the others wait for it"
    breakers.record("demo", "webhook", transient_failure=False)
    assert breakers.wait_seconds("demo", "webhook") == 0


def test_a_failed_probe_reopens_for_twice_as_long(breakers: CircuitBreakers, clock: Clock) -> None:
    fail(breakers, THRESHOLD)
    clock.now += BASE_COOLDOWN + timedelta(seconds=1)
    assert breakers.wait_seconds("demo", "webhook") == 0
    fail(breakers, 1)
    assert breakers.wait_seconds("demo", "webhook") == pytest.approx(2 * BASE_COOLDOWN.total_seconds())


def test_breakers_are_per_tenant_and_connector(breakers: CircuitBreakers) -> None:
    fail(breakers, THRESHOLD)
    assert breakers.wait_seconds("other-co", "webhook") == 0
    assert breakers.wait_seconds("demo", "hubspot") == 0


def test_jobs_meeting_an_open_breaker_are_not_attempted(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    receiver.status = 503
    events = [event(demo.tenant_id, i, ticket_id=f"tkt_{i}") for i in range(THRESHOLD + 3)]  # one group each
    enqueue(hub, *events)
    seen = 0
    while records := receive_records(hub):  # postponed jobs turn invisible: this ends
        seen += len(records)
        hub.worker.process(records)
    assert seen == len(events)
    assert len(receiver.requests) == THRESHOLD, "after the burst the endpoint rests"
    attempts = {i["pk"] for i in table_items(hub, "delivery")}
    assert len(attempts) == THRESHOLD, "postponed jobs kept their attempt budget"
