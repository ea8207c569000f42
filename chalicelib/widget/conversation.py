"""The widget's poll: the visitor's own conversation, cheaply, every few seconds.

The cursor is the tenant's changes feed number (:mod:`chalicelib.storage.changes`: the
stream notes every ticket whose item, messages or survey changed) and the visitor's
ticket, signed with the widget's token secret for this visitor, so a page can never
point its poll at another ticket. A poll costs:

* nothing changed in the tenant since the cursor: one ``GetItem`` (the feed's mark),
  answered 304 when ``If-None-Match`` names the cursor;
* the tenant changed, not this ticket: that read and one ``Query`` of the feed's entries;
* this ticket changed (or the visitor has none yet, or says a message of theirs is
  pending): the visitor's customer (one ``GetItem`` of their identity, then their
  tickets), and one ``Query`` of the ticket with its messages, plus the survey's item.

Only the ticket's public widget messages are shown — the visitor's, and the replies of
agents, the assistant and the survey — never internal notes, other channels' messages
or attachments' storage URLs. Replies the poll hands over are marked ``delivered``, and
``read`` when the widget is open (each status write once: they move only forward).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk import BadPayload, Message, StatusUpdate, Ticket
from switchboard_sdk.visitor_tokens import VisitorClaims

from ..storage.changes import ChangeFeeds
from ..storage.keys import TenantKeys
from ..storage.personal import PersonalFields
from ..storage.store import TicketStore
from ..storage.table import TenantTable
from ..workflow.surveys import SurveyStore
from .http import entity_tags

CHANNEL = "widget"
MAX_MESSAGES = 200
_CURSOR = re.compile(r"^(?P<seq>[0-9]{1,15})\.(?P<ticket>[A-Za-z0-9_]{0,64})\.(?P<mac>[A-Za-z0-9_-]{22})$")


@dataclass(frozen=True)
class Cursor:
    seq: int
    ticket_id: str | None

    def encode(self, secret: str, claims: VisitorClaims) -> str:
        return f"{self.seq}.{self.ticket_id or ''}.{_mac(secret, claims, self.seq, self.ticket_id or '')}"

    @classmethod
    def decode(cls, text: str | None, secret: str, claims: VisitorClaims) -> Cursor | None:
        """The cursor a poll passed back (``None``: the first poll); 400 for one this visitor was not given."""
        if not text:
            return None
        match = _CURSOR.fullmatch(text)
        if match is None or not hmac.compare_digest(match["mac"], _mac(secret, claims, int(match["seq"]),
                                                                       match["ticket"])):
            raise BadPayload("after: not a cursor this widget was given")
        return cls(int(match["seq"]), match["ticket"] or None)


def _mac(secret: str, claims: VisitorClaims, seq: int, ticket_id: str) -> str:
    text = f"cursor\x1f{claims.tenant}\x1f{claims.identity_value}\x1f{seq}\x1f{ticket_id}"
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()[:16]).decode() \
        .rstrip("=")


class VisitorLookup(TenantTable):
    """Which customer a visitor is: their ``visitor`` identity's link, found by its blind
    index (one ``GetItem``; the index is computed here)."""

    def __init__(self, client: Any, table_name: str, keys: TenantKeys, personal: PersonalFields) -> None:
        super().__init__(client, table_name, keys)
        self._personal = personal

    def customer_id(self, claims: VisitorClaims) -> str | None:
        from switchboard_sdk import Identity

        ref = self._personal.ref(Identity(kind="visitor", value=claims.identity_value))
        item = self._get(self.keys.identity(ref))
        return None if item is None else str(item["customer_id"])


@dataclass(frozen=True)
class Poll:
    """One answer: ``body`` ``None`` means 304 (nothing new since the ``If-None-Match`` cursor)."""

    etag: str
    body: dict[str, Any] | None


class Conversations:
    def __init__(self, store: TicketStore, feeds: ChangeFeeds, surveys: SurveyStore,
                 lookup: Callable[[str], VisitorLookup], clock: Callable[[], datetime]) -> None:
        self._store, self._feeds, self._surveys, self._lookup, self._clock = store, feeds, surveys, lookup, clock

    def poll(self, claims: VisitorClaims, secret: str, after: str | None, if_none_match: str | None, *,
             pending: bool = False, shown: bool = False) -> Poll:
        cursor = Cursor.decode(after, secret, claims)
        feed = self._feeds.of(claims.tenant)
        mark = feed.current()
        if cursor is not None and not pending and cursor.seq >= mark.seq:
            return self._unchanged(cursor, secret, claims, if_none_match)
        if cursor is not None and cursor.ticket_id and not pending:
            found = feed.since(cursor.seq, mark, self._clock())
            if cursor.ticket_id not in found.ticket_ids:
                moved = Cursor(found.seq, cursor.ticket_id)
                return self._unchanged(moved, secret, claims, if_none_match)
            mark_seq = found.seq
        else:
            mark_seq = mark.seq
        ticket_id = self._ticket_of(claims)
        here = Cursor(mark_seq, ticket_id)
        body = {"cursor": here.encode(secret, claims), "changed": True, **self._conversation(claims, ticket_id, shown)}
        return Poll(_etag(body["cursor"]), body)

    def _unchanged(self, cursor: Cursor, secret: str, claims: VisitorClaims, if_none_match: str | None) -> Poll:
        encoded = cursor.encode(secret, claims)
        etag = _etag(encoded)
        if etag in entity_tags(if_none_match):
            return Poll(etag, None)
        return Poll(etag, {"cursor": encoded, "changed": False})

    def _ticket_of(self, claims: VisitorClaims) -> str | None:
        """The visitor's most recently active ticket that still holds its messages (not merged away)."""
        customer_id = self._lookup(claims.tenant).customer_id(claims)
        if customer_id is None:
            return None
        tickets = self._store.reads(claims.tenant).customer_tickets(customer_id, limit=20)
        return next((t.id for t in tickets if t.status != "merged"), None)

    def _conversation(self, claims: VisitorClaims, ticket_id: str | None, shown: bool) -> dict[str, Any]:
        if ticket_id is None:
            return {"ticket_id": None, "status": None, "messages": [], "survey": None}
        ticket, messages = self._store.reads(claims.tenant).get_ticket(ticket_id, message_limit=MAX_MESSAGES)
        public = [m for m in messages if m.channel == CHANNEL and not m.internal and m.kind == "message"]
        self._acknowledge(claims.tenant, public, shown)
        survey = self._surveys.of(claims.tenant).get(ticket_id)
        return {"ticket_id": ticket.id, "status": ticket.status, "messages": [message_view(m) for m in public],
                "survey": None if survey is None or survey.state not in ("sent", "answered") else
                {"state": survey.state, "score": survey.score}}

    def _acknowledge(self, tenant_id: str, messages: list[Message], shown: bool) -> None:
        """Replies handed over are delivered, and read when the widget is open (forward only)."""
        target = "read" if shown else "delivered"
        wanted = ("sent", "delivered") if shown else ("sent",)
        replies, now = self._store.replies(tenant_id), self._clock()
        for message in messages:
            if message.direction == "outbound" and message.status in wanted:
                replies.apply(CHANNEL, StatusUpdate(provider_message_id=message.provider_message_id, status=target),
                              at=now)

    def owns(self, claims: VisitorClaims, ticket: Ticket) -> bool:
        """Whether ``ticket`` is this visitor's (their identity links to its customer)."""
        return self._lookup(claims.tenant).customer_id(claims) == ticket.customer_id


def sender_of(message: Message) -> str:
    if message.direction == "inbound":
        return "visitor"
    author = message.author_id or ""
    return "assistant" if author.startswith("assistant:") else "system" if author.startswith("system:") else "agent"


def message_view(message: Message) -> dict[str, Any]:
    """What the widget shows of a message (no storage URLs, no provider ids)."""
    return {
        "id": message.id, "from": sender_of(message), "text": message.text,
        "at": message.received_at.isoformat(), "status": message.status, "author": message.author_name,
        "client_message_id": message.metadata.get("client_message_id") if message.direction == "inbound" else None,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size_bytes": a.size_bytes}
                        for a in message.attachments],
    }


def _etag(cursor: str) -> str:
    return f'"{cursor}"'


def lookup_for(store: TicketStore) -> Callable[[str], VisitorLookup]:
    return lambda tenant_id: VisitorLookup(store.client, store.table_name, TenantKeys(tenant_id),
                                           store.personal(tenant_id))
