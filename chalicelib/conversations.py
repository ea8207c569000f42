"""Turn an accepted inbound message into customer, ticket and message records.

Runs behind the table's stream for each new inbound record. Every step is
convergent: ids derive from the message's de-duplication key, the open ticket is
chosen by one atomic ``if_not_exists``, and the message write is conditional —
so a redelivered stream record, or two messages of one customer at once, can
never produce a second ticket or message.
"""

from __future__ import annotations

from switchboard_sdk import InboundMessage, Message, Ticket

from .ids import stable_id
from .ingest import message_id_for
from .store import TicketStore

SUBJECT_CHARS = 120


class ConversationBuilder:
    def __init__(self, store: TicketStore) -> None:
        self._store = store

    def absorb(self, inbound: InboundMessage) -> Message:
        """Thread ``inbound`` onto its customer's open ticket (or a new one)."""
        tenant = self._store.tenant(inbound.tenant_id)
        candidate = stable_id("tkt", inbound.tenant_id, inbound.channel, inbound.provider_message_id)
        customer_id, ticket_id = tenant.link_customer(inbound.customer, inbound.received_at, candidate)
        tenant.touch_ticket(
            Ticket(
                id=ticket_id, tenant_id=inbound.tenant_id, customer_id=customer_id, channel=inbound.channel,
                subject=_subject(inbound.text), created_at=inbound.received_at,
                last_activity_at=inbound.received_at,
            )
        )
        message = Message(
            id=message_id_for(inbound), tenant_id=inbound.tenant_id, ticket_id=ticket_id,
            customer_id=customer_id, channel=inbound.channel,
            provider_message_id=inbound.provider_message_id, text=inbound.text,
            attachments=inbound.attachments, received_at=inbound.received_at,
            metadata=inbound.metadata, raw_payload_ref=inbound.raw_payload_ref,
        )
        tenant.add_message(message)
        return message


def _subject(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return first_line[:SUBJECT_CHARS]
