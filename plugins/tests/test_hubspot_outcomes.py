"""The ``hubspot`` connector's outcomes: HubSpot's failures, rate limits, time budget, secrets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from fakes import loopback_allowed, loopback_transport
from fakes.hubspot_server import FakeHubSpot
from switchboard_plugins.hubspot.client import rate_limit_wait
from switchboard_plugins.hubspot.config import HubSpotConfig
from switchboard_plugins.hubspot.deliver import deliver as hubspot_deliver
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext, HttpResponse, MemoryExternalIds

TOKEN = "pat-na1-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"  # noqa: S105 -- a made-up private-app token the fake expects
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)
TRANSPORT = loopback_transport()  # the fakes are loopback servers, refused by default


def ticket_event(ticket_id: str = "tkt_1") -> EventEnvelope:
    ticket = {"id": ticket_id, "tenant_id": "t", "customer_id": "cus_1", "channel": "web", "subject": "Help",
              "created_at": NOW.isoformat(), "last_activity_at": NOW.isoformat()}
    return EventEnvelope(id=f"evt_{ticket_id}", type="ticket.created", tenant_id="t", ticket_id=ticket_id,
                         occurred_at=NOW, data={"ticket": ticket})


def deliver(fake: FakeHubSpot, event: EventEnvelope | None = None, ids: MemoryExternalIds | None = None, *,
            timeout: float = 5.0, token: str = TOKEN, config_timeout: float = 10.0) -> DeliveryOutcome:
    config = HubSpotConfig.model_validate(
        {"access_token": token, "base_url": fake.url, "timeout_seconds": config_timeout}
    )
    context = DeliveryContext(http=TRANSPORT, clock=lambda: NOW, timeout_seconds=timeout,
                              external_ids=ids if ids is not None else MemoryExternalIds())
    return hubspot_deliver(event or ticket_event(), config, context)


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(TOKEN) as server:
        yield server


RATE_LIMITED = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}


# -- rate limits --------------------------------------------------------------------------------


def test_429_is_retried_after_retry_after(fake: FakeHubSpot) -> None:
    fake.fail(429, headers={"Retry-After": "7"}, body=RATE_LIMITED)
    outcome = deliver(fake)
    assert (outcome.kind, outcome.status_code, outcome.retry_after_seconds) == ("retry", 429, 7)
    assert "rate limited" in outcome.reason


def test_429_with_an_http_date_retry_after(fake: FakeHubSpot) -> None:
    fake.fail(429, headers={"Retry-After": format_datetime(NOW + timedelta(seconds=30), usegmt=True)})
    assert deliver(fake).retry_after_seconds == 30


def test_429_without_retry_after_waits_for_the_rolling_window(fake: FakeHubSpot) -> None:
    headers = {"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Remaining": "0",
               "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    fake.fail(429, headers=headers, body=RATE_LIMITED)
    assert deliver(fake).retry_after_seconds == 10


def test_429_of_the_daily_limit_says_so(fake: FakeHubSpot) -> None:
    fake.fail(429, headers={"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "0"})
    outcome = deliver(fake)
    assert (outcome.kind, outcome.retry_after_seconds) == ("retry", None)
    assert "daily limit reached" in outcome.reason


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"retry-after": "3", "x-hubspot-ratelimit-remaining": "0"}, 3),
        ({"x-hubspot-ratelimit-remaining": "5", "x-hubspot-ratelimit-interval-milliseconds": "10000"}, None),
        ({"x-hubspot-ratelimit-remaining": "0", "x-hubspot-ratelimit-interval-milliseconds": "soon"}, None),
        ({"x-hubspot-ratelimit-remaining": "0", "x-hubspot-ratelimit-interval-milliseconds": "86400000"}, 3600),
        ({"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "1500"}, 1.5),
    ],
)
def test_rate_limit_wait(headers: dict[str, str], seconds: float | None) -> None:
    assert rate_limit_wait(HttpResponse(429, headers, b"{}"), NOW) == seconds


def test_a_429_mid_flow_resumes_without_a_second_contact(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    fake.fail(429, headers={"Retry-After": "2"}, when="POST /crm/v3/objects/tickets")
    outcome = deliver(fake, ids=ids)
    assert (outcome.kind, outcome.retry_after_seconds) == ("retry", 2)
    assert (len(fake.records["contacts"]), len(fake.records["tickets"])) == (1, 0)
    fake.requests.clear()
    assert deliver(fake, ids=ids).kind == "delivered"
    assert (len(fake.records["contacts"]), len(fake.records["tickets"])) == (1, 1)
    assert not fake.calls("POST", "/contacts")  # the contact was remembered on the first attempt


# -- HubSpot's rejections ------------------------------------------------------------------------


def test_a_rejected_token_fails_without_showing_it(fake: FakeHubSpot) -> None:
    wrong = "pat-na1-99999999-8888-7777-6666-000000000000"
    outcome = deliver(fake, token=wrong)
    assert (outcome.kind, outcome.status_code) == ("failed", 401)
    assert "access token" in outcome.reason
    assert wrong not in outcome.model_dump_json()
    assert TOKEN not in outcome.model_dump_json()


@pytest.mark.parametrize("status", [400, 403, 404, 409, 429, 500])
def test_a_token_echoed_by_hubspot_is_redacted(fake: FakeHubSpot, status: int) -> None:
    fake.fail(status, body={"status": "error", "message": f"bad header Authorization: Bearer {TOKEN}"})
    outcome = deliver(fake)
    assert TOKEN not in outcome.model_dump_json()
    assert "[redacted]" in outcome.reason


def test_missing_scopes_fail_with_a_hint(fake: FakeHubSpot) -> None:
    fake.fail(403, body={"status": "error", "category": "MISSING_SCOPES",
                         "message": "This app hasn't been granted all required scopes to make this call."})
    outcome = deliver(fake)
    assert (outcome.kind, outcome.status_code) == ("failed", 403)
    assert "scope" in outcome.reason
    assert "docs/connectors/hubspot.md" in outcome.reason


def test_a_missing_custom_property_fails_with_a_hint(fake: FakeHubSpot) -> None:
    fake.known["tickets"].discard("switchboard_ticket_id")
    outcome = deliver(fake)
    assert (outcome.kind, outcome.status_code) == ("failed", 400)
    assert "switchboard_* custom properties" in outcome.reason


def test_a_deleted_mapped_ticket_fails_instead_of_recreating_it(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    deliver(fake, ids=ids)
    fake.records["tickets"].clear()
    outcome = deliver(fake, ids=ids)
    assert (outcome.kind, outcome.status_code) == ("failed", 404)
    assert fake.records["tickets"] == {}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(fake: FakeHubSpot, status: int) -> None:
    fake.fail(status)
    outcome = deliver(fake)
    assert (outcome.kind, outcome.status_code) == ("retry", status)
    assert deliver(fake).kind == "delivered"


def test_a_2xx_that_is_not_json_is_retried(fake: FakeHubSpot) -> None:
    fake.fail(200, body=b"<html>maintenance</html>")
    outcome = deliver(fake)
    assert (outcome.kind, outcome.status_code) == ("retry", 200)


def test_a_created_record_without_an_id_is_retried(fake: FakeHubSpot) -> None:
    fake.fail(201, body={"properties": {}}, when="POST /crm/v3/objects/contacts")
    outcome = deliver(fake)
    assert outcome.kind == "retry"
    assert "record id" in outcome.reason


def test_malformed_event_data_fails_for_good(fake: FakeHubSpot) -> None:
    event = EventEnvelope(id="evt_x", type="ticket.created", tenant_id="t", ticket_id="tkt_1", occurred_at=NOW,
                          data={"ticket": {"id": "tkt_1"}})
    outcome = deliver(fake, event)
    assert outcome.kind == "failed"
    assert "malformed" in outcome.reason
    assert fake.requests == []


# -- time ------------------------------------------------------------------------------------------


def test_a_slow_hubspot_times_out_and_is_retried(fake: FakeHubSpot) -> None:
    fake.delay = 0.6
    started = time.monotonic()
    outcome = deliver(fake, timeout=0.2)
    assert outcome.kind == "retry"
    assert "0.2s" in outcome.reason
    assert time.monotonic() - started < 0.5


def test_the_config_timeout_bounds_each_call(fake: FakeHubSpot) -> None:
    fake.delay = 0.6
    outcome = deliver(fake, timeout=5.0, config_timeout=0.2)
    assert outcome.kind == "retry"
    assert "0.2s" in outcome.reason


def test_the_context_timeout_bounds_the_whole_delivery(fake: FakeHubSpot) -> None:
    fake.delay = 0.15  # each call is quick, but a new ticket takes four of them
    started = time.monotonic()
    outcome = deliver(fake, timeout=0.4)
    assert outcome.kind == "retry"
    assert time.monotonic() - started < 0.8
    fake.delay = 0.0
    assert deliver(fake).kind == "delivered"
    assert len(fake.records["tickets"]) == 1
