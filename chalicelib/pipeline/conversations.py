"""Turn an accepted inbound message into customer, ticket and message records.

Runs behind the table's stream for each new inbound record. Every step is
convergent: ids derive from the message's de-duplication key, the open ticket is
chosen by one atomic ``if_not_exists``, and the message write is conditional —
so a redelivered stream record, or two messages of one customer at once, can
never produce a second ticket or message.

Threading, in order: the ticket a hint leads to (ticket references, then earlier
provider messages) — but only when the sender is that ticket's customer, so a
stranger quoting a ticket reference never lands in it; else the customer's open
ticket; else a new ticket, unless the message may not open one (auto-replies,
bounces, provider events), which then stays in its inbound record only. A message
whose sender the provider failed to authenticate (``sender_authenticated=False``:
a forged From) joins no existing ticket: it gets its own, flagged ``sender_unverified``.

A follow-up without a sender (a call's recording) takes the thread of the
message it follows. If that message is not stored yet, the follow-up is parked
under its id and released when it is — the stream is never held up waiting.

Expiry: everything written here expires a message-retention period after the
message (the tenant's ``message_retention_days``, from ``retention``, which
reads the cached tenant directory); a ticket's and a customer's expiry move
with their newest message. Without ``retention`` nothing expires.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from switchboard_sdk import BadPayload, Customer, InboundMessage, Message, StatusUpdate, Ticket, ticket_id_from_ref

from ..logs import log_event
from ..storage.conversations import Conversations, Touched
from ..storage.documents import PartsMissing
from ..storage.ids import message_id_for, ticket_id_for
from ..storage.inbound import inbound_document
from ..storage.store import TicketStore
from ..storage.tickets import WORKFLOW_ATTRIBUTES
from ..tenancy.retention import RetentionSource

SUBJECT_CHARS = 120
OPENED_TYPES = frozenset({"message", "ticket", "ticket_history"})  # stream images holding sealed text
MAX_REDIRECTS = 4  # merged into a ticket that was merged …: a chain this long is a loop
UNVERIFIED = "sender_unverified"  # Message.metadata flag: the provider failed to authenticate the sender
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    customer_id: str
    ticket_id: str | None
    follows: str | None = None  # a new ticket's closed predecessor
    customer_state: dict[str, Any] | None = None  # the customer as linking read it back (no read for rules)


class ConversationBuilder:
    def __init__(self, store: TicketStore, retention: RetentionSource | None = None) -> None:
        self._store = store
        self._retention = retention

    def inbound_of(self, image: dict[str, Any]) -> InboundMessage:
        """The message an inbound record's image holds (its sealed document opened for the
        tenant and item its key names: a document moved into another item does not open)."""
        return InboundMessage.model_validate_json(inbound_document(self._store.crypto, image))

    def opened(self, image: dict[str, Any]) -> dict[str, Any]:
        """A stream image with the message text and ticket subjects it holds opened
        (:mod:`chalicelib.storage.message_fields`): what the workflow, the assistant, the
        metrics and the events read. Other items come back as they are, at no cost."""
        if image.get("type") not in OPENED_TYPES or not isinstance(image.get("tenant_id"), str):
            return image
        return self._store.fields(image["tenant_id"]).open_item(image)

    def absorb(self, inbound: InboundMessage) -> Message | None:
        """Place ``inbound`` on a ticket; ``None`` when it is parked or may not open one.

        ``inbound`` is what its record holds: for a large message a stub, read back
        whole here (:meth:`~chalicelib.storage.conversations.Conversations.complete_inbound`; a parked
        follow-up keeps the stub)."""
        tenant = self._store.conversations(inbound.tenant_id)
        stored, inbound = inbound, tenant.complete_inbound(inbound)
        expires = self._expiry(inbound)
        place = self._place(tenant, inbound, expires, stored)
        if place is None:
            return None
        if place.ticket_id is None:
            log_event(log, "conversation.unthreaded", tenant=inbound.tenant_id, plugin=inbound.channel,
                      kind=inbound.kind)
            return None
        ticket = _ticket(inbound, place.ticket_id, place.customer_id).model_copy(
            update={"follow_up_of": place.follows})
        touched, ticket_id = self._touch(tenant, inbound, ticket, expires)
        message = _message(inbound, ticket_id, place.customer_id)
        # the ticket's workflow state as this message found it: the workflow engine
        # behind the stream starts from it instead of reading the ticket again
        # and the customer's tags and attributes as linking read them back, for the rules
        state = {"ticket_state": ticket_state(touched.before) | {"subject": touched.subject}}
        tenant.add_message(message, ticket_subject=touched.subject, expires_at=expires,
                           extra=state | ({"customer_state": place.customer_state} if place.customer_state else {}))
        tenant.remember_provider_message(message, expires_at=expires)
        return message

    def _touch(self, tenant: Conversations, inbound: InboundMessage, ticket: Ticket,
               expires: int | None) -> tuple[Touched, str]:
        """Touch the ticket the message belongs on: a merged ticket's target, or for a
        closed ticket a follow-up ticket linked to it (the customer's new open ticket)."""
        for _ in range(MAX_REDIRECTS):
            touched = tenant.touch_ticket(ticket, expires_at=expires)
            if touched.refused == "merged" and touched.before.get("merged_into"):
                ticket = ticket.model_copy(update={"id": str(touched.before["merged_into"]), "follow_up_of": None})
                continue
            follow_up = ticket_id_for(inbound)
            if touched.refused != "closed" or follow_up == ticket.id:  # (a replay of the message that opened it)
                return touched, ticket.id
            current = tenant.follow_up_instead(ticket.customer_id, ticket.id, follow_up)
            ticket = ticket.model_copy(update={"id": current, "follow_up_of": ticket.id if current == follow_up
                                               else None, "created_at": inbound.received_at})
        raise BadPayload("the message's ticket redirects too many times (merged or closed tickets)")

    def mark_bounced(self, inbound: InboundMessage) -> int:
        """A bounce or complaint (``delivery_failure``) fails the replies it names (its
        thread's provider ids: the Message-ID a reply was sent with); returns how many.
        A delayed-delivery notice fails nothing; one already delivered stays delivered."""
        if inbound.kind != "delivery_failure" or inbound.metadata.get("dsn_action", "failed") != "failed":
            return 0
        complaint = inbound.metadata.get("complaint") == "true"
        status = inbound.metadata.get("dsn_status")
        reason = ("the recipient marked the reply as spam" if complaint else
                  "the recipient's server returned the reply" + (f" (status {status})" if status else ""))
        code = "complaint" if complaint else (status or "bounced")
        replies = self._store.replies(inbound.tenant_id)
        return sum(replies.apply(inbound.channel, StatusUpdate(provider_message_id=pid, status="failed", code=code,
                                                               reason=f"{inbound.channel}: {reason}"),
                                 at=inbound.received_at) for pid in inbound.thread.provider_ids)

    def _expiry(self, inbound: InboundMessage) -> int | None:
        if self._retention is None:
            return None
        return self._retention.for_tenant(inbound.tenant_id).message_expiry(inbound.received_at)

    def release(self, tenant_id: str, channel: str, provider_message_id: str) -> list[Message]:
        """Absorb the follow-ups parked until ``provider_message_id`` was stored."""
        tenant = self._store.conversations(tenant_id)
        released = []
        for follow_up in tenant.parked_for(channel, provider_message_id):
            try:
                message = self.absorb(follow_up)
            except PartsMissing:  # it waited longer than its record was kept: nothing left to place
                log_event(log, "conversation.follow_up_expired", level=logging.WARNING, tenant=tenant_id,
                          plugin=channel)
                tenant.unpark(provider_message_id, follow_up)
                continue
            if message is not None:
                tenant.unpark(provider_message_id, follow_up)
                released.append(message)
        return released

    def customers(self, tenant_id: str, customer_ids: Iterable[str]) -> dict[str, Customer]:
        """Whom tickets and messages belong to (for event payloads), in one read."""
        return self._store.reads(tenant_id).get_customers(customer_ids)

    def _place(self, tenant: Conversations, inbound: InboundMessage, expires: int | None,
               stored: InboundMessage) -> Placement | None:
        if inbound.customer is None:
            return self._follow_up(tenant, inbound, expires, stored)
        candidate = ticket_id_for(inbound)
        if inbound.sender_authenticated is False:
            # the provider says the sender is not who From claims (Zammad #5064): no
            # existing ticket, not even the customer's open one; a ticket of its own,
            # which does not become their open ticket either (flagged in _message)
            linked = tenant.link_customer(inbound.customer, inbound.received_at, None, expires_at=expires)
            return Placement(linked.customer_id, candidate if inbound.opens_ticket else None,
                             customer_state=linked.state)
        customer_id, open_ticket, follows, state = tenant.link_customer(
            inbound.customer, inbound.received_at, candidate if inbound.opens_ticket else None,
            expires_at=expires,
        )
        hinted = self._hinted_ticket(tenant, inbound, customer_id)
        return Placement(customer_id, hinted or open_ticket, None if hinted else follows, state)

    def _hinted_ticket(self, tenant: Conversations, inbound: InboundMessage, customer_id: str) -> str | None:
        """The first hinted ticket that belongs to this sender (the sender check)."""
        for ref in inbound.thread.ticket_refs:
            ticket_id = ticket_id_from_ref(ref)
            if ticket_id and tenant.ticket_customer(ticket_id) == customer_id:
                return ticket_id
        for provider_id in inbound.thread.provider_ids:
            found = tenant.find_provider_message(inbound.channel, provider_id)
            if found and found[1] == customer_id:
                return found[0]
        return None

    def _follow_up(self, tenant: Conversations, inbound: InboundMessage, expires: int | None,
                   stored: InboundMessage) -> Placement | None:
        """A message without a sender of its own takes the thread of what it follows.
        It is parked as ``stored``, its record's form (small even for a large message)."""
        found = self._thread_of(tenant, inbound)
        if found is not None:
            return found
        awaited = inbound.thread.provider_ids[0]
        tenant.park(awaited, stored, expires_at=expires)
        # the awaited message may have been stored while we parked: look once more,
        # so a follow-up is never left behind (absorbing twice is harmless)
        found = self._thread_of(tenant, inbound)
        if found is not None:
            tenant.unpark(awaited, inbound)
        return found

    def _thread_of(self, tenant: Conversations, inbound: InboundMessage) -> Placement | None:
        for provider_id in inbound.thread.provider_ids:
            found = tenant.find_provider_message(inbound.channel, provider_id)
            if found:
                return Placement(customer_id=found[1], ticket_id=found[0])
        for ref in inbound.thread.ticket_refs:  # a bounce naming our ticket
            ticket_id = ticket_id_from_ref(ref)
            owner = tenant.ticket_customer(ticket_id) if ticket_id else None
            if ticket_id and owner:
                return Placement(customer_id=owner, ticket_id=ticket_id)
        return None


def _ticket(inbound: InboundMessage, ticket_id: str, customer_id: str) -> Ticket:
    return Ticket(
        id=ticket_id, tenant_id=inbound.tenant_id, customer_id=customer_id, channel=inbound.channel,
        subject=_subject(inbound), created_at=inbound.received_at, last_activity_at=inbound.received_at,
    )


def _message(inbound: InboundMessage, ticket_id: str, customer_id: str) -> Message:
    return Message(
        id=message_id_for(inbound), tenant_id=inbound.tenant_id, ticket_id=ticket_id,
        customer_id=customer_id, kind=inbound.kind, channel=inbound.channel,
        provider_message_id=inbound.provider_message_id, subject=inbound.subject, text=inbound.text,
        attachments=inbound.attachments, received_at=inbound.received_at,
        metadata=inbound.metadata | ({UNVERIFIED: "true"} if inbound.sender_authenticated is False else {}),
        raw_payload_ref=inbound.raw_payload_ref,
    )


def ticket_state(before: dict[str, Any]) -> dict[str, Any]:
    """The workflow fields of a ticket item as it was (``{}``: the ticket is new)."""
    kept = (*WORKFLOW_ATTRIBUTES, "version", "created_at", "channel", "customer_id", "subject")
    return {name: before[name] for name in kept if name in before}


def _subject(inbound: InboundMessage) -> str:
    if inbound.subject:
        return inbound.subject.strip()[:SUBJECT_CHARS]
    text = inbound.text.strip()
    return text.splitlines()[0][:SUBJECT_CHARS] if text else ""
