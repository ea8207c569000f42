"""The scheduled function: solved tickets close themselves, SLA targets warn and
breach — each exactly once, whether the schedule runs twice, late, or is retried —
read from the due-time index (never a scan)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from switchboard_sdk.testing import StatusServer

import app as app_module
from chalicelib.hub import Hub
from chalicelib.workflow.changes import ChangeActor, TicketPatch
from chalicelib.workflow.service import Cause
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.erasure_support import Clock
from tools.local.demo import DemoTenant


@pytest.fixture
def clock(hub: Hub) -> Clock:
    clock = Clock()
    hub.clock = clock
    return clock


@pytest.fixture
def ticket_id(hub: Hub, demo: DemoTenant, pipeline: Pipeline, clock: Clock) -> str:
    """A new ticket under a policy: first response in 30 minutes (warned 15 before)."""
    from chalice.test import Client

    with Client(app_module.app) as client:
        policy = {"name": "standard", "targets": {"normal": {"first_response_minutes": 30}}}
        answer = client.http.post("/v1/sla-policies", body=json.dumps(policy),
                                  headers={"authorization": f"Bearer {demo.api_key}",
                                           "content-type": "application/json"})
        assert answer.status_code == 201, answer.body
        body = web_message("Where is my order?")
        answer = client.http.post(f"/hooks/{demo.tenant_id}/web", body=body,
                                  headers=signed_web_headers(demo.web_secret, body))
        assert answer.status_code == 202
    pipeline.drain()
    [ticket] = table_items(hub, "ticket")
    return str(ticket["ticket_id"])


def change(hub: Hub, ticket_id: str, patch: TicketPatch, clock: Clock, cause: str, **facts: Any) -> None:
    hub.workflow.change("demo", ticket_id, patch, Cause(id=cause, actor=ChangeActor.system("test"), at=clock()),
                        facts=(lambda _: facts) if facts else None)


def history(hub: Hub, ticket_id: str) -> list[dict[str, Any]]:
    return hub.store.tickets("demo").history(ticket_id)


def catch_up(hub: Hub) -> int:
    """Tick until the schedule has caught up (a tick looks at most 48 hours ahead); timers fired."""
    fired = 0
    for _ in range(10):
        report = hub.scheduler.tick()
        fired += report.fired
        if report.caught_up:
            return fired
    raise AssertionError("the schedule never caught up")


def received(receiver: StatusServer, kind: str) -> list[dict[str, Any]]:
    return [e for e in (json.loads(r.body) for r in receiver.requests) if e.get("type") == kind]


def test_a_solved_ticket_closes_itself_once(hub: Hub, ticket_id: str, clock: Clock, pipeline: Pipeline) -> None:
    change(hub, ticket_id, TicketPatch(status="solved"), clock, "test:solve")
    hub.scheduler.tick()  # nothing due yet
    assert hub.store.tickets("demo").load(ticket_id).status == "solved"
    clock.now += timedelta(hours=96, minutes=2)
    assert catch_up(hub) == 1
    ticket = hub.store.tickets("demo").load(ticket_id)
    assert ticket.status == "closed"
    assert history(hub, ticket_id)[-1]["actor"]["name"] == "auto-close"
    pipeline.drain()
    customer = next(iter(table_items(hub, "customer")))
    assert "open_ticket_id" not in customer
    assert customer["closed_ticket_id"] == ticket_id


def test_a_reopened_ticket_is_not_closed_by_its_old_timer(hub: Hub, ticket_id: str, clock: Clock) -> None:
    change(hub, ticket_id, TicketPatch(status="solved"), clock, "test:solve")
    clock.now += timedelta(hours=1)
    change(hub, ticket_id, TicketPatch(status="open"), clock, "test:reopen")
    clock.now += timedelta(hours=97)
    assert catch_up(hub) == 0
    assert hub.store.tickets("demo").load(ticket_id).status == "open"


def test_sla_warns_then_breaches_once_each_with_the_schedule_run_twice(
        hub: Hub, ticket_id: str, clock: Clock, pipeline: Pipeline, receiver: StatusServer) -> None:
    clock.now += timedelta(minutes=16)
    assert hub.scheduler.tick().fired == 1
    assert hub.scheduler.tick().fired == 0  # the same minute again: nothing new
    clock.now += timedelta(minutes=15)
    assert hub.scheduler.tick().fired == 1
    assert hub.scheduler.tick().fired == 0
    [target] = hub.store.tickets("demo").load(ticket_id).sla
    assert target.state == "breached"
    events = [e["event"] for e in history(hub, ticket_id) if e.get("event")]
    assert events == ["sla_warning", "sla_breached"]
    pipeline.drain()
    assert len(received(receiver, "ticket.sla_warning")) == 1
    [breach] = received(receiver, "ticket.sla_breached")
    assert breach["data"]["target"]["state"] == "breached"


def test_a_late_schedule_catches_up_and_a_met_target_stays_quiet(hub: Hub, ticket_id: str, clock: Clock) -> None:
    hub.scheduler.tick()
    clock.now += timedelta(hours=3)  # the schedule stopped for three hours
    report = hub.scheduler.tick()
    assert report.caught_up
    assert (report.timers, report.fired) == (2, 1)
    assert [e["event"] for e in history(hub, ticket_id) if e.get("event")] == ["sla_breached"]


def test_a_met_target_fires_nothing(hub: Hub, ticket_id: str, clock: Clock) -> None:
    hub.scheduler.tick()
    clock.now += timedelta(minutes=5)
    change(hub, ticket_id, TicketPatch(), clock, "test:answered", first_response_at=clock(), awaiting_since=None)
    [target] = hub.store.tickets("demo").load(ticket_id).sla
    assert target.state == "met"
    clock.now += timedelta(minutes=40)
    report = hub.scheduler.tick()
    assert (report.timers, report.fired) == (2, 0)


def test_an_idle_tick_costs_one_query_per_shard_and_hour(hub: Hub, ticket_id: str, clock: Clock) -> None:
    hub.scheduler.tick()
    clock.now += timedelta(seconds=59)
    report = hub.scheduler.tick()
    assert report.queries in (4, 8)  # four shards of the hour (eight when the minute crossed an hour)


def test_a_failing_timer_is_tried_again_by_the_next_tick(hub: Hub, ticket_id: str, clock: Clock) -> None:
    hub.scheduler.tick()
    calls: list[str] = []
    sla = hub.scheduler._handlers["sla"]

    def flaky(timer: Any, now: Any) -> None:
        calls.append(timer.name)
        if len(calls) == 1:
            raise TimeoutError("DynamoDB did not answer")
        sla(timer, now)

    hub.scheduler._handlers["sla"] = flaky
    clock.now += timedelta(minutes=16)
    assert hub.scheduler.tick().failed == 1
    assert hub.scheduler.tick().fired == 1
    assert [e["event"] for e in history(hub, ticket_id) if e.get("event")] == ["sla_warning"]


def test_timers_live_in_due_hour_partitions(hub: Hub, ticket_id: str, clock: Clock) -> None:
    timers = table_items(hub, "timer")
    assert sorted(t["timer"] for t in timers) == ["sla:first_response:due", "sla:first_response:warn"]
    assert all(t["pk"].startswith("DUE#") for t in timers)
    assert all(t["sk"].startswith(t["due_at"]) and t["expires_at"] for t in timers)
