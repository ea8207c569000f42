"""Posting a message on a ticket from the hub's side: an agent's reply or note, a
macro's or a rule's template reply, a satisfaction survey. Stored ``queued`` (a note:
never sent); the table's stream queues the send. A ``client_message_id`` makes the
post idempotent: posting again answers with the first message and stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from switchboard_sdk import AttachmentRef, Message, Ticket

from ..storage.ids import reply_id, unsent_provider_id
from ..storage.store import TicketStore
from ..tenancy.retention import TenantRetention


class MessagePoster:
    def __init__(self, store: TicketStore, retention: TenantRetention, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._retention = retention
        self._clock = clock

    def post(self, ticket: Ticket, text: str, *, author_id: str, author_name: str, internal: bool = False,
             client_message_id: str | None = None, attachments: list[AttachmentRef] | None = None,
             metadata: dict[str, str] | None = None) -> Message:
        now = self._clock()
        message = Message(
            id=reply_id(), tenant_id=ticket.tenant_id, ticket_id=ticket.id, customer_id=ticket.customer_id,
            direction="outbound", channel=ticket.channel, provider_message_id="", text=text,
            attachments=attachments or [], received_at=now, status=None if internal else "queued", status_at=now,
            author_id=author_id, author_name=author_name, internal=internal, client_message_id=client_message_id,
            metadata=metadata or {},
        )
        message = message.model_copy(update={"provider_message_id": unsent_provider_id(message.id)})
        expires = self._retention.for_tenant(ticket.tenant_id).message_expiry(now)
        return self._store.replies(ticket.tenant_id).add(message, ticket_subject=ticket.subject, expires_at=expires)
