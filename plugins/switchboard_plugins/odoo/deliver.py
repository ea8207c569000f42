"""One Odoo delivery: the event's records (:mod:`.records`) over the client
(:mod:`.client`), classified, with the API key redacted from every reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from switchboard_sdk import outcomes
from switchboard_sdk.errors import OutcomeReached
from switchboard_sdk.models import Customer, DeliveryOutcome, EventEnvelope, Message, Ticket
from switchboard_sdk.transport import DeliveryContext

from . import updates
from .client import connect
from .config import OdooConfig
from .records import Odoo, TicketFacts

_M = TypeVar("_M", bound=BaseModel)


def _parse(model: type[_M], raw: Any) -> _M:
    try:
        return model.model_validate(raw)
    except ValidationError:  # not quoted: the error text would echo customer data
        raise OutcomeReached(DeliveryOutcome.failed(f"event data holds no valid {model.__name__}")) from None


def event_customer(event: EventEnvelope) -> Customer | None:
    """``data["customer"]`` when the hub sends one (the SDK's events do not yet): email/phone matching."""
    raw = event.data.get("customer")
    try:
        return Customer.model_validate(raw) if raw is not None else None
    except ValidationError:
        return None  # optional extra: a partner is still found by ref or created


def apply(event: EventEnvelope, odoo: Odoo) -> DeliveryOutcome:
    """The event's records in Odoo; a failure on the way raises ``OutcomeReached``."""
    customer = event_customer(event)
    if event.type == "ticket.created":
        odoo.record(TicketFacts.of_ticket(_parse(Ticket, event.data.get("ticket")), customer))
    elif event.type == "message.created":
        odoo.post(_parse(Message, event.data.get("message")), customer)
    elif (workflow := _WORKFLOW.get(event.type)) is not None:
        try:
            workflow(event, odoo, customer)
        except ValidationError:  # not quoted: the error text would echo customer data
            raise OutcomeReached(DeliveryOutcome.failed(f"event data holds no valid {event.type} data")) from None
    # message.sent and message.failed have nothing to record: the reply was posted with its message.created
    return DeliveryOutcome.delivered(200)


_WORKFLOW: dict[str, Callable[[EventEnvelope, Odoo, Customer | None], None]] = {
    "ticket.updated": updates.apply_change,
    "ticket.assigned": updates.apply_change,
    "ticket.sla_warning": updates.post_note,
    "ticket.sla_breached": updates.post_note,
    "csat.received": updates.post_note,
}


def deliver(event: EventEnvelope, config: OdooConfig, context: DeliveryContext) -> DeliveryOutcome:
    """One event into Odoo, classified; the API key never reaches a reason."""
    odoo = Odoo(connect(config, context), config, context.external_ids)
    outcome = outcomes.settle(lambda: apply(event, odoo))
    return outcomes.redact(outcome, [config.api_key.get_secret_value()])
