"""One event → HubSpot records, classified.

``ticket.created``: the customer's contact (found or created) and a ticket in the
configured pipeline, or, when the ticket exists, an update of its subject and stage.
``message.created``: a note on the ticket, creating the ticket first when it is
missing (its ticket.created was lost, failed for good, or is replayed after this).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from switchboard_sdk import outcomes
from switchboard_sdk.models import Customer, DeliveryOutcome, EventEnvelope, Message, Ticket
from switchboard_sdk.transport import DeliveryContext

from . import records
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
    records.ticket(client, ticket, _customer(event, ticket.customer_id), update=True)


def _message_created(client: HubSpotClient, event: EventEnvelope) -> None:
    if client.context.external_ids.get("note", event.id):
        return  # a replay of a delivered event: its note exists
    message = Message.model_validate(event.data.get("message"))
    customer = _customer(event, message.customer_id)
    ticket_id = records.ticket(client, _ticket_of(message), customer, update=False)
    records.note(client, event.id, message, ticket_id)


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
}
