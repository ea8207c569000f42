"""Find-or-create of contacts, tickets and notes, idempotent across retries and replays.

Each record is looked up, cheapest first, in the hub's id mapping
(``context.external_ids``), then by a HubSpot search on the ``switchboard_*``
property that carries our id, and only then created; the id found is remembered.
A create answered 409 (HubSpot: "already exists", e.g. an email taken by a
contact the search index did not show yet) is resolved to the existing record.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from switchboard_sdk.errors import OutcomeReached
from switchboard_sdk.models import DeliveryOutcome, Ticket

from . import bodies
from .bodies import CustomerRef
from .client import HubSpotClient
from .config import EVENT_ID_PROPERTY, TICKET_ID_PROPERTY

OBJECTS = "/crm/v3/objects"
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


def search(client: HubSpotClient, object_type: str, prop: str, value: str) -> str | None:
    """The oldest record whose ``prop`` equals ``value``, or ``None``."""
    body = {
        "filterGroups": [{"filters": [{"propertyName": prop, "operator": "EQ", "value": value}]}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "properties": [prop],
        "limit": 1,
    }
    results = client.call("POST", f"{OBJECTS}/{object_type}/search", body).data.get("results")
    return _id_of(results[0]) if isinstance(results, list) and results else None


def find(client: HubSpotClient, object_type: str, lookups: list[tuple[str, str]]) -> str | None:
    return next((found for prop, value in lookups if (found := search(client, object_type, prop, value))), None)


def create(client: HubSpotClient, object_type: str, body: dict[str, Any], lookups: list[tuple[str, str]]) -> str:
    """Create a record; on 409 return the one that already exists."""
    reply = client.call("POST", f"{OBJECTS}/{object_type}", body, allow=(409,))
    if reply.status != 409:
        return _id_of(reply.data)
    existing = _EXISTING_ID.search(str(reply.data.get("message", "")))
    found = existing.group(1) if existing else find(client, object_type, lookups)
    if found is None:
        # HubSpot's search index lags its writes by seconds: the next attempt will see it
        raise OutcomeReached(DeliveryOutcome.retry(f"HubSpot says the {object_type[:-1]} exists but search does "
                                                   "not return it yet", status_code=409))
    return found


def _id_of(record: Any) -> str:
    record_id = record.get("id") if isinstance(record, dict) else None
    if not isinstance(record_id, str | int) or not str(record_id):
        raise OutcomeReached(DeliveryOutcome.retry("HubSpot answered without a record id"))
    return str(record_id)


# -- the three records -----------------------------------------------------------------------


def contact(client: HubSpotClient, customer: CustomerRef) -> str:
    """The customer's contact id: remembered, found by id/email/phone, or created."""
    ids = client.context.external_ids
    found = ids.get("contact", customer.id)
    if found is None:
        lookups = customer.lookups()
        found = find(client, "contacts", lookups) or create(client, "contacts", bodies.contact_body(customer), lookups)
        ids.put("contact", customer.id, found)
    return found


def ticket(client: HubSpotClient, ticket: Ticket, customer: CustomerRef, *,
           update: dict[str, str] | None = None) -> str:
    """The ticket's HubSpot id; created (with its contact, in its current state) when none exists.

    ``update``: properties an existing ticket gets (one PATCH; none when empty).
    """
    ids = client.context.external_ids
    known = ids.get("ticket", ticket.id)
    found = known or search(client, "tickets", TICKET_ID_PROPERTY, ticket.id)
    if found is not None and update:
        client.call("PATCH", f"{OBJECTS}/tickets/{found}", {"properties": update})
    if found is None:
        body = bodies.ticket_body(ticket, contact(client, customer), client.config)
        found = create(client, "tickets", body, [(TICKET_ID_PROPERTY, ticket.id)])
    if found != known:
        ids.put("ticket", ticket.id, found)
    return found


def note(client: HubSpotClient, event_id: str, body_html: str, at: datetime, ticket_id: str) -> str:
    """The note of one event (a message, an SLA alert, a CSAT score) on ``ticket_id``, created once."""
    ids = client.context.external_ids
    lookups = [(EVENT_ID_PROPERTY, event_id)]
    found = find(client, "notes", lookups)
    if found is None:
        found = create(client, "notes", bodies.note_body(event_id, body_html, at, ticket_id), lookups)
    ids.put("note", event_id, found)
    return found
