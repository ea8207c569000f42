"""Request bodies for HubSpot records, built from Switchboard models (pure functions).

Association type ids are HubSpot-defined (v4 "default" types): ticket → contact 16,
note → ticket 228.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from switchboard_sdk.models import Customer, Message, Ticket, ticket_ref

from .config import (
    CUSTOMER_ID_PROPERTY,
    EVENT_ID_PROPERTY,
    OWNER_PROPERTY,
    PRIORITY_PROPERTY,
    TICKET_ID_PROPERTY,
    HubSpotConfig,
)

TICKET_TO_CONTACT = 16
NOTE_TO_TICKET = 228
NOTE_BODY_LIMIT = 65_536  # HubSpot's documented maximum for hs_note_body
_CUT_MARKUP = re.compile(r"(&[#\w]*|<[^>]*)$")  # an entity or tag a cut left unfinished


@dataclass(frozen=True)
class CustomerRef:
    """What the event tells about a customer: always the id, identities when it carries them."""

    id: str
    email: str | None = None
    phone: str | None = None
    display_name: str | None = None

    @classmethod
    def of(cls, customer_id: str, customer: Customer | None) -> CustomerRef:
        if customer is None or customer.id != customer_id:
            return cls(customer_id)
        found = {identity.kind: identity.value for identity in reversed(customer.identities)}
        return cls(customer_id, found.get("email"), found.get("phone"), customer.display_name)

    def lookups(self) -> list[tuple[str, str]]:
        """Search keys, most precise first: our own id, then email, then phone."""
        keys = [(CUSTOMER_ID_PROPERTY, self.id), ("email", self.email), ("phone", self.phone)]
        return [(name, value) for name, value in keys if value]


def association(to_id: str, type_id: int) -> dict[str, Any]:
    return {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


def contact_body(customer: CustomerRef) -> dict[str, Any]:
    first, _, last = (customer.display_name or "").strip().partition(" ")
    properties = {CUSTOMER_ID_PROPERTY: customer.id, "email": customer.email, "phone": customer.phone,
                  "firstname": first, "lastname": last.strip()}
    return {"properties": {name: value for name, value in properties.items() if value}}


def ticket_properties(ticket: Ticket, config: HubSpotConfig) -> dict[str, str]:
    """The properties a ticket.created event owns (sent on create and on update)."""
    subject = ticket.subject.strip() or f"{ticket.channel} conversation #{ticket_ref(ticket.id)}"
    return {"subject": subject[:1000], "hs_pipeline": config.pipeline,
            "hs_pipeline_stage": config.stage(ticket.status), PRIORITY_PROPERTY: config.priority(ticket.priority)}


def changed_properties(ticket: Ticket, fields: frozenset[str], config: HubSpotConfig) -> dict[str, str]:
    """The properties of the changed ``fields`` (status, priority, assignee_id), as they are now.

    The owner only when the tenant maps agents to owners: ``""`` clears it (an agent
    without an owner, or nobody).
    """
    properties: dict[str, str] = {}
    if "status" in fields:
        properties |= {"hs_pipeline": config.pipeline, "hs_pipeline_stage": config.stage(ticket.status)}
    if "priority" in fields:
        properties[PRIORITY_PROPERTY] = config.priority(ticket.priority)
    if "assignee_id" in fields and config.syncs_owners:
        properties[OWNER_PROPERTY] = config.owner(ticket.assignee_id)
    return properties


def ticket_body(ticket: Ticket, contact_id: str, config: HubSpotConfig) -> dict[str, Any]:
    content = f"Opened on {ticket.channel} through Switchboard, reference #{ticket_ref(ticket.id)}."
    properties = ticket_properties(ticket, config) | {"content": content, TICKET_ID_PROPERTY: ticket.id}
    if owner := config.owner(ticket.assignee_id):
        properties[OWNER_PROPERTY] = owner
    return {"properties": properties, "associations": [association(contact_id, TICKET_TO_CONTACT)]}


def note_body(event_id: str, body_html: str, at: datetime, ticket_id: str) -> dict[str, Any]:
    properties = {"hs_note_body": body_html, "hs_timestamp": hubspot_time(at), EVENT_ID_PROPERTY: event_id}
    return {"properties": properties, "associations": [association(ticket_id, NOTE_TO_TICKET)]}


def lines_html(lines: list[str]) -> str:
    """Plain lines (an SLA or CSAT note) as escaped paragraphs, within HubSpot's limit."""
    room = NOTE_BODY_LIMIT - len("<p></p>") * len(lines)
    return "".join(f"<p>{_fit(line, room // max(len(lines), 1))}</p>" for line in lines)


def hubspot_time(moment: datetime) -> str:
    """UTC with milliseconds, as HubSpot writes datetimes (``2026-01-02T03:04:05.000Z``)."""
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def note_html(message: Message) -> str:
    """The note's rich text. Customer text is escaped: HubSpot renders hs_note_body as HTML."""
    sender = "customer" if message.direction == "inbound" else "agent"
    head = f"<p><strong>{html.escape(message.channel)}</strong> · {sender} {message.kind}</p>"
    subject = f"<p><strong>{html.escape(message.subject)}</strong></p>" if message.subject else ""
    names = [attachment.filename or "attachment" for attachment in message.attachments]
    files = f"<p>Attachments: {html.escape(', '.join(names))}</p>" if names else ""
    room = NOTE_BODY_LIMIT - len(head + subject + files) - len("<p></p>")
    return head + subject + f"<p>{_fit(message.text, room)}</p>" + files


def _fit(text: str, room: int) -> str:
    escaped = html.escape(text).replace("\n", "<br>")
    if len(escaped) <= room:
        return escaped
    return _CUT_MARKUP.sub("", escaped[: room - 1]) + "…"
