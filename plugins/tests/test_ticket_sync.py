"""switchboard_sdk.ticket_sync, the part the CRM connectors share: the note every SLA
metric's event leaves (the low-score follow-up's included), and which synced fields an
event changed."""

from __future__ import annotations

import pytest
from switchboard_sdk import ticket_sync
from switchboard_sdk.models import EventEnvelope
from test_hubspot_workflow import NOW, event, sla_target, updated


@pytest.mark.parametrize(("metric", "words"), [
    ("first_response", "first response"), ("next_response", "next response"), ("resolution", "resolution"),
    ("follow_up", "follow-up of a low satisfaction score")])
def test_every_sla_metric_has_a_note(metric: str, words: str) -> None:
    lines = ticket_sync.note_lines(event("ticket.sla_breached", {"target": sla_target(metric=metric)}))
    assert lines == [f"SLA breached: {words} due 2026-01-02 03:34 UTC",
                     "Target 30 min (business hours), policy pol_vip"]


def test_a_paused_target_says_so() -> None:
    lines = ticket_sync.note_lines(event("ticket.sla_warning", {"target": sla_target(due_at=None)}))
    assert lines[0] == "SLA warning: first response paused"


def test_only_synced_fields_count_and_an_assignment_is_an_echo() -> None:
    change = ticket_sync.TicketChange.of(updated({"status": ("new", "open"), "tags": ([], ["vip"])}))
    assert (change.fields, change.echo) == (frozenset({"status"}), False)
    assigned = EventEnvelope(id="evt_a", type="ticket.assigned", tenant_id="t-acme", ticket_id="tkt_1",
                             occurred_at=NOW, data={"ticket": updated({}).data["ticket"], "assignee_id": "agent-ada"})
    change = ticket_sync.TicketChange.of(assigned)
    assert (change.fields, change.echo, change.ticket.assignee_id) == (frozenset({"assignee_id"}), True, "agent-ada")
