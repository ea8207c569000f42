"""Reads of tickets, messages and customers: what the API answers with, and what
the stream and the worker read back (customers for event payloads, a large
message in full). Messages come back whole: a large one is put back together
from its parts (:mod:`.documents`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from switchboard_sdk import Customer, Identity, Message, NotFound, Ticket

from .conventions import MAX_PAGE, iso
from .documents import parts_by_owner, unpack
from .items import from_item, to_item
from .keys import CUSTOMER_TICKET, TenantKeys, parts_prefix
from .message_fields import MessageFields
from .personal import PersonalFields
from .sealing import Sealer
from .table import TenantTable

if TYPE_CHECKING:
    from .ticket_filters import TicketFilter


@dataclass(frozen=True)
class ReadScope:
    """Which tickets a reader sees (the tenant's per-role setting, for an agent): ``all``;
    ``groups`` — their own and those of their groups; ``assigned`` — only their own.
    A ticket outside the scope reads as absent (404), and lists leave it out."""

    kind: Literal["all", "groups", "assigned"]
    agent_id: str = ""
    group_ids: frozenset[str] = frozenset()

    def sees(self, ticket: Ticket) -> bool:
        if self.kind == "all" or (ticket.assignee_id and ticket.assignee_id == self.agent_id):
            return True
        return self.kind == "groups" and ticket.group_id is not None and ticket.group_id in self.group_ids

    def filter(self) -> tuple[str, dict[str, Any]] | None:
        """The same rule as a FilterExpression on the ticket indexes (``None``: everything)."""
        if self.kind == "all":
            return None
        values: dict[str, Any] = {":me": self.agent_id}
        if self.kind == "assigned" or not self.group_ids:
            return "assignee_id = :me", values
        names = [f":g{n}" for n in range(len(self.group_ids))]
        values |= dict(zip(names, sorted(self.group_ids), strict=True))
        return f"assignee_id = :me OR group_id IN ({', '.join(names)})", values


EVERYTHING = ReadScope("all")


class TicketReads(TenantTable):
    def __init__(self, client: Any, table_name: str, keys: TenantKeys, personal: PersonalFields, *,
                 index_shards: int = 4, scope: ReadScope = EVERYTHING, crypto: Sealer | None = None) -> None:
        super().__init__(client, table_name, keys)
        self.personal = personal  # customers' names and identities are opened here, for every reader
        self.fields = MessageFields(crypto, keys.tenant_id)  # and message text and subjects
        self._index_shards = index_shards
        self.scope = scope

    def list_tickets(
        self, *, status: str | None = None, limit: int = 50, before: str | None = None,
        filters: TicketFilter | None = None, now: datetime | None = None,
    ) -> tuple[list[Ticket], str | None]:
        """Newest activity first across the index shards; returns ``(page, cursor)``.
        ``filters``: the inbox's (:mod:`.ticket_filters`; ``status`` is one of them)."""
        from .ticket_filters import TicketFilter, TicketLists

        lists = TicketLists(self._db, self._table, self.keys, self._index_shards, self.scope, self.fields)
        return lists.page(filters or TicketFilter(status=status), max(1, min(limit, MAX_PAGE)), before,
                          now or datetime.now(UTC))

    def get_ticket(self, ticket_id: str, *, message_limit: int = 1000) -> tuple[Ticket, list[Message]]:
        """A ticket and its messages in order, text in full (one Query over the ticket
        partition: a large message's parts come with it)."""
        items: list[dict[str, Any]] = []  # (tickets and messages opened when they become models)
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": to_item({":p": self.keys.ticket_partition(ticket_id)}),
        }
        while sum(1 for i in items if i["type"] == "message") <= message_limit:
            result = self._db.query(**kwargs)
            items += [from_item(i) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                break
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]
        tickets = [self.fields.open_ticket(i) for i in items if i["type"] == "ticket"]
        if not tickets or not self.scope.sees(_ticket(tickets[0])):
            raise NotFound("no such ticket")
        parts = parts_by_owner(items)
        found = [i for i in items if i["type"] == "message"][:message_limit]
        return _ticket(tickets[0]), [self._whole_message(i, parts.get(str(i["sk"]), {})) for i in found]

    def ticket(self, ticket_id: str) -> Ticket:
        """A ticket without its messages (one consistent read); :class:`NotFound` if absent."""
        item = self._get(self.keys.ticket(ticket_id))
        if item is None or item.get("type") != "ticket" or not self.scope.sees(_ticket(item)):
            raise NotFound("no such ticket")
        return _ticket(self.fields.open_ticket(item))

    def customer_tickets(self, customer_id: str, *, limit: int = 100) -> list[Ticket]:
        """A customer's tickets, newest first (their links in the customer's partition, then
        the tickets in one consistent BatchGetItem per 100)."""
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :t)", ConsistentRead=True,
            ExpressionAttributeValues=to_item({":p": self.keys.customer_partition(customer_id),
                                               ":t": CUSTOMER_TICKET}),
        )
        links = [from_item(i) for i in result.get("Items", [])]
        ids = [str(link["ticket_id"]) for link in links if "ticket_id" in link]
        found = [_ticket(i) for i in self.fields.open_tickets(
            [i for i in self._get_many([self.keys.ticket(t) for t in ids]) if i.get("type") == "ticket"])]
        seen = [ticket for ticket in found if self.scope.sees(ticket)]
        return sorted(seen, key=lambda t: t.last_activity_at, reverse=True)[:limit]

    def get_message(self, ticket_id: str, received_at: datetime | str, message_id: str) -> Message:
        """One message by its key, text in full (one consistent Query: the item and,
        for a large message, its parts). ``received_at``: the message's, as a
        datetime or ISO 8601 text (a stream image's). :class:`NotFound` if absent."""
        return _message(self.get_message_item(ticket_id, received_at, message_id))

    def get_message_item(self, ticket_id: str, received_at: datetime | str, message_id: str) -> dict[str, Any]:
        """Like :meth:`get_message`, the whole item: the message's fields in full (a large
        one's put back together) and what else it carries (its ticket's subject)."""
        moment = received_at if isinstance(received_at, datetime) else datetime.fromisoformat(received_at)
        sort_key = self.keys.message_sort_key(iso(moment), message_id)
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)", ConsistentRead=True,
            ExpressionAttributeValues=to_item({":p": self.keys.ticket_partition(ticket_id), ":s": sort_key}),
        )
        items = [from_item(i) for i in result.get("Items", [])]
        main = next((i for i in items if i["sk"] == sort_key and i.get("type") == "message"), None)
        if main is None:
            raise NotFound("no such message")
        whole = self._whole_message(main, parts_by_owner(items).get(sort_key, {}))
        return self.fields.open_message(main) | whole.model_dump(mode="json")

    def _whole_message(self, item: dict[str, Any], parts: dict[int, Any]) -> Message:
        """A message item as a Message, its sealed fields opened (:mod:`.message_fields`); a
        large one put back together from its parts (read again if the Query that found the
        item stopped before them)."""
        count = int(item.get("parts") or 0)
        if not count:
            return _message(self.fields.open_message(item))
        if len(parts) < count:
            result = self._db.query(
                TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                ConsistentRead=True,
                ExpressionAttributeValues=to_item({":p": str(item["pk"]), ":s": parts_prefix(str(item["sk"]))}),
            )
            parts = parts_by_owner([from_item(i) for i in result.get("Items", [])]).get(str(item["sk"]), {})
        customer_id, message_id = str(item.get("customer_id", "")), str(item.get("id", ""))
        chunks = [self.fields.open_part(customer_id, message_id, n, parts.get(n)) for n in range(count)]
        whole = Message.model_validate_json(unpack(chunks, str(item.get("parts_digest", ""))))
        # the parts hold what the item left out; the rest (a reply's status) is the item's, as it is now
        return _message(self.fields.open_message(item)).model_copy(
            update={"text": whole.text, "metadata": whole.metadata, "attachments": whole.attachments})

    def find_customer(self, identity: Identity) -> Customer | None:
        """The customer an identity is linked to: one ``GetItem`` by its blind index (computed
        here, no call), then the customer's."""
        link = self._get(self.keys.identity(self.personal.ref(identity)))
        return None if link is None else self.get_customer(str(link["customer_id"]))

    def get_customer(self, customer_id: str) -> Customer | None:
        """A customer, its name and identities opened (a shredded one's read as erased: none)."""
        item = self._get(self.keys.customer(customer_id))
        return None if item is None else self.personal.customer(item)

    def get_customers(self, customer_ids: Iterable[str]) -> dict[str, Customer]:
        """Customers by id, 100 per consistent BatchGetItem; unknown ids are left out."""
        found = self._get_many([self.keys.customer(c) for c in dict.fromkeys(customer_ids)])
        return {customer.id: customer for customer in map(self.personal.customer, found)}


_TICKET_FIELDS = set(Ticket.model_fields)
_MESSAGE_FIELDS = set(Message.model_fields)


def _ticket(item: dict[str, Any]) -> Ticket:
    values = {k: v for k, v in item.items() if k in _TICKET_FIELDS} | {"id": item["ticket_id"]}
    return Ticket.model_validate(values)


def _message(item: dict[str, Any]) -> Message:
    return Message.model_validate({k: v for k, v in item.items() if k in _MESSAGE_FIELDS})
