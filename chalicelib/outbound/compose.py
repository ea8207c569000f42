"""A stored reply → the :class:`~switchboard_sdk.OutboundMessage` its channel plugin sends.

Everything comes from the ticket's partition (one Query: the ticket, its
messages) and the customer's item: whom to address (the customer's identity
of a kind the channel sends to, ``PluginInfo.sends_to``), what the reply
answers (the customer's latest message on the channel, and the provider ids
of the conversation before it, for email's ``References``), and how long ago
the customer last wrote (reply windows).
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard_sdk import Customer, Identity, Message, NotFound, OutboundMessage, ReplyContext, Ticket, ticket_ref

from ..storage.ids import unsent_provider_id

MAX_REFERENCES = 50  # ReplyContext's limit: the newest are kept


@dataclass(frozen=True)
class Conversation:
    """What a reply needs to know of its ticket."""

    ticket: Ticket
    messages: list[Message]
    customer: Customer | None


def outbound_message(reply: Message, conversation: Conversation, *, sends_to: tuple[str, ...],
                     callback_url: str | None) -> OutboundMessage:
    """The plugin's view of ``reply``; :class:`NotFound` when the customer has no address on its channel."""
    earlier = [m for m in conversation.messages if m.channel == reply.channel and m.received_at <= reply.received_at
               and m.id != reply.id]
    inbound = [m for m in earlier if m.direction == "inbound" and m.kind == "message"]
    latest = inbound[-1] if inbound else None
    answered_since = [m for m in earlier if m.direction == "outbound" and not m.internal
                      and (latest is None or m.received_at > latest.received_at)]
    return OutboundMessage(
        id=reply.id, tenant_id=reply.tenant_id, channel=reply.channel, ticket_id=reply.ticket_id,
        ticket_ref=ticket_ref(reply.ticket_id), customer_id=reply.customer_id,
        to=_address(conversation.customer, sends_to), text=reply.text, attachments=reply.attachments,
        subject=conversation.ticket.subject, author_name=reply.author_name,
        replying_to=None if latest is None else _context(latest, earlier),
        last_inbound_at=None if latest is None else latest.received_at,
        replies_since_inbound=len(answered_since), status_callback_url=callback_url, created_at=reply.received_at,
    )


def _address(customer: Customer | None, sends_to: tuple[str, ...]) -> Identity:
    if customer is None or not customer.identities:
        raise NotFound("the ticket's customer is no longer stored (erased?)")
    for kind in sends_to:
        found = next((i for i in customer.identities if i.kind == kind), None)
        if found is not None:
            return found
    if sends_to:
        raise NotFound(f"the customer has no {' or '.join(sends_to)} to reply to on this channel")
    return customer.identities[0]


def _context(latest: Message, earlier: list[Message]) -> ReplyContext:
    references = [m.provider_message_id for m in earlier
                  if m.received_at < latest.received_at and m.provider_message_id != unsent_provider_id(m.id)]
    return ReplyContext(provider_message_id=latest.provider_message_id, received_at=latest.received_at,
                        subject=latest.subject, metadata=latest.metadata, references=references[-MAX_REFERENCES:])
