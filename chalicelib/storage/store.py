"""The ticket store: one DynamoDB table, every call scoped to one tenant.

``TicketStore.tenant(id)`` is the only way in; the returned :class:`TenantStore`
builds keys through :class:`~chalicelib.keys.TenantKeys`, so it cannot read or
write another tenant's items. Every write is conditional or convergent (the
same call twice leaves the same item), so stream redeliveries are harmless.
Layout and access patterns: docs/storage.md.

Expiry (``expires_at``, DynamoDB TTL) is passed in by the caller, derived from
the tenant's message retention. The customer partition (the customer item and
one link per ticket) always outlives what erasure finds through it: the
customer item outlives its identities, and each ticket link its ticket.

Large documents: an item never grows past :data:`INLINE_DOCUMENT_BYTES` plus
small fixed fields, far below DynamoDB's 400 KB. A message whose JSON is
larger (100,000 characters of text JSON-escape to 600 KB) is compressed and
kept in parts of at most :data:`PART_BYTES` beside a small item: an inbound
record keeps a *stub* (``metadata[SPILLED] = "<parts>:<sha256>"``) written in
one transaction with its parts (one call on the webhook path), and a message
item keeps its fields without ``text`` and ``metadata`` plus ``parts`` (its
parts sort right after it in the ticket partition). Reads put them back
together: :meth:`TenantStore.complete_inbound`, :meth:`TenantStore.get_ticket`,
:meth:`TenantStore.get_message`.
"""

from __future__ import annotations

import hashlib
import heapq
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk import (
    AttachmentRef,
    Customer,
    CustomerProfile,
    Identity,
    InboundMessage,
    Message,
    NotFound,
    PayloadTooLarge,
    ThreadHints,
    Ticket,
    Unavailable,
)

from .aws import error_code, is_condition_failure
from .conventions import ACTIVITY_INDEX, MAX_PAGE, STATUS_INDEX, iso
from .ids import stable_id
from .items import from_item, to_item
from .keys import PART, Key, TenantKeys, shard_of
from .table import TenantTable

BATCH_GET = 100  # BatchGetItem's limit
DAY = 24 * 3600
CUSTOMER_GRACE = 7 * DAY  # the customer item outlives its newest message by this much
IDENTITY_GRACE = 1 * DAY  # identities: refreshed at most once a day, never past the customer
LINK_GRACE = 7 * DAY  # a customer→ticket link outlives its ticket by up to this much
INLINE_DOCUMENT_BYTES = 64 * 1024  # a message whose JSON is larger is kept in parts
PART_BYTES = 128 * 1024  # at most this much of the compressed document per part item
MAX_DOCUMENT_BYTES = 3 * 1024 * 1024  # compressed; one TransactWriteItems carries at most 4 MB
RESERVED_METADATA = "switchboard:"  # metadata keys with this prefix are the hub's, never a plugin's
SPILLED = RESERVED_METADATA + "parts"  # an inbound stub's marker: "<parts>:<sha256 of the compressed document>"


class PartsMissing(NotFound):
    """A large message's parts are gone (expired with its record) or do not match."""


class TicketStore:
    def __init__(self, client: Any, table_name: str, *, index_shards: int = 4,
                 max_document_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self.client = client
        self.table_name = table_name
        self.index_shards = index_shards
        self.max_document_bytes = max_document_bytes

    def tenant(self, tenant_id: str) -> TenantStore:
        return TenantStore(self, TenantKeys(tenant_id))


class TenantStore(TenantTable):
    def __init__(self, store: TicketStore, keys: TenantKeys) -> None:
        super().__init__(store.client, store.table_name, keys)
        self._store = store

    # -- the webhook path: one conditional write -----------------------------

    def record_inbound(
        self, message: InboundMessage, *, raw: bytes | None, expires_at: int, batch: list[str] | None = None
    ) -> bool:
        """Durably accept an inbound message; ``False`` if it was already held.

        ``batch``: provider ids of the other messages parsed from the same inline
        ``raw`` body (their records hold a copy of it, which erasure strips).
        """
        return self.put_inbound(self.inbound_write(message, raw=raw, expires_at=expires_at, batch=batch))

    def inbound_write(
        self, message: InboundMessage, *, raw: bytes | None, expires_at: int, batch: list[str] | None = None
    ) -> InboundWrite:
        """The items :meth:`put_inbound` writes for ``message``, built without a call, so
        a caller can refuse a whole request (:class:`PayloadTooLarge`: a message whose
        compressed document is over ``max_document_bytes``) before storing any of it."""
        self._check_tenant(message.tenant_id)
        key = self.keys.inbound(message.channel, message.provider_message_id)
        values = {"type": "inbound", "tenant_id": self.tenant_id, "raw": raw, "expires_at": expires_at,
                  "batch": batch or None}
        doc = message.model_dump_json()
        if not _large(doc):
            return InboundWrite(key | to_item(values | {"doc": doc}), [])
        packed = _pack(doc, self._store.max_document_bytes)
        stub = _inbound_stub(message, packed)
        parts = [
            self.keys.inbound_part(message.channel, message.provider_message_id, number) | to_item(
                {"type": "inbound_part", "tenant_id": self.tenant_id, "blob": chunk, "expires_at": expires_at})
            for number, chunk in enumerate(packed.parts)
        ]
        return InboundWrite(key | to_item(values | {"doc": stub.model_dump_json(), "parts": len(parts)}), parts)

    def put_inbound(self, write: InboundWrite) -> bool:
        """One conditional write (a transaction with the parts of a large message);
        ``False`` when the record was already there (nothing is written then)."""
        if not write.parts:
            return self._put_new(write.item)
        puts = [{"Put": {"TableName": self._table, "Item": write.item,
                         "ConditionExpression": "attribute_not_exists(pk)"}}]
        puts += [{"Put": {"TableName": self._table, "Item": part}} for part in write.parts]
        try:
            self._db.transact_write_items(TransactItems=puts)
        except Exception as err:
            if error_code(err) != "TransactionCanceledException":
                raise
            reasons = (getattr(err, "response", None) or {}).get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            # a concurrent write of the same record (TransactionConflict): nothing was written
            raise Unavailable("the message was not stored this time; send it again") from err
        return True

    def complete_inbound(self, message: InboundMessage) -> InboundMessage:
        """The whole message behind an inbound record's document: ``message`` itself,
        or, for a stub (a large message), the message read back from its parts
        (one consistent ``BatchGetItem``). :class:`PartsMissing` when they are gone."""
        marker = message.metadata.get(SPILLED)
        if marker is None:
            return message
        count, _, digest = marker.partition(":")
        if not count.isdigit():
            raise PartsMissing("the message's parts are not named")
        keys = [self.keys.inbound_part(message.channel, message.provider_message_id, n) for n in range(int(count))]
        found = {(str(i["pk"]), str(i["sk"])): i for i in self._get_many(keys)}
        chunks = [found.get((k["pk"]["S"], k["sk"]["S"]), {}).get("blob") for k in keys]
        return InboundMessage.model_validate_json(_unpack(chunks, digest))

    def claim_replay(self, channel: str, replay_key: str, fingerprint: str, *, expires_at: int) -> bool:
        """Claim a one-time token for the request ``fingerprint`` names, in one
        conditional ``PutItem``: ``True`` for the first claim and for a repeat of
        the same request (a provider retrying after a failure), ``False`` when
        another request already claimed the token (a replay)."""
        item = self.keys.replay(channel, replay_key) | to_item(
            {"type": "replay", "tenant_id": self.tenant_id, "fingerprint": fingerprint, "expires_at": expires_at}
        )
        return self._put_if(item, "attribute_not_exists(pk) OR fingerprint = :f", {":f": fingerprint})

    # -- conversation building (stream handler) ------------------------------

    def link_customer(
        self, profile: CustomerProfile, now: datetime, candidate_ticket: str | None,
        *, expires_at: int | None = None,
    ) -> tuple[str, str | None]:
        """Resolve the customer behind ``profile`` and its open ticket.

        Returns ``(customer_id, ticket_id)``: the customer's existing open ticket,
        or ``candidate_ticket`` when it had none (``None`` when no candidate was
        offered). The choice is one atomic ``if_not_exists`` update, so
        concurrent messages agree on one ticket.

        ``expires_at`` is the message's expiry: the customer is kept
        :data:`CUSTOMER_GRACE` longer, its identities up to :data:`IDENTITY_GRACE`.
        """
        known = self._known_identities(profile.identities)
        customer_id = next(
            (known[i.key]["customer_id"] for i in profile.identities if i.key in known),
            stable_id("cus", self.tenant_id, profile.identities[0].key),
        )
        grace = None if expires_at is None else expires_at + IDENTITY_GRACE
        self._link_identities([i for i in profile.identities if i.key not in known], customer_id, grace)
        if expires_at is not None:  # known identities: rewritten only when about to fall behind
            self._extend_identities([
                i for i in profile.identities if i.key in known and known[i.key]["customer_id"] == customer_id
                and int(known[i.key].get("expires_at", 0)) < expires_at
            ], customer_id, expires_at + IDENTITY_GRACE)
        return customer_id, self._update_customer(profile, now, customer_id, candidate_ticket, expires_at)

    def _update_customer(
        self, profile: CustomerProfile, now: datetime, customer_id: str, candidate_ticket: str | None,
        expires_at: int | None,
    ) -> str | None:
        pick = ", open_ticket_id = if_not_exists(open_ticket_id, :ticket)" if candidate_ticket else ""
        expiry = ", expires_at = :exp" if expires_at is not None else ""
        result = self._db.update_item(
            TableName=self._table,
            Key=self.keys.customer(customer_id),
            UpdateExpression=(
                "SET #t = :t, tenant_id = :tenant, customer_id = :cid,"
                " created_at = if_not_exists(created_at, :now),"
                f" display_name = if_not_exists(display_name, :name){pick}{expiry}"
                " ADD identity_keys :ids"
            ),
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues=to_item({
                ":t": "customer", ":tenant": self.tenant_id, ":cid": customer_id, ":now": iso(now),
                ":name": profile.display_name or "", ":ticket": candidate_ticket,
                ":ids": {i.key for i in profile.identities},
                ":exp": None if expires_at is None else expires_at + CUSTOMER_GRACE,
            }),
            ReturnValues="ALL_NEW",
        )
        open_ticket = from_item(result["Attributes"]).get("open_ticket_id")
        return None if open_ticket is None else str(open_ticket)

    def remember_provider_message(self, message: Message, *, expires_at: int | None = None) -> None:
        """Map a provider message id to where it landed, for threading later ones.
        An update, not a put: a parked follow-up's mark on the item must survive."""
        values = {"type": "provider_message", "tenant_id": self.tenant_id, "ticket_id": message.ticket_id,
                  "message_id": message.id, "customer_id": message.customer_id, "expires_at": expires_at,
                  "provider_message_id": message.provider_message_id}  # the key may hold its digest
        kept = [(name, value) for name, value in values.items() if value is not None]
        self._db.update_item(  # same values on a repeat
            TableName=self._table, Key=self.keys.provider_message(message.channel, message.provider_message_id),
            UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(kept)))
            + ("" if expires_at is not None else " REMOVE expires_at"),
            ExpressionAttributeNames={f"#a{i}": name for i, (name, _) in enumerate(kept)},
            ExpressionAttributeValues=to_item({f":v{i}": value for i, (_, value) in enumerate(kept)}),
        )

    def find_provider_message(self, channel: str, provider_message_id: str) -> tuple[str, str] | None:
        """``(ticket_id, customer_id)`` of an earlier message, if we hold it."""
        item = self._get(self.keys.provider_message(channel, provider_message_id))
        if item is None or "ticket_id" not in item:  # only a follow-up's mark: not stored yet
            return None
        return str(item["ticket_id"]), str(item["customer_id"])

    def park(self, awaited_id: str, follow_up: InboundMessage, *, expires_at: int | None = None) -> None:
        """Keep a follow-up until the message ``awaited_id`` (same channel) is stored,
        and mark that message's map item (a stub until it is stored), so the stream
        handler releases follow-ups only for marked messages (:func:`has_parked_follow_ups`).
        A large follow-up is parked as its inbound record's stub (read back whole by
        :meth:`complete_inbound` when it is released)."""
        self._check_tenant(follow_up.tenant_id)
        doc = follow_up.model_dump_json()
        if _large(doc):  # the stub of a large message names its inbound parts: park that
            raise ValueError("park a large message by its inbound record's stub")
        key = self.keys.waiting(follow_up.channel, awaited_id, follow_up.provider_message_id)
        item = key | to_item({"type": "waiting", "tenant_id": self.tenant_id, "doc": doc, "expires_at": expires_at})
        self._db.put_item(TableName=self._table, Item=item)
        expiry = "" if expires_at is None else ", expires_at = if_not_exists(expires_at, :exp)"
        self._db.update_item(  # after the put: whoever sees the mark finds the parked item
            TableName=self._table, Key=self.keys.provider_message(follow_up.channel, awaited_id),
            UpdateExpression=f"SET #t = if_not_exists(#t, :stub), tenant_id = :tenant, parked = :yes{expiry}",
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues=to_item(
                {":stub": "awaited", ":tenant": self.tenant_id, ":yes": True, ":exp": expires_at}),
        )

    def parked_for(self, channel: str, awaited_id: str) -> list[InboundMessage]:
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p", ConsistentRead=True,
            ExpressionAttributeValues=to_item({":p": self.keys.waiting_partition(channel, awaited_id)}),
        )
        return [InboundMessage.model_validate_json(from_item(i)["doc"]) for i in result.get("Items", [])]

    def unpark(self, awaited_id: str, follow_up: InboundMessage) -> None:
        key = self.keys.waiting(follow_up.channel, awaited_id, follow_up.provider_message_id)
        self._db.delete_item(TableName=self._table, Key=key)

    def ticket_customer(self, ticket_id: str) -> str | None:
        """The customer a ticket belongs to, or ``None`` if there is no such ticket
        (or its customer was erased: nothing may join it any more)."""
        item = self._get(self.keys.ticket(ticket_id))
        return None if item is None or "erased_at" in item else str(item["customer_id"])

    def _get_many(self, keys: list[Key]) -> list[dict[str, Any]]:
        """The items behind ``keys`` that exist (consistent ``BatchGetItem``, 100 keys a call)."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET):
            request = {self._table: {"Keys": keys[start : start + BATCH_GET], "ConsistentRead": True}}
            while request:
                result = self._db.batch_get_item(RequestItems=request)
                found += result.get("Responses", {}).get(self._table, [])
                request = result.get("UnprocessedKeys") or {}
        return [from_item(i) for i in found]

    def _known_identities(self, identities: list[Identity]) -> dict[str, dict[str, Any]]:
        """identity key → identity item, for the identities already linked (one call)."""
        keys = [self.keys.identity(i) for i in identities]
        request = {self._table: {"Keys": keys, "ConsistentRead": True}}
        found: list[dict[str, Any]] = []
        while request:
            result = self._db.batch_get_item(RequestItems=request)
            found += result.get("Responses", {}).get(self._table, [])
            request = result.get("UnprocessedKeys") or {}
        return {item["identity"]: item for item in map(from_item, found)}

    def _link_identities(self, identities: list[Identity], customer_id: str, expires_at: int | None) -> None:
        for identity in identities:
            item = self.keys.identity(identity) | to_item(
                {"type": "identity", "tenant_id": self.tenant_id, "customer_id": customer_id,
                 "identity": identity.key, "expires_at": expires_at}
            )
            # an identity already linked keeps its customer (merging comes later)
            self._put_new(item)

    def _extend_identities(self, identities: list[Identity], customer_id: str, expires_at: int) -> None:
        for identity in identities:
            self._update_if(self.keys.identity(identity), "SET expires_at = :exp", "customer_id = :cid",
                            {":exp": expires_at, ":cid": customer_id})

    def touch_ticket(self, ticket: Ticket, *, expires_at: int | None = None) -> None:
        """Create the ticket if new and move its activity forward (never back).

        ``expires_at`` moves with the activity: a ticket expires a retention
        period after its last message. The customer's link to the ticket is
        written (or pushed out) after the ticket, and marked on it only then.
        """
        self._check_tenant(ticket.tenant_id)
        activity = iso(ticket.last_activity_at)
        shard = shard_of(ticket.id, self._store.index_shards)
        try:
            result = self._db.update_item(
                TableName=self._table,
                Key=self.keys.ticket(ticket.id),
                UpdateExpression=(
                    "SET #t = :t, tenant_id = :tenant, ticket_id = :id, customer_id = :cid,"
                    " #ch = if_not_exists(#ch, :ch), #st = if_not_exists(#st, :st),"
                    " subject = if_not_exists(subject, :subj), created_at = if_not_exists(created_at, :at),"
                    " last_activity_at = :at, gsi1pk = :g1, gsi1sk = :gsk,"
                    " gsi2pk = if_not_exists(gsi2pk, :g2), gsi2sk = :gsk"
                    + (", expires_at = :exp" if expires_at is not None else "")
                ),
                ConditionExpression="attribute_not_exists(last_activity_at) OR last_activity_at <= :at",
                ExpressionAttributeNames={"#t": "type", "#ch": "channel", "#st": "status"},
                ExpressionAttributeValues=to_item({
                    ":t": "ticket", ":tenant": self.tenant_id, ":id": ticket.id, ":cid": ticket.customer_id,
                    ":ch": ticket.channel, ":st": ticket.status, ":subj": ticket.subject, ":at": activity,
                    ":g1": self.keys.activity_index(shard), ":gsk": f"{activity}#{ticket.id}",
                    ":g2": self.keys.status_index(ticket.status, shard), ":exp": expires_at,
                }),
                ReturnValues="ALL_OLD",
            )
        except Exception as err:
            if not is_condition_failure(err):  # newer activity already recorded (and linked)
                raise
            return
        self._link_ticket(ticket, from_item(result.get("Attributes") or {}).get("link_expires_at"), expires_at)

    def _link_ticket(self, ticket: Ticket, linked_until: int | None, expires_at: int | None) -> None:
        """List the ticket under its customer for at least as long as the ticket lives.

        ``linked_until`` is what the ticket says its link lasts (``0``: no expiry,
        ``None``: not linked yet). The link is rewritten only when the ticket's
        expiry passes it, i.e. at most once per :data:`LINK_GRACE` of activity; it
        is marked on the ticket only after it was written, so a retry after a
        failure in between writes it again.
        """
        if linked_until is not None and (expires_at is None or linked_until >= expires_at):
            return
        until = None if expires_at is None else expires_at + LINK_GRACE
        link = self.keys.customer_ticket(ticket.customer_id, ticket.id) | to_item({
            "type": "customer_ticket", "tenant_id": self.tenant_id, "customer_id": ticket.customer_id,
            "ticket_id": ticket.id, "expires_at": until,
        })
        if until is None:
            self._db.put_item(TableName=self._table, Item=link)
        else:  # never shorten a link a concurrent message pushed further out
            self._put_if(link, "attribute_not_exists(expires_at) OR expires_at < :exp", {":exp": until})
        self._update_if(
            self.keys.ticket(ticket.id), "SET link_expires_at = :until",
            "attribute_exists(pk) AND (attribute_not_exists(link_expires_at) OR link_expires_at < :until)",
            {":until": until or 0},
        )

    def add_message(self, message: Message, *, expires_at: int | None = None) -> bool:
        """Append a message to its ticket; ``False`` if it is already there.

        A large message is written as its parts (plain puts: a repeat writes the
        same bytes again), then its item, conditionally, so whoever sees the item
        (the stream, a reader) finds the parts."""
        self._check_tenant(message.tenant_id)
        stamp = iso(message.received_at)
        key = self.keys.message(message.ticket_id, stamp, message.id)
        doc = message.model_dump_json()
        if not _large(doc):
            return self._put_new(key | to_item(
                {"type": "message", **message.model_dump(mode="json"), "expires_at": expires_at}))
        packed = _pack(doc, self._store.max_document_bytes)
        for number, chunk in enumerate(packed.parts):
            part = self.keys.message_part(message.ticket_id, stamp, message.id, number) | to_item({
                "type": "message_part", "tenant_id": self.tenant_id, "ticket_id": message.ticket_id,
                "message_id": message.id, "channel": message.channel,
                "provider_message_id": message.provider_message_id, "blob": chunk, "expires_at": expires_at,
            })
            self._db.put_item(TableName=self._table, Item=part)
        skeleton = message.model_copy(update={"text": "", "metadata": {}, "attachments": _ours(message.attachments)})
        return self._put_new(key | to_item({
            "type": "message", **skeleton.model_dump(mode="json"), "parts": len(packed.parts),
            "parts_digest": packed.digest, "expires_at": expires_at,
        }))

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
        """A ticket and its messages in order, text in full (one Query over the ticket
        partition: a large message's parts come with it)."""
        items: list[dict[str, Any]] = []
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
        tickets = [i for i in items if i["type"] == "ticket"]
        if not tickets:
            raise NotFound("no such ticket")
        parts = _parts_by_owner(items)
        found = [i for i in items if i["type"] == "message"][:message_limit]
        return _ticket(tickets[0]), [self._whole_message(i, parts.get(str(i["sk"]), {})) for i in found]

    def get_message(self, ticket_id: str, received_at: datetime | str, message_id: str) -> Message:
        """One message by its key, text in full (one consistent Query: the item and,
        for a large message, its parts). ``received_at``: the message's, as a
        datetime or ISO 8601 text (a stream image's). :class:`NotFound` if absent."""
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
        return self._whole_message(main, _parts_by_owner(items).get(sort_key, {}))

    def _whole_message(self, item: dict[str, Any], parts: dict[int, Any]) -> Message:
        """A message item as a Message; a large one put back together from its parts
        (read again if the Query that found the item stopped before them)."""
        count = int(item.get("parts") or 0)
        if not count:
            return _message(item)
        if len(parts) < count:
            result = self._db.query(
                TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                ConsistentRead=True,
                ExpressionAttributeValues=to_item({":p": str(item["pk"]), ":s": f"{item['sk']}{PART}"}),
            )
            parts = _parts_by_owner([from_item(i) for i in result.get("Items", [])]).get(str(item["sk"]), {})
        chunks = [parts.get(n) for n in range(count)]
        return Message.model_validate_json(_unpack(chunks, str(item.get("parts_digest", ""))))

    def find_customer(self, identity: Identity) -> Customer | None:
        link = self._get(self.keys.identity(identity))
        return None if link is None else self.get_customer(str(link["customer_id"]))

    def get_customer(self, customer_id: str) -> Customer | None:
        item = self._get(self.keys.customer(customer_id))
        return None if item is None else _customer(item)

    def get_customers(self, customer_ids: Iterable[str]) -> dict[str, Customer]:
        """Customers by id, 100 per consistent BatchGetItem; unknown ids are left out."""
        found = self._get_many([self.keys.customer(c) for c in dict.fromkeys(customer_ids)])
        return {customer.id: customer for customer in map(_customer, found)}


@dataclass(frozen=True)
class InboundWrite:
    """An inbound record ready to write: its item and, for a large message, its parts."""

    item: dict[str, Any]
    parts: list[dict[str, Any]]


@dataclass(frozen=True)
class _Packed:
    parts: list[bytes]
    digest: str  # SHA-256 (hex) of the compressed document

    @property
    def marker(self) -> str:
        return f"{len(self.parts)}:{self.digest}"


def _large(doc: str) -> bool:
    """Whether a document is kept in parts (UTF-8 bytes over :data:`INLINE_DOCUMENT_BYTES`)."""
    return len(doc) > INLINE_DOCUMENT_BYTES // 4 and len(doc.encode("utf-8")) > INLINE_DOCUMENT_BYTES


def _pack(doc: str, limit: int) -> _Packed:
    blob = zlib.compress(doc.encode("utf-8"))
    if len(blob) > limit:
        raise PayloadTooLarge(f"the message is too large to store ({len(blob)} bytes compressed, "
                              f"at most {limit})")
    parts = [blob[start : start + PART_BYTES] for start in range(0, len(blob), PART_BYTES)]
    return _Packed(parts, hashlib.sha256(blob).hexdigest())


def _unpack(chunks: list[Any], digest: str) -> str:
    """The document the parts hold; :class:`PartsMissing` if one is gone or they do not match."""
    if any(chunk is None for chunk in chunks):
        raise PartsMissing("a part of the message is gone")
    blob = b"".join(bytes(getattr(chunk, "value", chunk)) for chunk in chunks)
    if hashlib.sha256(blob).hexdigest() != digest:
        raise PartsMissing("the message's parts do not match it")
    return zlib.decompress(blob).decode("utf-8")


def _ours(attachments: list[AttachmentRef]) -> list[AttachmentRef]:
    """Attachments in the hub's bucket, by reference only (what erasure must find)."""
    return [AttachmentRef(url=a.url) for a in attachments if a.url and a.url.startswith("s3://")]


def _inbound_stub(message: InboundMessage, packed: _Packed) -> InboundMessage:
    """What the inbound record of a large message holds: its keys and references
    (erasure reads ``raw_payload_ref`` and the attachments), the marker naming its
    parts, and just enough to stay a valid message; all else is in the parts."""
    customer = message.customer
    return message.model_copy(update={
        "customer": None if customer is None else CustomerProfile(identities=customer.identities[:1]),
        "thread": ThreadHints(provider_ids=message.thread.provider_ids[:1] if customer is None else []),
        "subject": None, "text": "", "metadata": {SPILLED: packed.marker},
        "attachments": _ours(message.attachments),
    })


def _parts_by_owner(items: list[dict[str, Any]]) -> dict[str, dict[int, Any]]:
    """Message parts of a Query's items: owner sort key -> part number -> bytes."""
    parts: dict[str, dict[int, Any]] = {}
    for item in items:
        if item.get("type") == "message_part":
            owner, _, number = str(item["sk"]).rpartition(PART)
            parts.setdefault(owner, {})[int(number)] = item["blob"]
    return parts


def inbound_part_keys(keys: TenantKeys, record: dict[str, Any]) -> list[Key]:
    """The keys of an inbound record's parts (a large message; none for others),
    from the record as read (deserialised): what erasure deletes with the record."""
    count = int(record.get("parts") or 0)
    if not count:
        return []
    stub = InboundMessage.model_validate_json(str(record["doc"]))
    return [keys.inbound_part(stub.channel, stub.provider_message_id, n) for n in range(count)]


def is_spilled(image: dict[str, Any]) -> bool:
    """Whether a stored message item (a stream image, deserialised) holds its fields
    without ``text`` and ``metadata``, which are in parts: read it whole with
    :meth:`TenantStore.get_message`."""
    return image.get("type") == "message" and bool(image.get("parts"))


_TICKET_FIELDS = set(Ticket.model_fields)
_MESSAGE_FIELDS = set(Message.model_fields)


def has_parked_follow_ups(image: dict[str, Any]) -> bool:
    """Whether a stored provider message's map item (a stream image, deserialised)
    carries the mark :meth:`TenantStore.park` leaves: follow-ups may wait for it."""
    return image.get("type") == "provider_message" and bool(image.get("parked"))


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


