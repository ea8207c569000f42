"""The ``hubspot`` connector and the workflow's events: stage, priority and owner changes,
assignments, SLA and CSAT notes, against the fake HubSpot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes import loopback_allowed
from fakes.hubspot_server import FakeHubSpot
from fakes.workflow_events import WorkflowEvents
from switchboard_plugins.hubspot.config import HubSpotConfig
from switchboard_sdk.models import EventEnvelope
from switchboard_sdk.transport import MemoryExternalIds
from test_hubspot import NOW, TOKEN, deliver, message_event, ticket_event

__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)
OWNERS = {"agent-ada": "51001", "agent-bob": "51002"}


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(TOKEN) as server:
        yield server


EVENTS = WorkflowEvents(NOW, channel="email", subject="Refund for order 42")
ticket, updated, event = EVENTS.ticket, EVENTS.updated, EVENTS.event


def sla_target(**fields: Any) -> dict[str, Any]:
    return {"metric": "first_response", "policy_id": "pol_vip", "state": "warning", "started_at": NOW.isoformat(),
            "due_at": "2026-01-02T03:34:05+00:00", "target_minutes": 30, "business_hours": True} | fields


def filed(fake: FakeHubSpot, ids: MemoryExternalIds) -> dict[str, str]:
    assert deliver(fake, ticket_event(), ids).kind == "delivered"
    fake.requests.clear()
    ((_, record),) = fake.records["tickets"].items()
    return record


def patches(fake: FakeHubSpot) -> list[dict[str, Any]]:
    return [request.body["properties"] for request in fake.calls("PATCH", "/tickets/")]


# -- ticket.updated ------------------------------------------------------------------------


def test_a_status_change_moves_the_ticket_to_its_stage_and_nothing_else(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    outcome = deliver(fake, updated({"status": ("open", "pending")}, status="pending", priority="high"), ids)
    assert outcome.kind == "delivered"
    assert patches(fake) == [{"hs_pipeline": "0", "hs_pipeline_stage": "2"}]
    assert [r.method for r in fake.requests] == ["PATCH"]  # the mapping named the ticket: no search
    assert (record["hs_pipeline_stage"], record["hs_ticket_priority"]) == ("2", "MEDIUM")  # priority not in changes


@pytest.mark.parametrize(("status", "stage"), [("new", "1"), ("on_hold", "3"), ("merged", "4"), ("solved", "3")])
def test_the_new_statuses_have_default_stages(fake: FakeHubSpot, status: str, stage: str) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    assert deliver(fake, updated({"status": ("open", status)}, status=status), ids).kind == "delivered"
    assert record["hs_pipeline_stage"] == stage


@pytest.mark.parametrize(("priority", "option"), [("urgent", "URGENT"), ("high", "HIGH"), ("normal", "MEDIUM"),
                                                  ("low", "LOW")])
def test_a_priority_change_sets_hs_ticket_priority(fake: FakeHubSpot, priority: str, option: str) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    assert deliver(fake, updated({"priority": ("normal", priority)}, priority=priority), ids).kind == "delivered"
    assert patches(fake) == [{"hs_ticket_priority": option}]
    assert record["hs_ticket_priority"] == option


def test_a_tenant_maps_priorities_to_its_own_options(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    deliver(fake, updated({"priority": ("normal", "urgent")}, priority="urgent"), ids,
            priority_by_priority={"urgent": "HIGH"})
    assert patches(fake) == [{"hs_ticket_priority": "HIGH"}]


def test_an_assignee_change_sets_the_mapped_owner(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    change = updated({"assignee_id": (None, "agent-bob")}, assignee_id="agent-bob")
    assert deliver(fake, change, ids, owner_by_agent=OWNERS).kind == "delivered"
    assert record["hubspot_owner_id"] == "51002"


def test_an_unmapped_agent_or_nobody_clears_the_owner(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    deliver(fake, updated({"assignee_id": (None, "agent-ada")}, 1, assignee_id="agent-ada"), ids, owner_by_agent=OWNERS)
    assert record["hubspot_owner_id"] == "51001"
    deliver(fake, updated({"assignee_id": ("agent-ada", "agent-eve")}, 2, assignee_id="agent-eve"), ids,
            owner_by_agent=OWNERS)
    assert record["hubspot_owner_id"] == ""
    deliver(fake, updated({"assignee_id": ("agent-eve", None)}, 3), ids, owner_by_agent=OWNERS)
    assert patches(fake)[-1] == {"hubspot_owner_id": ""}


def test_without_an_owner_map_assignments_make_no_call(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    outcome = deliver(fake, updated({"assignee_id": (None, "agent-ada"), "tags": ([], ["vip"])},
                                    assignee_id="agent-ada", tags=["vip"]), ids)
    assert (outcome.kind, fake.requests) == ("delivered", [])
    assert "hubspot_owner_id" not in record


def test_an_owner_hubspot_does_not_know_fails_with_its_answer(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    outcome = deliver(fake, updated({"assignee_id": (None, "agent-ada")}, assignee_id="agent-ada"), ids,
                      owner_by_agent={"agent-ada": "777"})
    assert (outcome.kind, outcome.status_code) == ("failed", 400)
    assert "INVALID_OWNER_ID" in outcome.reason


def test_an_update_of_a_ticket_never_filed_files_it_in_its_current_state(fake: FakeHubSpot) -> None:
    change = updated({"status": ("new", "open")}, status="on_hold", priority="urgent", assignee_id="agent-ada")
    assert deliver(fake, change, owner_by_agent=OWNERS).kind == "delivered"
    ((_, record),) = fake.records["tickets"].items()
    assert (record["hs_pipeline_stage"], record["hs_ticket_priority"], record["hubspot_owner_id"]) == (
        "3", "URGENT", "51001")
    assert record["switchboard_ticket_id"] == "tkt_1"
    assert len(fake.records["contacts"]) == 1


def test_an_update_after_the_mapping_was_lost_finds_the_ticket(fake: FakeHubSpot) -> None:
    filed(fake, MemoryExternalIds())
    assert deliver(fake, updated({"status": ("open", "closed")}, status="closed")).kind == "delivered"
    ((_, record),) = fake.records["tickets"].items()
    assert record["hs_pipeline_stage"] == "4"


def test_the_same_update_twice_is_harmless(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    change = updated({"status": ("open", "solved"), "priority": ("normal", "low")}, 4, status="solved", priority="low")
    assert deliver(fake, change, ids).kind == "delivered"
    snapshot = dict(record)
    assert deliver(fake, change, ids).kind == "delivered"
    assert (record, len(fake.records["tickets"])) == (snapshot, 1)
    assert ids.get("version", "tkt_1") == "4"


def test_an_older_update_redelivered_after_a_newer_one_is_skipped(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    older = updated({"status": ("open", "pending")}, 2, status="pending")
    newer = updated({"status": ("pending", "solved")}, 3, status="solved")
    deliver(fake, older, ids)
    deliver(fake, newer, ids)
    fake.requests.clear()
    assert deliver(fake, older, ids).kind == "delivered"
    assert (record["hs_pipeline_stage"], fake.requests) == ("3", [])


def test_malformed_changes_fail_for_good(fake: FakeHubSpot) -> None:
    broken = updated({}).model_copy(update={"data": {"ticket": ticket(), "changes": [{"before": 1}]}})
    outcome = deliver(fake, broken)
    assert (outcome.kind, fake.requests) == ("failed", [])
    assert "ticket.updated" in outcome.reason


def test_a_ticket_created_carries_its_priority(fake: FakeHubSpot) -> None:
    deliver(fake, ticket_event(status="new"))
    ((_, record),) = fake.records["tickets"].items()
    assert (record["hs_pipeline_stage"], record["hs_ticket_priority"]) == ("1", "MEDIUM")


def test_a_config_of_the_four_old_statuses_still_validates_and_fills_the_new_ones(fake: FakeHubSpot) -> None:
    old = {"access_token": TOKEN, "stage_by_status": {"open": "1", "pending": "2", "solved": "4", "closed": "4"}}
    config = HubSpotConfig.model_validate(old)
    assert (config.stage("new"), config.stage("on_hold"), config.stage("merged"), config.stage("solved")) == (
        "1", "3", "4", "4")
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    deliver(fake, updated({"status": ("open", "on_hold")}, status="on_hold"), ids,
            stage_by_status=old["stage_by_status"])
    assert record["hs_pipeline_stage"] == "3"


# -- ticket.assigned -----------------------------------------------------------------------


def assigned(agent: str | None) -> EventEnvelope:
    data = {"ticket": ticket(2, assignee_id=agent), "assignee_id": agent, "group_id": "grp_vip",
            "actor": {"kind": "rule", "id": "rule_1"}}
    return event("ticket.assigned", data, "evt_a_1")


def test_an_assignment_sets_the_mapped_owner(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    assert deliver(fake, assigned("agent-ada"), ids, owner_by_agent=OWNERS).kind == "delivered"
    assert (patches(fake), record["hubspot_owner_id"]) == ([{"hubspot_owner_id": "51001"}], "51001")


def test_an_assignment_announced_by_both_events_writes_the_owner_once(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    change = updated({"assignee_id": (None, "agent-bob")}, 2, assignee_id="agent-bob")
    echo = event("ticket.assigned", {"ticket": ticket(2, assignee_id="agent-bob"), "assignee_id": "agent-bob"}, "e2")
    assert [deliver(fake, e, ids, owner_by_agent=OWNERS).kind for e in (change, echo)] == ["delivered"] * 2
    assert (patches(fake), record["hubspot_owner_id"]) == ([{"hubspot_owner_id": "51002"}], "51002")


def test_an_assignment_without_an_owner_map_is_delivered_without_a_call(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    assert deliver(fake, assigned("agent-ada"), ids).kind == "delivered"
    assert fake.requests == []


# -- notes: SLA and CSAT -------------------------------------------------------------------


def notes_of(fake: FakeHubSpot) -> list[tuple[str, dict[str, str]]]:
    return list(fake.records["notes"].items())


@pytest.mark.parametrize(("kind", "head"), [("ticket.sla_warning", "SLA warning"),
                                            ("ticket.sla_breached", "SLA breached")])
def test_an_sla_event_leaves_a_note_on_the_ticket(fake: FakeHubSpot, kind: str, head: str) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    assert deliver(fake, event(kind, {"target": sla_target()}), ids).kind == "delivered"
    ((note_id, note),) = notes_of(fake)
    ((ticket_id, _),) = fake.records["tickets"].items()
    assert fake.associated("notes", note_id) == [("tickets", ticket_id, 228)]
    assert f"{head}: first response due 2026-01-02 03:34 UTC" in note["hs_note_body"]
    assert "Target 30 min (business hours), policy pol_vip" in note["hs_note_body"]
    assert (note["switchboard_event_id"], note["hs_timestamp"]) == ("evt_w_1", "2026-01-02T03:04:05.000Z")


def test_a_csat_score_leaves_an_escaped_note(fake: FakeHubSpot) -> None:
    csat = {"score": 2, "comment": "<b>slow</b> reply", "agent_id": "agent-ada", "channel": "wechat",
            "at": NOW.isoformat()}
    assert deliver(fake, event("csat.received", {"csat": csat})).kind == "delivered"
    ((_, note),) = notes_of(fake)
    assert "Customer satisfaction: 2/5 via wechat" in note["hs_note_body"]
    assert "Comment: &lt;b&gt;slow&lt;/b&gt; reply" in note["hs_note_body"]
    assert len(fake.records["tickets"]) == 1  # the ticket was filed first


def test_a_replayed_note_event_adds_no_second_note(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    sla = event("ticket.sla_breached", {"target": sla_target(state="breached")})
    deliver(fake, sla, ids)
    fake.requests.clear()
    assert deliver(fake, sla, ids).kind == "delivered"
    assert fake.requests == []
    assert deliver(fake, sla, MemoryExternalIds()).kind == "delivered"  # mapping lost: found by property
    assert len(notes_of(fake)) == 1


def test_a_malformed_sla_target_fails_for_good(fake: FakeHubSpot) -> None:
    outcome = deliver(fake, event("ticket.sla_warning", {"target": {"metric": "lunch"}}))
    assert (outcome.kind, fake.requests) == ("failed", [])


# -- replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["message.sent", "message.failed"])
def test_a_reply_is_noted_once_on_message_created_not_on_its_later_events(fake: FakeHubSpot, kind: str) -> None:
    ids = MemoryExternalIds()
    reply = message_event("msg_r", direction="outbound", author_id="agent-ada", text="Refund sent")
    assert deliver(fake, reply, ids).kind == "delivered"
    later = reply.model_copy(update={"type": kind, "id": "evt_later"})
    fake.requests.clear()
    assert deliver(fake, later, ids).kind == "delivered"
    assert (fake.requests, len(notes_of(fake))) == ([], 1)
