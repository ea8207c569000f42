"""Conversations: what the stream handler reads and writes behind each inbound record.

Customers and their identities (found by blind index; values and names sealed under the
customer's key: :mod:`.personal`), tickets (with the customer's link to each),
messages, the map from provider message ids to where they landed, and follow-ups
parked until the message they follow is stored. Every write is conditional or
convergent (the same call twice leaves the same item), so stream redeliveries
are harmless.

Expiry (``expires_at``, DynamoDB TTL) is passed in by the caller, derived from
the tenant's message retention. The customer partition (the customer item and
one link per ticket) always outlives what erasure finds through it: the
customer item outlives its identities, and each ticket link its ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from switchboard_sdk import CustomerProfile, Identity, InboundMessage, Message, Ticket

from .aws import is_condition_failure
from .conventions import iso
from .documents import (
    MAX_DOCUMENT_BYTES,
    PART_BYTES,
    SEALED_PART_BYTES,
    SPILLED,
    PartsMissing,
    is_large,
    ours,
    pack,
    unpack,
)
from .ids import customer_id_for
from .items import from_item, to_item
from .keys import TenantKeys, activity_sort_key, key_of, shard_of
from .message_fields import MessageFields
from .personal import NAME, SEALED_IDENTITIES, PersonalFields, element_refs
from .sealing import Sealer, open_blob, open_document, seal_document
from .table import TenantTable

DAY = 24 * 3600
CUSTOMER_GRACE = 7 * DAY  # the customer item outlives its newest message by this much
IDENTITY_GRACE = 1 * DAY  # identities: refreshed at most once a day, never past the customer
LINK_GRACE = 7 * DAY  # a customer→ticket link outlives its ticket by up to this much


class Conversations(TenantTable):
    def __init__(self, client: Any, table_name: str, keys: TenantKeys, *, index_shards: int = 4,
                 max_document_bytes: int = MAX_DOCUMENT_BYTES, crypto: Sealer | None = None) -> None:
        super().__init__(client, table_name, keys)
        self._index_shards = index_shards
        self._max_document_bytes = max_document_bytes
        self._crypto = crypto  # inbound and parked documents are sealed (None: plain)
        self._personal = PersonalFields(crypto, keys.tenant_id)  # identities by blind index, sealed customer fields
        self.fields = MessageFields(crypto, keys.tenant_id)  # message text and subjects under the customer's key

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
        blobs = [found.get((k["pk"]["S"], k["sk"]["S"]), {}).get("blob") for k in keys]
        chunks = [None if blob is None else open_blob(self._crypto, self.tenant_id, key, "blob",
                                                      bytes(getattr(blob, "value", blob)))
                  for key, blob in zip(keys, blobs, strict=True)]
        return InboundMessage.model_validate_json(unpack(chunks, digest))

    def link_customer(
        self, profile: CustomerProfile, now: datetime, candidate_ticket: str | None,
        *, expires_at: int | None = None,
    ) -> Linked:
        """Resolve the customer behind ``profile`` and its open ticket.

        Returns ``(customer_id, ticket_id, follows, state)``: the customer's existing open
        ticket, or ``candidate_ticket`` when it had none (``None`` when no candidate
        was offered) — then ``follows`` is the customer's last closed ticket, which
        the new one follows up. The choice is one atomic ``if_not_exists`` update, so
        concurrent messages agree on one ticket. ``state``: :func:`customer_state` of the
        customer as that update left it.

        ``expires_at`` is the message's expiry: the customer is kept
        :data:`CUSTOMER_GRACE` longer, its identities up to :data:`IDENTITY_GRACE`.

        Identities are found by their blind-index refs (:mod:`.personal`); their values and
        the name are stored sealed under the customer's key, only when new (:meth:`_sealed_fields`).
        """
        refs = {i.key: self._personal.ref(i) for i in profile.identities}  # blind indexes: no call
        known = self._known_identities(list(refs.values()))
        customer_id = next((str(known[r]["customer_id"]) for r in refs.values() if r in known),
                           customer_id_for(self.tenant_id, refs[profile.identities[0].key]))
        fresh = [i for i in profile.identities if refs[i.key] not in known]
        grace = None if expires_at is None else expires_at + IDENTITY_GRACE
        self._link_identities([refs[i.key] for i in fresh], customer_id, grace)
        if expires_at is not None:  # known identities: rewritten only when about to fall behind
            self._extend_identities([
                r for r in refs.values() if r in known and known[r]["customer_id"] == customer_id
                and int(known[r].get("expires_at", 0)) < expires_at
            ], customer_id, expires_at + IDENTITY_GRACE)
        sealed = self._sealed_fields(profile, refs, fresh, customer_id)
        found = self._update_customer(refs, sealed, now, customer_id, candidate_ticket, expires_at)
        found = self._complete_customer(found, profile, refs, customer_id)
        open_ticket = found.get("open_ticket_id")
        follows = found.get("closed_ticket_id") if open_ticket and open_ticket == candidate_ticket else None
        return Linked(customer_id, None if open_ticket is None else str(open_ticket),
                      None if follows is None else str(follows), customer_state(found))

    def _sealed_fields(self, profile: CustomerProfile, refs: dict[str, str], fresh: list[Identity],
                       customer_id: str) -> dict[str, Any]:
        """What a message adds of the customer's personal fields, sealed under their key: its
        identities not linked before (and the name, which only a new customer takes). A
        message of a known customer from known identities seals nothing (no key is read)."""
        if not fresh:
            return {}
        return {NAME: self._personal.seal_name(customer_id, profile.display_name),
                SEALED_IDENTITIES: {self._personal.seal_identity(customer_id, refs[i.key], i.key) for i in fresh}}

    def _update_customer(
        self, refs: dict[str, str], sealed: dict[str, Any], now: datetime, customer_id: str,
        candidate_ticket: str | None, expires_at: int | None,
    ) -> dict[str, Any]:
        pick = ", open_ticket_id = if_not_exists(open_ticket_id, :ticket)" if candidate_ticket else ""
        expiry = ", expires_at = :exp" if expires_at is not None else ""
        name = ", display_name = if_not_exists(display_name, :name)" if NAME in sealed else ""
        added = ", sealed_identities :sealed" if SEALED_IDENTITIES in sealed else ""
        result = self._db.update_item(
            TableName=self._table,
            Key=self.keys.customer(customer_id),
            UpdateExpression=(
                "SET #t = :t, tenant_id = :tenant, customer_id = :cid,"
                f" created_at = if_not_exists(created_at, :now){name}{pick}{expiry}"
                f" ADD identity_keys :ids{added}"
            ),
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues=to_item({
                ":t": "customer", ":tenant": self.tenant_id, ":cid": customer_id, ":now": iso(now),
                ":name": sealed.get(NAME), ":ticket": candidate_ticket, ":ids": set(refs.values()),
                ":sealed": sealed.get(SEALED_IDENTITIES),
                ":exp": None if expires_at is None else expires_at + CUSTOMER_GRACE,
            }),
            ReturnValues="ALL_NEW",
        )
        return from_item(result["Attributes"])

    def _complete_customer(self, found: dict[str, Any], profile: CustomerProfile, refs: dict[str, str],
                           customer_id: str) -> dict[str, Any]:
        """Seal what the customer item still lacks of this profile: an identity linked by an
        earlier try that failed before its customer write, or one another customer holds
        (listed here too). Rare: an ordinary message finds everything there."""
        have = element_refs(found.get(SEALED_IDENTITIES) or ())
        missing = [i for i in profile.identities if refs[i.key] not in have]
        if not missing and NAME in found:
            return found
        values: dict[str, Any] = {
            ":name": None if NAME in found else self._personal.seal_name(customer_id, profile.display_name),
            ":sealed": {self._personal.seal_identity(customer_id, refs[i.key], i.key) for i in missing} or None,
        }
        clauses = ["" if NAME in found else "SET display_name = if_not_exists(display_name, :name)",
                   "ADD sealed_identities :sealed" if missing else ""]
        result = self._db.update_item(
            TableName=self._table, Key=self.keys.customer(customer_id),
            UpdateExpression=" ".join(filter(None, clauses)), ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
        )
        return from_item(result["Attributes"])

    def remember_provider_message(self, message: Message, *, expires_at: int | None = None) -> None:
        """Map a provider message id to where it landed (its message's key: ticket,
        time, id), for threading later ones and for status callbacks of replies.
        An update, not a put: a parked follow-up's mark on the item must survive."""
        values = {"type": "provider_message", "tenant_id": self.tenant_id, "ticket_id": message.ticket_id,
                  "message_id": message.id, "customer_id": message.customer_id, "expires_at": expires_at,
                  "received_at": iso(message.received_at),
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
        if is_large(doc):  # the stub of a large message names its inbound parts: park that
            raise ValueError("park a large message by its inbound record's stub")
        key = self.keys.waiting(follow_up.channel, awaited_id, follow_up.provider_message_id)
        sealed = seal_document(self._crypto, self.tenant_id, key, "doc", doc)  # holds the message, as IN# does
        item = key | to_item({"type": "waiting", "tenant_id": self.tenant_id, "doc": sealed,
                              "expires_at": expires_at})
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
        parked = [from_item(i) for i in result.get("Items", [])]
        return [InboundMessage.model_validate_json(
            open_document(self._crypto, self.tenant_id, key_of(i), "doc", str(i["doc"]))) for i in parked]

    def unpark(self, awaited_id: str, follow_up: InboundMessage) -> None:
        key = self.keys.waiting(follow_up.channel, awaited_id, follow_up.provider_message_id)
        self._db.delete_item(TableName=self._table, Key=key)

    def ticket_customer(self, ticket_id: str) -> str | None:
        """The customer a ticket belongs to, or ``None`` if there is no such ticket
        (or its customer was erased: nothing may join it any more)."""
        item = self._get(self.keys.ticket(ticket_id))
        return None if item is None or "erased_at" in item else str(item["customer_id"])

    def _known_identities(self, refs: list[str]) -> dict[str, dict[str, Any]]:
        """ref → identity item, for the identities already linked (one call)."""
        keys = {self.keys.identity(ref)["pk"]["S"]: ref for ref in refs}
        request = {self._table: {"Keys": [self.keys.identity(ref) for ref in dict.fromkeys(refs)],
                                 "ConsistentRead": True}}
        found: list[dict[str, Any]] = []
        while request:
            result = self._db.batch_get_item(RequestItems=request)
            found += result.get("Responses", {}).get(self._table, [])
            request = result.get("UnprocessedKeys") or {}
        return {keys[str(item["pk"])]: item for item in map(from_item, found)}

    def _link_identities(self, refs: list[str], customer_id: str, expires_at: int | None) -> None:
        """Identity items hold the customer id only: the key is the blind index, and the
        value itself is on the customer item, sealed under the customer's key."""
        for ref in refs:
            item = self.keys.identity(ref) | to_item(
                {"type": "identity", "tenant_id": self.tenant_id, "customer_id": customer_id,
                 "expires_at": expires_at}
            )
            # an identity already linked keeps its customer (merging comes later)
            self._put_new(item)

    def _extend_identities(self, refs: list[str], customer_id: str, expires_at: int) -> None:
        for ref in refs:
            self._update_if(self.keys.identity(ref), "SET expires_at = :exp", "customer_id = :cid",
                            {":exp": expires_at, ":cid": customer_id})

    def touch_ticket(self, ticket: Ticket, *, expires_at: int | None = None) -> Touched:
        """Create the ticket if new and move its activity forward (never back); returns
        the ticket's subject (its first message's: ``ticket.subject`` only when it is
        new) and the ticket as it was, read from the same call.

        A ticket that is ``closed`` or ``merged`` is not touched (``Touched.refused``
        says which): its message belongs on a follow-up ticket or the merge target.

        ``expires_at`` moves with the activity: a ticket expires a retention
        period after its last message. The customer's link to the ticket is
        written (or pushed out) after the ticket, and marked on it only then.
        """
        self._check_tenant(ticket.tenant_id)
        activity = iso(ticket.last_activity_at)
        shard = shard_of(ticket.id, self._index_shards)
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
                    + (", follow_up_of = if_not_exists(follow_up_of, :fu)" if ticket.follow_up_of else "")
                    + (", expires_at = :exp" if expires_at is not None else "")
                ),
                ConditionExpression="(attribute_not_exists(last_activity_at) OR last_activity_at <= :at)"
                                    " AND (attribute_not_exists(#st) OR NOT #st IN (:closed, :merged))",
                ExpressionAttributeNames={"#t": "type", "#ch": "channel", "#st": "status"},
                ExpressionAttributeValues=to_item({
                    ":t": "ticket", ":tenant": self.tenant_id, ":id": ticket.id, ":cid": ticket.customer_id,
                    ":ch": ticket.channel, ":st": ticket.status, ":at": activity,
                    ":subj": self.fields.seal_subject(ticket.id, ticket.customer_id, ticket.subject),
                    ":g1": self.keys.activity_index(shard), ":gsk": activity_sort_key(activity, ticket.id),
                    ":g2": self.keys.status_index(ticket.status, shard), ":exp": expires_at,
                    ":fu": ticket.follow_up_of, ":closed": "closed", ":merged": "merged",
                }),
                ReturnValues="ALL_OLD", ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as err:
            if not is_condition_failure(err):
                raise
            old = from_item((getattr(err, "response", None) or {}).get("Item") or {})
            refused = old.get("status") if old.get("status") in ("closed", "merged") else None
            # else newer activity is already recorded (and linked)
            return Touched(self._subject_of(old, ticket), old, refused)
        old = from_item(result.get("Attributes") or {})
        self._link_ticket(ticket, old.get("link_expires_at"), expires_at)
        return Touched(self._subject_of(old, ticket), old)

    def _subject_of(self, old: dict[str, Any], ticket: Ticket) -> str:
        """The stored ticket's subject (opened), or the new ticket's when there was none before."""
        if "subject" not in old:
            return ticket.subject
        sealed_for = str(old.get("customer_id") or ticket.customer_id)  # the customer it was sealed under
        return self.fields.open_subject(ticket.id, sealed_for, str(old["subject"]))

    def follow_up_instead(self, customer_id: str, closed_ticket_id: str, follow_up_id: str) -> str:
        """Make ``follow_up_id`` the customer's open ticket in place of a closed (or
        merged) one, unless another message already did: that one is returned."""
        try:
            result = self._db.update_item(
                TableName=self._table, Key=self.keys.customer(customer_id),
                UpdateExpression="SET open_ticket_id = :new",
                ConditionExpression="attribute_not_exists(open_ticket_id) OR open_ticket_id = :closed",
                ExpressionAttributeValues=to_item({":new": follow_up_id, ":closed": closed_ticket_id}),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as err:
            if not is_condition_failure(err):
                raise
            current = from_item((getattr(err, "response", None) or {}).get("Item") or {})
            return str(current.get("open_ticket_id") or follow_up_id)
        return str(from_item(result["Attributes"])["open_ticket_id"])

    def release_open_ticket(self, customer_id: str, ticket_id: str) -> None:
        """The ticket closed (or merged): the customer's next message opens a new one."""
        self._update_if(self.keys.customer(customer_id), "SET closed_ticket_id = :t REMOVE open_ticket_id",
                        "open_ticket_id = :t", {":t": ticket_id})

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

    def add_message(self, message: Message, *, ticket_subject: str | None = None,
                    expires_at: int | None = None, extra: dict[str, Any] | None = None) -> bool:
        """Append a message to its ticket; ``False`` if it is already there.

        ``ticket_subject`` rides on the item for its ``message.created`` event, so
        the stream handler need not read the ticket per message; ``extra`` are
        further attributes of the item (a reply's send bookkeeping).

        A large message is written as its parts (plain puts: a repeat writes the
        same bytes again), then its item, conditionally, so whoever sees the item
        (the stream, a reader) finds the parts."""
        self._check_tenant(message.tenant_id)
        stamp = iso(message.received_at)
        key = self.keys.message(message.ticket_id, stamp, message.id)
        doc = message.model_dump_json()
        ticket = ({} if ticket_subject is None else {"ticket_subject": ticket_subject}) | (extra or {})
        if not is_large(doc):  # text, subject, metadata and file names sealed under the customer's key
            return self._put_new(key | to_item(self.fields.seal_message(
                {"type": "message", **message.model_dump(mode="json"), **ticket, "expires_at": expires_at})))
        packed = pack(doc, self._max_document_bytes, SEALED_PART_BYTES if self._crypto else PART_BYTES)
        for number, chunk in enumerate(packed.parts):
            part = self.keys.message_part(message.ticket_id, stamp, message.id, number) | to_item({
                "type": "message_part", "tenant_id": self.tenant_id, "ticket_id": message.ticket_id,
                "message_id": message.id, "channel": message.channel,
                "provider_message_id": message.provider_message_id, "expires_at": expires_at,
                "blob": self.fields.seal_part(message.customer_id, message.id, number, chunk),
            })
            self._db.put_item(TableName=self._table, Item=part)
        skeleton = message.model_copy(update={"text": "", "metadata": {}, "attachments": ours(message.attachments)})
        return self._put_new(key | to_item(self.fields.seal_message({
            "type": "message", **skeleton.model_dump(mode="json"), **ticket, "parts": len(packed.parts),
            "parts_digest": packed.digest, "expires_at": expires_at,
        })))


class Linked(NamedTuple):
    customer_id: str
    ticket_id: str | None
    follows: str | None = None  # the customer's last closed ticket, when ticket_id is a new one
    state: dict[str, Any] | None = None  # what rules look at of the customer (customer_state)


def customer_state(item: dict[str, Any]) -> dict[str, Any]:
    """What the workflow's rules look at of a customer item, as its update read it back:
    tags, attributes and when it was created — no name or identities (kept on a message
    item, so the rules need not read the customer again)."""
    return {"tags": sorted(item.get("tags") or ()), "attributes": dict(item.get("attributes") or {}),
            "created_at": item["created_at"]}


@dataclass(frozen=True)
class Touched:
    """What touching a ticket found: its subject, the item as it was before (empty for
    a new ticket), and ``refused`` (``closed``/``merged``) when it was not touched."""

    subject: str
    before: dict[str, Any]
    refused: str | None = None


def has_parked_follow_ups(image: dict[str, Any]) -> bool:
    """Whether a stored provider message's map item (a stream image, deserialised)
    carries the mark :meth:`Conversations.park` leaves: follow-ups may wait for it."""
    return image.get("type") == "provider_message" and bool(image.get("parked"))

