"""Mirroring the workflow's events into another system (a CRM, a help desk): what changed
on a ticket, whether an event is older than what was written, and the text of the notes
SLA and CSAT events leave there. Used by the built-in HubSpot, Salesforce and Odoo
connectors; a third-party connector mirroring tickets can use it the same way.

``ticket.updated`` carries the ticket after the change (``data.ticket``) and
``data.changes`` (``[{"field", "before", "after"}]``); only the synced fields that changed
are written, so an edit made in the other system to another field is not undone.
``ticket.assigned`` carries ``data.ticket`` and ``data.assignee_id``.

Events of one ticket arrive in order, but a redelivered one may arrive after later ones:
the ticket ``version`` last written is remembered (external id kind ``version``) and an
older update is skipped, so a replay never moves a record back. The same update twice
writes the same values: harmless. An assignment announces both events, ``ticket.updated``
(first) and ``ticket.assigned``, with the same version: the second is skipped once the
first was written, so the owner is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .models import EventEnvelope, SlaTarget, Ticket
from .transport import ExternalIds

SYNCED_FIELDS = frozenset({"status", "priority", "assignee_id"})
VERSION = "version"  # external id kind: ticket id → the last version written
_METRICS = {"first_response": "first response", "next_response": "next response", "resolution": "resolution",
            "follow_up": "follow-up of a low satisfaction score"}


class _Change(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    field: str


class Csat(BaseModel):
    """``data.csat`` of a ``csat.received`` event (the fields a note shows)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    score: int = Field(ge=1, le=5)
    comment: str = ""
    channel: str | None = None


_CHANGES = TypeAdapter(list[_Change])


@dataclass(frozen=True)
class TicketChange:
    """The ticket after the change, and which of the synced fields changed.
    ``echo``: a ``ticket.assigned``, whose change its ``ticket.updated`` also carries."""

    ticket: Ticket
    fields: frozenset[str]
    echo: bool = False

    @classmethod
    def of(cls, event: EventEnvelope) -> TicketChange:
        """Raises ``ValidationError`` for malformed data."""
        raw = event.data.get("ticket")
        if event.type == "ticket.assigned":
            merged = raw if not isinstance(raw, dict) else raw | {"assignee_id": event.data.get("assignee_id")}
            return cls(Ticket.model_validate(merged), frozenset({"assignee_id"}), echo=True)
        changes = _CHANGES.validate_python(event.data.get("changes", []))
        return cls(Ticket.model_validate(raw), frozenset(change.field for change in changes) & SYNCED_FIELDS)


def is_stale(ids: ExternalIds, change: TicketChange) -> bool:
    """A newer version of this ticket was written already (for an echo: this version too)."""
    seen = ids.get(VERSION, change.ticket.id)
    if seen is None or not seen.isdigit():
        return False
    return int(seen) >= change.ticket.version if change.echo else int(seen) > change.ticket.version


def written(ids: ExternalIds, ticket: Ticket) -> None:
    seen = ids.get(VERSION, ticket.id)
    if seen is None or not seen.isdigit() or int(seen) < ticket.version:
        ids.put(VERSION, ticket.id, str(ticket.version))


def note_ticket(event: EventEnvelope) -> Ticket:
    return Ticket.model_validate(event.data.get("ticket"))


def note_lines(event: EventEnvelope) -> list[str]:
    """The note of an SLA or CSAT event, as lines of plain text; ``ValidationError`` if malformed."""
    if event.type == "csat.received":
        csat = Csat.model_validate(event.data.get("csat"))
        via = f" via {csat.channel}" if csat.channel else ""
        lines = [f"Customer satisfaction: {csat.score}/5{via}"]
        return lines + ([f"Comment: {csat.comment.strip()}"] if csat.comment.strip() else [])
    target = SlaTarget.model_validate(event.data.get("target"))
    metric = _METRICS[target.metric]
    clock = "business hours" if target.business_hours else "calendar time"
    due = f"due {_utc(target.due_at)}" if target.due_at is not None else "paused"
    head = "SLA breached" if event.type == "ticket.sla_breached" else "SLA warning"
    return [f"{head}: {metric} {due}", f"Target {target.target_minutes} min ({clock}), policy {target.policy_id}"]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
