"""The ``odoo`` connector and the workflow's events: stage, priority and salesperson
changes, assignments, SLA and CSAT chatter notes, against the fake Odoo (both protocols)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes import loopback_allowed
from fakes.odoo_server import API_KEY, FakeOdoo
from fakes.workflow_events import WorkflowEvents
from pydantic import ValidationError
from switchboard_plugins.odoo import client
from switchboard_plugins.odoo.config import OdooConfig
from switchboard_sdk.models import EventEnvelope
from switchboard_sdk.transport import MemoryExternalIds
from test_odoo import NOW, deliver, make_config, message_event, ticket_event

__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    client.clear_caches()
    yield
    client.clear_caches()


@pytest.fixture(params=["json2", "jsonrpc"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeOdoo]:
    with FakeOdoo() as server:
        server.json2_enabled = request.param == "json2"
        yield server


EVENTS = WorkflowEvents(NOW, channel="email", subject="Printer on fire")
ticket, updated, event = EVENTS.ticket, EVENTS.updated, EVENTS.event


def sla_target(**fields: Any) -> dict[str, Any]:
    return {"metric": "next_response", "policy_id": "pol_std", "state": "warning", "started_at": NOW.isoformat(),
            "due_at": "2026-01-02T05:00:00+00:00", "target_minutes": 120} | fields


def filed(fake: FakeOdoo, ids: MemoryExternalIds, **overrides: Any) -> dict[str, Any]:
    assert deliver(make_config(fake.url, **overrides), ticket_event(), ids).kind == "delivered"
    fake.calls.clear()
    (record,) = fake.rows("helpdesk.ticket")
    return record


def run(fake: FakeOdoo, event: EventEnvelope, ids: MemoryExternalIds, **overrides: Any) -> Any:
    return deliver(make_config(fake.url, **overrides), event, ids)


def owners(fake: FakeOdoo) -> dict[str, int]:
    return {"agent-ada": fake.users["Mitchell Admin"], "agent-bob": fake.users["Marc Demo"]}


# -- ticket.updated --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "stage"), [("new", "New"), ("open", "In Progress"), ("pending", "On Hold"),
                                               ("on_hold", "On Hold"), ("solved", "Solved"), ("closed", "Solved"),
                                               ("merged", "Cancelled")])
def test_a_status_change_moves_the_helpdesk_ticket_to_its_stage(fake: FakeOdoo, status: str, stage: str) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    assert run(fake, updated({"status": ("new", status)}, status=status, priority="high"), ids).kind == "delivered"
    assert record["stage_id"] == fake.stages[("helpdesk.stage", stage)]
    assert "priority" not in record  # not among the changes
    assert fake.methods() == ["helpdesk.stage.search_read", "helpdesk.ticket.write"]


@pytest.mark.parametrize(("priority", "value"), [("urgent", "3"), ("high", "2"), ("normal", "1"), ("low", "0")])
def test_a_priority_change_sets_the_priority(fake: FakeOdoo, priority: str, value: str) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    assert run(fake, updated({"priority": ("normal", priority)}, priority=priority), ids).kind == "delivered"
    assert record["priority"] == value
    assert fake.methods() == ["helpdesk.ticket.write"]


def test_an_assignee_change_sets_the_mapped_user_and_clears_it_for_others(fake: FakeOdoo) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    mapping = owners(fake)
    run(fake, updated({"assignee_id": (None, "agent-bob")}, 1, assignee_id="agent-bob"), ids, owner_by_agent=mapping)
    assert record["user_id"] == fake.users["Marc Demo"]
    run(fake, updated({"assignee_id": ("agent-bob", "agent-eve")}, 2, assignee_id="agent-eve"), ids,
        owner_by_agent=mapping)
    assert record["user_id"] is False


def test_without_an_owner_map_assignments_make_no_call(fake: FakeOdoo) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    change = updated({"assignee_id": (None, "agent-ada"), "tags": ([], ["vip"])}, assignee_id="agent-ada")
    assert run(fake, change, ids).kind == "delivered"
    assert (fake.calls, "user_id" in record) == ([], False)


def test_a_stage_odoo_lacks_fails_naming_it(fake: FakeOdoo) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    outcome = run(fake, updated({"status": ("open", "solved")}, status="solved"), ids,
                  stage_by_status={"solved": "Résolu"})
    assert outcome.kind == "failed"
    assert "no helpdesk.stage named 'Résolu'" in outcome.reason


def test_leads_move_only_through_their_own_stage_map(fake: FakeOdoo) -> None:
    fake.helpdesk_installed = False
    ids = MemoryExternalIds()
    deliver(make_config(fake.url), ticket_event(), ids)
    (lead,) = fake.rows("crm.lead")
    run(fake, updated({"status": ("open", "solved")}, 1, status="solved"), ids)
    assert "stage_id" not in lead  # the helpdesk names mean nothing to a lead
    closing = updated({"status": ("solved", "closed")}, 2, status="closed")
    run(fake, closing, ids, lead_stage_by_status={"closed": "Won"})
    assert lead["stage_id"] == fake.stages[("crm.stage", "Won")]


def test_an_update_of_a_ticket_never_filed_files_it_in_its_current_state(fake: FakeOdoo) -> None:
    change = updated({"priority": ("normal", "urgent")}, status="pending", priority="urgent", assignee_id="agent-ada")
    assert run(fake, change, MemoryExternalIds(), owner_by_agent=owners(fake)).kind == "delivered"
    (record,) = fake.rows("helpdesk.ticket")
    assert (record["name"], record["priority"], record["user_id"]) == ("Printer on fire", "3",
                                                                       fake.users["Mitchell Admin"])
    assert record["stage_id"] == fake.stages[("helpdesk.stage", "On Hold")]
    assert len(fake.rows("res.partner")) == 1


def test_the_same_update_twice_is_harmless_and_an_older_one_is_skipped(fake: FakeOdoo) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    older = updated({"status": ("open", "pending")}, 2, status="pending")
    newer = updated({"status": ("pending", "solved")}, 3, status="solved")
    assert [run(fake, e, ids).kind for e in (older, older, newer)] == ["delivered"] * 3
    fake.calls.clear()
    assert run(fake, older, ids).kind == "delivered"
    assert (record["stage_id"], fake.calls) == (fake.stages[("helpdesk.stage", "Solved")], [])
    assert len(fake.rows("helpdesk.ticket")) == 1


def test_malformed_changes_fail_for_good(fake: FakeOdoo) -> None:
    broken = updated({}).model_copy(update={"data": {"ticket": {"id": "tkt_1"}, "changes": []}})
    outcome = run(fake, broken, MemoryExternalIds())
    assert outcome == outcome.failed("event data holds no valid ticket.updated data")
    assert fake.calls == []


# -- config ---------------------------------------------------------------------------------


def test_a_config_written_before_the_workflow_still_validates() -> None:
    config = OdooConfig.model_validate({"base_url": "https://acme.odoo.com", "api_key": API_KEY})
    assert config.stage_name("helpdesk.ticket", "on_hold") == "On Hold"
    assert config.stage_name("crm.lead", "on_hold") is None
    assert (config.priority_by_priority["urgent"], config.owner_by_agent) == ("3", {})
    partial = OdooConfig.model_validate({"base_url": "https://acme.odoo.com", "api_key": API_KEY,
                                         "stage_by_status": {"solved": "Done"}})
    assert (partial.stage_name("helpdesk.ticket", "solved"), partial.stage_name("helpdesk.ticket", "new")) == (
        "Done", "New")


@pytest.mark.parametrize("raw", [{"priority_by_priority": {"urgent": "4"}}, {"owner_by_agent": {"agent": 0}},
                                 {"stage_by_status": {"open": " "}}, {"stage_by_status": {"reopened": "New"}}])
def test_bad_workflow_settings_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OdooConfig.model_validate({"base_url": "https://acme.odoo.com", "api_key": API_KEY} | raw)


# -- ticket.assigned ------------------------------------------------------------------------


def test_an_assignment_sets_the_mapped_user(fake: FakeOdoo) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    assignment = event("ticket.assigned", {"ticket": ticket(2), "assignee_id": "agent-ada", "group_id": "grp_1",
                                           "actor": {"kind": "rule", "id": "rule_1"}}, "evt_a_1")
    assert run(fake, assignment, ids).kind == "delivered"
    assert fake.calls == []
    assert run(fake, assignment, ids, owner_by_agent=owners(fake)).kind == "delivered"
    assert record["user_id"] == fake.users["Mitchell Admin"]


def test_an_assignment_announced_by_both_events_is_written_once(fake: FakeOdoo) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    change = updated({"assignee_id": (None, "agent-bob")}, 2, assignee_id="agent-bob")
    echo = event("ticket.assigned", {"ticket": ticket(2, assignee_id="agent-bob"), "assignee_id": "agent-bob"}, "e2")
    assert [run(fake, e, ids, owner_by_agent=owners(fake)).kind for e in (change, echo)] == ["delivered"] * 2
    assert (fake.methods(), record["user_id"]) == (["helpdesk.ticket.write"], fake.users["Marc Demo"])


# -- chatter notes: SLA and CSAT --------------------------------------------------------------


def notes(fake: FakeOdoo) -> list[dict[str, Any]]:
    return fake.rows("mail.message")


@pytest.mark.parametrize(("kind", "head"), [("ticket.sla_warning", "SLA warning"),
                                            ("ticket.sla_breached", "SLA breached")])
def test_an_sla_event_posts_an_internal_note(fake: FakeOdoo, kind: str, head: str) -> None:
    ids = MemoryExternalIds()
    record = filed(fake, ids)
    assert run(fake, event(kind, {"target": sla_target()}), ids).kind == "delivered"
    (note,) = notes(fake)
    assert (note["model"], note["res_id"], note["subtype_xmlid"]) == ("helpdesk.ticket", record["id"], "mail.mt_note")
    assert note["body"] == (f"{head}: next response due 2026-01-02 05:00 UTC\n"
                            "Target 120 min (calendar time), policy pol_std\n[switchboard:evt_w_1]")


def test_a_csat_score_is_noted_once_even_when_the_mapping_is_lost(fake: FakeOdoo) -> None:
    csat = event("csat.received", {"csat": {"score": 1, "comment": "never again", "channel": "sms"}})
    ids = MemoryExternalIds()
    assert run(fake, csat, ids).kind == "delivered"
    assert run(fake, csat, ids).kind == "delivered"
    assert run(fake, csat, MemoryExternalIds()).kind == "delivered"  # found by its marker
    (note,) = notes(fake)
    assert note["body"].startswith("Customer satisfaction: 1/5 via sms\nComment: never again\n")
    assert len(fake.rows("helpdesk.ticket")) == 1


# -- replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["message.sent", "message.failed"])
def test_a_reply_is_posted_on_message_created_only(fake: FakeOdoo, kind: str) -> None:
    ids = MemoryExternalIds()
    reply = message_event("msg_r", text="Replaced the toner")
    assert run(fake, reply, ids).kind == "delivered"
    fake.calls.clear()
    assert run(fake, reply.model_copy(update={"type": kind, "id": "evt_later"}), ids).kind == "delivered"
    assert (fake.calls, len(notes(fake))) == ([], 1)
