"""The workflow's events in Odoo. ::

    ticket.updated    the record (created if missing) → write of the changed stage_id,
    ticket.assigned     priority, user_id (every one of them when the record was just created)
    ticket.sla_*      the record (created if missing) → message_post: an internal note
    csat.received

Stages are named in the config and looked up by name on each status change
(``helpdesk.stage`` / ``crm.stage``); a name Odoo lacks fails the event with a reason.
"""

from __future__ import annotations

from typing import Any

from switchboard_sdk import ticket_sync
from switchboard_sdk.models import Customer, EventEnvelope, Ticket

from .records import Odoo, TicketFacts


def _vals(odoo: Odoo, model: str, ticket: Ticket, fields: frozenset[str]) -> dict[str, Any]:
    config = odoo.config
    vals: dict[str, Any] = {}
    if "status" in fields and (stage := config.stage_name(model, ticket.status)) is not None:
        vals["stage_id"] = odoo.stage_id(model, stage)
    if "priority" in fields:
        vals["priority"] = config.priority_by_priority[ticket.priority]
    if "assignee_id" in fields and config.owner_by_agent:
        # an agent without a user, or nobody: no salesperson rather than a wrong one
        vals["user_id"] = config.owner_by_agent.get(ticket.assignee_id or "", False)
    return vals


def _synced(odoo: Odoo) -> frozenset[str]:
    """The fields this tenant's Odoo follows (the owner only once agents are mapped)."""
    return frozenset({"status", "priority"} | ({"assignee_id"} if odoo.config.owner_by_agent else set()))


def apply_change(event: EventEnvelope, odoo: Odoo, customer: Customer | None) -> None:
    """``ticket.updated`` / ``ticket.assigned``: the changed fields written on the record."""
    change = ticket_sync.TicketChange.of(event)
    ticket = change.ticket
    fields = change.fields & _synced(odoo)
    if not fields or ticket_sync.is_stale(odoo.ids, change):
        return
    filed = odoo.ids.get("record", ticket.id) is not None
    model, record_id = odoo.record(TicketFacts.of_ticket(ticket, customer))
    vals = _vals(odoo, model, ticket, fields if filed else _synced(odoo))
    if vals:
        odoo.write(model, record_id, vals)
    ticket_sync.written(odoo.ids, ticket)


def post_note(event: EventEnvelope, odoo: Odoo, customer: Customer | None) -> None:
    """An SLA or CSAT event: a note in the record's chatter."""
    if odoo.ids.get("note", event.id) is not None:
        return  # a replay of a delivered event
    lines = ticket_sync.note_lines(event)
    odoo.note(event.id, lines, TicketFacts.of_ticket(ticket_sync.note_ticket(event), customer))
