"""The ticket store: one DynamoDB table, every call scoped to one tenant.

``TicketStore.tenant(id)`` is the only way in; the returned :class:`TenantStore`
builds keys through :class:`~chalicelib.keys.TenantKeys`, so it cannot read or
write another tenant's items. Every write is conditional or convergent (the
same call twice leaves the same item), so stream redeliveries are harmless.
Layout and access patterns: docs/storage.md.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime
from typing import Any

from switchboard_sdk import (
    Customer,
    CustomerProfile,
    Identity,
    InboundMessage,
    Message,
    NotFound,
    Ticket,
)

from .ids import stable_id
from .items import from_item, to_item
from .keys import Key, TenantKeys, shard_of

ACTIVITY_INDEX = "gsi1"
STATUS_INDEX = "gsi2"
MAX_PAGE = 100


def iso(moment: datetime) -> str:
    """Sortable UTC timestamps with microseconds (store and index keys sort by them)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_condition_failure(err: Exception) -> bool:
    response = getattr(err, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class TicketStore:
    def __init__(self, client: Any, table_name: str, *, index_shards: int = 4) -> None:
        self.client = client
        self.table_name = table_name
        self.index_shards = index_shards

    def tenant(self, tenant_id: str) -> TenantStore:
        return TenantStore(self, TenantKeys(tenant_id))


class TenantStore:
    def __init__(self, store: TicketStore, keys: TenantKeys) -> None:
        self._store = store
        self._db = store.client
        self._table = store.table_name
        self.keys = keys
        self.tenant_id = keys.tenant_id

    # -- the webhook path: one conditional write -----------------------------

    def record_inbound(self, message: InboundMessage, *, raw: bytes | None, expires_at: int) -> bool:
        """Durably accept an inbound message; ``False`` if it was already held."""
        self._check_tenant(message.tenant_id)
        key = self.keys.inbound(message.channel, message.provider_message_id)
        item = key | to_item(
            {"type": "inbound", "tenant_id": self.tenant_id, "doc": message.model_dump_json(),
             "raw": raw, "expires_at": expires_at}
        )
        return self._put_new(item)

    def replay_seen(self, channel: str, replay_key: str) -> bool:
        return self._get(self.keys.replay(channel, replay_key)) is not None

    def remember_replay(self, channel: str, replay_key: str, *, expires_at: int) -> None:
        item = self.keys.replay(channel, replay_key) | to_item(
            {"type": "replay", "tenant_id": self.tenant_id, "expires_at": expires_at}
        )
        self._db.put_item(TableName=self._table, Item=item)

    # -- conversation building (stream handler) ------------------------------

    def link_customer(
        self, profile: CustomerProfile, now: datetime, candidate_ticket: str | None
    ) -> tuple[str, str | None]:
        """Resolve the customer behind ``profile`` and its open ticket.

        Returns ``(customer_id, ticket_id)``: the customer's existing open ticket,
        or ``candidate_ticket`` when it had none (``None`` when no candidate was
        offered). The choice is one atomic ``if_not_exists`` update, so
        concurrent messages agree on one ticket.
        """
        known = self._known_identities(profile.identities)
        customer_id = next(
            (known[i.key] for i in profile.identities if i.key in known),
            stable_id("cus", self.tenant_id, profile.identities[0].key),
        )
        self._link_identities([i for i in profile.identities if i.key not in known], customer_id)
        pick = ", open_ticket_id = if_not_exists(open_ticket_id, :ticket)" if candidate_ticket else ""
        result = self._db.update_item(
            TableName=self._table,
            Key=self.keys.customer(customer_id),
            UpdateExpression=(
                "SET #t = :t, tenant_id = :tenant, customer_id = :cid,"
                " created_at = if_not_exists(created_at, :now),"
                f" display_name = if_not_exists(display_name, :name){pick}"
                " ADD identity_keys :ids"
            ),
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues=to_item({
                ":t": "customer", ":tenant": self.tenant_id, ":cid": customer_id, ":now": iso(now),
                ":name": profile.display_name or "", ":ticket": candidate_ticket,
                ":ids": {i.key for i in profile.identities},
            }),
            ReturnValues="ALL_NEW",
        )
        return customer_id, from_item(result["Attributes"]).get("open_ticket_id")

    def remember_provider_message(self, message: Message) -> None:
        """Map a provider message id to where it landed, for threading later ones."""
        item = self.keys.provider_message(message.channel, message.provider_message_id) | to_item({
            "type": "provider_message", "tenant_id": self.tenant_id, "ticket_id": message.ticket_id,
            "message_id": message.id, "customer_id": message.customer_id,
        })
        self._db.put_item(TableName=self._table, Item=item)  # same values on a repeat

    def find_provider_message(self, channel: str, provider_message_id: str) -> tuple[str, str] | None:
        """``(ticket_id, customer_id)`` of an earlier message, if we hold it."""
        item = self._get(self.keys.provider_message(channel, provider_message_id))
        return None if item is None else (str(item["ticket_id"]), str(item["customer_id"]))

    def park(self, awaited_id: str, follow_up: InboundMessage) -> None:
        """Keep a follow-up until the message ``awaited_id`` (same channel) is stored."""
        self._check_tenant(follow_up.tenant_id)
        key = self.keys.waiting(follow_up.channel, awaited_id, follow_up.provider_message_id)
        item = key | to_item({"type": "waiting", "tenant_id": self.tenant_id, "doc": follow_up.model_dump_json()})
        self._db.put_item(TableName=self._table, Item=item)

    def parked_for(self, channel: str, awaited_id: str) -> list[InboundMessage]:
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=to_item({":p": self.keys.waiting_partition(channel, awaited_id)}),
        )
        return [InboundMessage.model_validate_json(from_item(i)["doc"]) for i in result.get("Items", [])]

    def unpark(self, awaited_id: str, follow_up: InboundMessage) -> None:
        key = self.keys.waiting(follow_up.channel, awaited_id, follow_up.provider_message_id)
        self._db.delete_item(TableName=self._table, Key=key)

    def ticket_customer(self, ticket_id: str) -> str | None:
        """The customer a ticket belongs to, or ``None`` if there is no such ticket."""
        item = self._get(self.keys.ticket(ticket_id))
        return None if item is None else str(item["customer_id"])

    def _known_identities(self, identities: list[Identity]) -> dict[str, str]:
        """identity key → customer id, for the identities already linked (one call)."""
        keys = [self.keys.identity(i) for i in identities]
        request = {self._table: {"Keys": keys, "ConsistentRead": True}}
        found: list[dict[str, Any]] = []
        while request:
            result = self._db.batch_get_item(RequestItems=request)
            found += result.get("Responses", {}).get(self._table, [])
            request = result.get("UnprocessedKeys") or {}
        return {item["identity"]: item["customer_id"] for item in map(from_item, found)}

    def _link_identities(self, identities: list[Identity], customer_id: str) -> None:
        for identity in identities:
            item = self.keys.identity(identity) | to_item(
                {"type": "identity", "tenant_id": self.tenant_id, "customer_id": customer_id,
                 "identity": identity.key}
            )
            # an identity already linked keeps its customer (merging comes later)
            self._put_new(item)

    def touch_ticket(self, ticket: Ticket) -> None:
        """Create the ticket if new and move its activity forward (never back)."""
        self._check_tenant(ticket.tenant_id)
        activity = iso(ticket.last_activity_at)
        shard = shard_of(ticket.id, self._store.index_shards)
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self.keys.ticket(ticket.id),
                UpdateExpression=(
                    "SET #t = :t, tenant_id = :tenant, ticket_id = :id, customer_id = :cid,"
                    " #ch = if_not_exists(#ch, :ch), #st = if_not_exists(#st, :st),"
                    " subject = if_not_exists(subject, :subj), created_at = if_not_exists(created_at, :at),"
                    " last_activity_at = :at, gsi1pk = :g1, gsi1sk = :gsk,"
                    " gsi2pk = if_not_exists(gsi2pk, :g2), gsi2sk = :gsk"
                ),
                ConditionExpression="attribute_not_exists(last_activity_at) OR last_activity_at <= :at",
                ExpressionAttributeNames={"#t": "type", "#ch": "channel", "#st": "status"},
                ExpressionAttributeValues=to_item({
                    ":t": "ticket", ":tenant": self.tenant_id, ":id": ticket.id, ":cid": ticket.customer_id,
                    ":ch": ticket.channel, ":st": ticket.status, ":subj": ticket.subject, ":at": activity,
                    ":g1": self.keys.activity_index(shard), ":gsk": f"{activity}#{ticket.id}",
                    ":g2": self.keys.status_index(ticket.status, shard),
                }),
            )
        except Exception as err:
            if not _is_condition_failure(err):  # newer activity already recorded
                raise

    def add_message(self, message: Message) -> bool:
        """Append a message to its ticket; ``False`` if it is already there."""
        self._check_tenant(message.tenant_id)
        key = self.keys.message(message.ticket_id, iso(message.received_at), message.id)
        item = key | to_item({"type": "message", **message.model_dump(mode="json")})
        return self._put_new(item)

    # -- delivery attempts (worker) ---------------------------------------------

    def reset_failed_attempts(self, connector: str, event_id: str) -> None:
        """A replayed job starts with a fresh attempt budget."""
        self._db.delete_item(TableName=self._table, Key=self.keys.delivery(connector, event_id))

    def failed_attempts(self, connector: str, event_id: str) -> int:
        item = self._get(self.keys.delivery(connector, event_id))
        return 0 if item is None else int(item["failures"])

    def count_failed_attempt(self, connector: str, event_id: str, *, expires_at: int) -> int:
        """Add one failed attempt; returns the new total."""
        result = self._db.update_item(
            TableName=self._table, Key=self.keys.delivery(connector, event_id),
            UpdateExpression="SET #t = :t, tenant_id = :tenant, expires_at = :exp ADD failures :one",
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues=to_item(
                {":t": "delivery", ":tenant": self.tenant_id, ":exp": expires_at, ":one": 1}
            ),
            ReturnValues="UPDATED_NEW",
        )
        return int(from_item(result["Attributes"])["failures"])

    def external_id(self, connector: str, kind: str, local_id: str) -> str | None:
        item = self._get(self.keys.external_id(connector, kind, local_id))
        return None if item is None else str(item["external_id"])

    def remember_external_id(self, connector: str, kind: str, local_id: str, external_id: str) -> None:
        item = self.keys.external_id(connector, kind, local_id) | to_item(
            {"type": "external_id", "tenant_id": self.tenant_id, "external_id": external_id}
        )
        self._db.put_item(TableName=self._table, Item=item)

    # -- reads ---------------------------------------------------------------

    def list_tickets(
        self, *, status: str | None = None, limit: int = 50, before: str | None = None
    ) -> tuple[list[Ticket], str | None]:
        """Newest activity first across the index shards; returns ``(page, cursor)``."""
        limit = max(1, min(limit, MAX_PAGE))
        pages = [self._query_index_shard(status, s, limit, before) for s in range(self._store.index_shards)]
        merged = list(heapq.merge(*pages, key=lambda item: item["gsi1sk"], reverse=True))
        page = merged[:limit]
        more = len(merged) > limit or any(len(p) == limit for p in pages)
        cursor = page[-1]["gsi1sk"] if page and more else None
        return [_ticket(item) for item in page], cursor

    def _query_index_shard(
        self, status: str | None, shard: int, limit: int, before: str | None
    ) -> list[dict[str, Any]]:
        index, pk_name, sk_name = (
            (STATUS_INDEX, "gsi2pk", "gsi2sk") if status else (ACTIVITY_INDEX, "gsi1pk", "gsi1sk")
        )
        partition = self.keys.status_index(status, shard) if status else self.keys.activity_index(shard)
        condition = f"{pk_name} = :p" + (f" AND {sk_name} < :before" if before else "")
        values: dict[str, Any] = {":p": partition} | ({":before": before} if before else {})
        result = self._db.query(
            TableName=self._table, IndexName=index, KeyConditionExpression=condition,
            ExpressionAttributeValues=to_item(values), ScanIndexForward=False, Limit=limit,
        )
        return [from_item(item) for item in result.get("Items", [])]

    def get_ticket(self, ticket_id: str, *, message_limit: int = 1000) -> tuple[Ticket, list[Message]]:
        """A ticket and its messages in order (one Query over the ticket partition)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": to_item({":p": self.keys.ticket_partition(ticket_id)}),
        }
        while len(items) <= message_limit:
            result = self._db.query(**kwargs)
            items += [from_item(i) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                break
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]
        tickets = [i for i in items if i["type"] == "ticket"]
        if not tickets:
            raise NotFound("no such ticket")
        messages = [_message(i) for i in items if i["type"] == "message"][:message_limit]
        return _ticket(tickets[0]), messages

    def find_customer(self, identity: Identity) -> Customer | None:
        link = self._get(self.keys.identity(identity))
        return None if link is None else self.get_customer(str(link["customer_id"]))

    def get_customer(self, customer_id: str) -> Customer | None:
        item = self._get(self.keys.customer(customer_id))
        return None if item is None else _customer(item)

    # -- plumbing --------------------------------------------------------------

    def _check_tenant(self, tenant_id: str) -> None:
        if tenant_id != self.tenant_id:
            raise PermissionError("record belongs to another tenant")

    def _get(self, key: Key) -> dict[str, Any] | None:
        result = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        return from_item(result["Item"]) if "Item" in result else None

    def _put_new(self, item: dict[str, Any]) -> bool:
        try:
            self._db.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except Exception as err:
            if _is_condition_failure(err):
                return False
            raise
        return True


_TICKET_FIELDS = set(Ticket.model_fields)
_MESSAGE_FIELDS = set(Message.model_fields)


def _ticket(item: dict[str, Any]) -> Ticket:
    values = {k: v for k, v in item.items() if k in _TICKET_FIELDS} | {"id": item["ticket_id"]}
    return Ticket.model_validate(values)


def _message(item: dict[str, Any]) -> Message:
    return Message.model_validate({k: v for k, v in item.items() if k in _MESSAGE_FIELDS})


def _customer(item: dict[str, Any]) -> Customer:
    identities = [Identity(kind=k, value=v) for k, _, v in (i.partition(":") for i in sorted(item["identity_keys"]))]
    return Customer(
        id=item["customer_id"], tenant_id=item["tenant_id"], display_name=item.get("display_name") or None,
        identities=identities, created_at=item["created_at"],
    )


