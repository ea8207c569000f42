"""One event → HubSpot records, classified.

``ticket.created``: the customer's contact (found or created) and a ticket in the
configured pipeline, or, when the ticket exists, an update of its subject, stage and priority.
``message.created``: a note on the ticket, creating the ticket first when it is
missing (its ticket.created was lost, failed for good, or is replayed after this).
Agent replies arrive as ``message.created`` too: ``message.sent`` and ``message.failed``
(the same reply, later) have nothing to add.
``ticket.updated`` / ``ticket.assigned``: the changed stage, priority and owner (see
:mod:`switchboard_sdk.ticket_sync`), filing the ticket first when it is missing.
``ticket.sla_warning`` / ``ticket.sla_breached`` / ``csat.received``: a note on the ticket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from switchboard_sdk import outcomes, ticket_sync
from switchboard_sdk.models import Customer, DeliveryOutcome, EventEnvelope, Message, Ticket
from switchboard_sdk.transport import DeliveryContext

from . import bodies, records
from .bodies import CustomerRef
from .client import HubSpotClient
from .config import HubSpotConfig


def deliver(event: EventEnvelope, config: HubSpotConfig, context: DeliveryContext) -> DeliveryOutcome:
    """Sync one event; every failure is classified, none raised."""
    client = HubSpotClient.start(config, context)
    outcome = outcomes.settle(lambda: _sync(client, event))
    return outcomes.redact(outcome, [config.access_token.get_secret_value()])


def _sync(client: HubSpotClient, event: EventEnvelope) -> DeliveryOutcome:
    handler = _HANDLERS.get(event.type)
    try:
        if handler is not None:  # an event type this connector does not know has nothing to sync
            handler(client, event)
    except ValidationError as err:  # a replay carries the same data: retrying cannot help
        return DeliveryOutcome.failed(f"{event.type} event data is malformed ({err.error_count()} errors)")
    return DeliveryOutcome.delivered(client.last_status)


def _ticket_created(client: HubSpotClient, event: EventEnvelope) -> None:
    ticket = Ticket.model_validate(event.data.get("ticket"))
    update = bodies.ticket_properties(ticket, client.config)
    records.ticket(client, ticket, _customer(event, ticket.customer_id), update=update)


def _message_created(client: HubSpotClient, event: EventEnvelope) -> None:
    if client.context.external_ids.get("note", event.id):
        return  # a replay of a delivered event: its note exists
    message = Message.model_validate(event.data.get("message"))
    customer = _customer(event, message.customer_id)
    ticket_id = records.ticket(client, _ticket_of(message), customer)
    records.note(client, event.id, bodies.note_html(message), message.received_at, ticket_id)


def _ticket_changed(client: HubSpotClient, event: EventEnvelope) -> None:
    change = ticket_sync.TicketChange.of(event)
    ids = client.context.external_ids
    if ticket_sync.is_stale(ids, change):
        return  # a redelivery of an older change: the ticket holds a newer state already
    update = bodies.changed_properties(change.ticket, change.fields, client.config)
    if not update:
        return  # nothing HubSpot keeps changed (tags, group, category; owners not mapped)
    records.ticket(client, change.ticket, _customer(event, change.ticket.customer_id), update=update)
    ticket_sync.written(ids, change.ticket)


def _workflow_note(client: HubSpotClient, event: EventEnvelope) -> None:
    if client.context.external_ids.get("note", event.id):
        return  # a replay of a delivered event: its note exists
    lines = ticket_sync.note_lines(event)
    ticket = ticket_sync.note_ticket(event)
    ticket_id = records.ticket(client, ticket, _customer(event, ticket.customer_id))
    records.note(client, event.id, bodies.lines_html(lines), event.occurred_at, ticket_id)


def _customer(event: EventEnvelope, customer_id: str) -> CustomerRef:
    # events carry only customer_id today; a data["customer"] (a Customer) adds email and phone
    raw = event.data.get("customer")
    return CustomerRef.of(customer_id, None if raw is None else Customer.model_validate(raw))


def _ticket_of(message: Message) -> Ticket:
    """The ticket as far as a message knows it: created open, titled by the message subject."""
    return Ticket(
        id=message.ticket_id, tenant_id=message.tenant_id, customer_id=message.customer_id,
        channel=message.channel, subject=message.subject or "",
        created_at=message.received_at, last_activity_at=message.received_at,
    )


_HANDLERS: dict[str, Callable[[HubSpotClient, EventEnvelope], Any]] = {
    "ticket.created": _ticket_created,
    "message.created": _message_created,
    "ticket.updated": _ticket_changed,
    "ticket.assigned": _ticket_changed,
    "ticket.sla_warning": _workflow_note,
    "ticket.sla_breached": _workflow_note,
    "csat.received": _workflow_note,
}
