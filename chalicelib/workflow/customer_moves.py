"""The moves a customer merge is made of (:mod:`.customer_merge`), and its record.

Each move is one ``TransactWriteItems``: a chunk of identities or tickets re-pointed
from one customer to the other, each on condition it still points where it did, with
the merge record's sets growing in the same transaction (so the record says exactly
what moved, whenever a run stops), on condition the merge is still in the state the
mover expects (an undo flips it, stopping a merge run at its next chunk).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from switchboard_sdk import Conflict, NotFound

from ..storage.aws import write_together
from ..storage.items import from_item, to_item
from ..storage.keys import CUSTOMER_TICKET, Key, TenantKeys
from ..storage.message_fields import MessageFields
from ..storage.personal import SEALED_IDENTITIES, PersonalFields
from ..storage.sealing import is_sealed
from ..storage.table import TenantTable
from .changes import ChangeActor

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit
MERGED = "MERGED#"  # sort-key prefix of the merge records in a target's partition (keys.customer_merge)
RETRIES = 5
MergeState = Literal["moving", "done", "undoing", "undone"]


class SourceImage(BaseModel):
    """The source customer as it was before the merge (restored by the undo)."""

    model_config = ConfigDict(extra="forbid")
    tags: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)
    open_ticket_id: str | None = None


class CustomerMerge(BaseModel):
    """A merge record: ``identities`` (identity refs as stored, ``kind:<blind index>``; the
    API shows them as ``kind:value``, opened from the customers) and ``tickets`` that
    moved, the tags and attributes the target gained, the source's before-image, and,
    once undone, what went back (``returned_*``) and what no longer could (``left_*``)."""

    model_config = ConfigDict(extra="forbid")
    target_id: str
    source_id: str
    state: MergeState
    actor: ChangeActor
    started_at: str
    finished_at: str | None = None
    undone_by: ChangeActor | None = None
    undone_at: str | None = None
    identities: list[str] = Field(default_factory=list)
    tickets: list[str] = Field(default_factory=list)
    tags_added: list[str] = Field(default_factory=list)
    attributes_added: dict[str, str] = Field(default_factory=dict)
    personal_attributes_added: list[str] = Field(
        default_factory=list, description="The personal attributes the target gained (names; their values "
        "are sealed on the customer, never in the record).")
    # those values as sealed under the target's key on its item: the undo removes one still so
    sealed_attributes_added: SkipJsonSchema[dict[str, str]] = Field(default_factory=dict, exclude=True)
    open_ticket_taken: str | None = None
    source_before: SourceImage
    returned_identities: list[str] = Field(default_factory=list)
    returned_tickets: list[str] = Field(default_factory=list)
    left_identities: list[str] = Field(default_factory=list)
    left_tickets: list[str] = Field(default_factory=list)


def version_condition(version: int) -> tuple[str, dict[str, Any]]:
    """A condition that the item is still at ``version`` (items written before versions: 0)."""
    if version == 0:
        return "(attribute_not_exists(version) OR version = :was)", {":was": 0}
    return "version = :was", {":was": version}


def chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), max(1, size)):
        yield values[start : start + max(1, size)]


class CustomerMoves(TenantTable):
    """Chunked, conditional moves between two customers, and the merge record's reads."""

    def __init__(self, client: Any, table_name: str, keys: TenantKeys, *, personal: PersonalFields,
                 max_items: int = MAX_TRANSACTION_ITEMS) -> None:
        super().__init__(client, table_name, keys)
        self.personal = personal  # identities move sealed: opened under one customer's key, sealed under the other's
        self.fields = MessageFields(personal.crypto, keys.tenant_id)  # and tickets' subjects
        self._identity_chunk = max(1, max_items - 3)  # + the record, the source and the target
        self._ticket_chunk = max(1, (max_items - 2) // 3)  # ticket + two links each; + record, target

    def shift_identities(self, keys: list[str], from_id: str, to_id: str, state: str, moved: str) -> None:
        """Point the identities of ``keys`` (refs) that still point at ``from_id`` at ``to_id`` (an
        expired identity item: only its key moves), recording them in the record's ``moved``
        set in the same transaction; those pointing elsewhere are recorded ``left`` (undo).
        Their sealed values move with them, sealed again under ``to_id``'s key."""
        target_id, source_id = (from_id, to_id) if state == "undoing" else (to_id, from_id)
        for _ in range(RETRIES):
            owner = self._owners(keys)
            shifting = [k for k in keys if owner[k] in (from_id, None)]
            elsewhere = [k for k in keys if owner[k] not in (from_id, None)]
            writes = [self._point(k, from_id, to_id) if owner[k] else self._absent(self.keys.identity(k))
                      for k in shifting]
            writes.append(self._record_add(target_id, source_id, state, {moved: shifting, **self._left(
                state, "left_identities", elsewhere)}))
            stale = [k for k in elsewhere if owner[k] == to_id] if state == "moving" else []
            if not (shifting or stale or self._left(state, "left_identities", elsewhere)):
                return
            if shifting or stale:
                writes += self._identity_sets(from_id, to_id, shifting + stale, state, target_id)
            results = write_together(self._db, writes)
            if all(results):
                return
            self._stopped_unless_raced(results[len(shifting):], target_id, source_id, state)
        raise Conflict("the customer's identities kept changing; try again")

    def _owners(self, refs: list[str]) -> dict[str, Any]:
        """ref → the customer its identity item points at (``None``: no item, e.g. expired)."""
        found = {str(i["pk"]): i for i in self._get_many([self.keys.identity(r) for r in refs])}
        items = {r: found.get(self.keys.identity(r)["pk"]["S"]) for r in refs}
        return {r: None if item is None else item["customer_id"] for r, item in items.items()}

    def _identity_sets(self, from_id: str, to_id: str, keys: list[str], state: str,
                       target_id: str) -> list[dict[str, Any]]:
        """The identity refs leave one customer's set and join the other's, and so do their
        sealed values: the source's elements deleted as they are, the target's sealed again
        under the target's key. Merging: the source is still merged into the target, the
        target stored and not merged on; undoing: the target stored, the source still merged
        into it."""
        merged: tuple[str, dict[str, Any]] = ("merged_into = :t", {":t": target_id})
        mergeable: tuple[str, dict[str, Any]] = ("attribute_exists(pk) AND attribute_not_exists(merged_into)", {})
        stored: tuple[str, dict[str, Any]] = ("attribute_exists(pk)", {})
        conditions = (stored, merged) if state == "undoing" else (merged, mergeable)
        leaving = self._sealed_elements(from_id, keys)
        sealed = (leaving, self.personal.reseal(from_id, to_id, leaving))
        writes = []
        for customer_id, verb, elements, (condition, values) in zip(
                (from_id, to_id), ("DELETE", "ADD"), sealed, conditions, strict=True):
            moves = f"{verb} identity_keys :k" + (f", {SEALED_IDENTITIES} :s" if elements else "")
            writes.append({"Update": {
                "TableName": self._table, "Key": self.keys.customer(customer_id),
                "UpdateExpression": moves, "ConditionExpression": condition,
                "ExpressionAttributeValues": to_item(values | {":k": set(keys), ":s": set(elements) or None})}})
        return writes

    def _sealed_elements(self, customer_id: str, refs: list[str]) -> list[str]:
        """The customer's sealed identity elements for ``refs``, as stored (one consistent read)."""
        item = self._get(self.keys.customer(customer_id)) or {}
        wanted = set(refs)
        return sorted(e for e in item.get(SEALED_IDENTITIES) or () if e.partition(" ")[0] in wanted)

    def shift_tickets(self, ticket_ids: list[str], from_id: str, to_id: str, state: str, moved: str) -> None:
        """Like :meth:`_shift_identities` for tickets: the ticket item's ``customer_id`` (if it
        still points at ``from_id``) and its link, from one customer's partition to the other's."""
        target_id, source_id = (from_id, to_id) if state == "undoing" else (to_id, from_id)
        for _ in range(RETRIES):
            tickets = {str(t["ticket_id"]): t for t in self._get_many([self.keys.ticket(t) for t in ticket_ids])
                       if t.get("type") == "ticket"}
            links = {str(link["ticket_id"]): link for link in self._get_many(
                [self.keys.customer_ticket(from_id, t) for t in ticket_ids])}
            owner = {t: tickets[t]["customer_id"] if t in tickets else None for t in ticket_ids}
            shifting = [t for t in ticket_ids if owner[t] == from_id or (owner[t] is None and t in links)]
            elsewhere = [t for t in ticket_ids if t not in shifting]
            if not (shifting or self._left(state, "left_tickets", elsewhere)):
                return
            writes: list[dict[str, Any]] = []
            for ticket_id in shifting:
                writes += self._ticket_moves(ticket_id, tickets.get(ticket_id), links.get(ticket_id), from_id, to_id)
            writes.append(self._record_add(target_id, source_id, state, {moved: shifting, **self._left(
                state, "left_tickets", elsewhere)}))
            writes.append(self._still_mergeable(target_id, source_id, state))
            results = write_together(self._db, writes)
            if all(results):
                return
            self._stopped_unless_raced(results[-2:], target_id, source_id, state)
        raise Conflict("the customer's tickets kept changing; try again")

    def _ticket_moves(self, ticket_id: str, ticket: dict[str, Any] | None, link: dict[str, Any] | None,
                      from_id: str, to_id: str) -> list[dict[str, Any]]:
        """The ticket re-pointed (if it is still stored) and its link moved."""
        writes: list[dict[str, Any]] = []
        if ticket is not None:
            writes.append(self._point_ticket(ticket_id, ticket, from_id, to_id))
        if link is not None:
            writes.append({"Delete": {"TableName": self._table, "Key": self.keys.customer_ticket(from_id, ticket_id)}})
        until = link.get("expires_at") if link else (ticket or {}).get("link_expires_at") or None
        item = self.keys.customer_ticket(to_id, ticket_id) | to_item({
            "type": "customer_ticket", "tenant_id": self.tenant_id, "customer_id": to_id, "ticket_id": ticket_id,
            "expires_at": until})
        writes.append({"Put": {"TableName": self._table, "Item": item}})
        return writes

    def _point_ticket(self, ticket_id: str, ticket: dict[str, Any], from_id: str, to_id: str) -> dict[str, Any]:
        """The ticket pointed at ``to_id``, its subject sealed again under ``to_id``'s key (on
        condition it is still the one read)."""
        subject = ticket.get("subject")
        if not isinstance(subject, str) or not is_sealed(subject):
            return {"Update": {"TableName": self._table, "Key": self.keys.ticket(ticket_id),
                               "UpdateExpression": "SET customer_id = :to",
                               "ConditionExpression": "customer_id = :from",
                               "ExpressionAttributeValues": to_item({":to": to_id, ":from": from_id})}}
        resealed = self.fields.seal_subject(ticket_id, to_id, self.fields.open_subject(ticket_id, from_id, subject))
        return {"Update": {"TableName": self._table, "Key": self.keys.ticket(ticket_id),
                           "UpdateExpression": "SET customer_id = :to, subject = :subj",
                           "ConditionExpression": "customer_id = :from AND subject = :was",
                           "ExpressionAttributeValues": to_item({":to": to_id, ":from": from_id, ":subj": resealed,
                                                                 ":was": subject})}}

    def _point(self, ref: str, from_id: str, to_id: str) -> dict[str, Any]:
        return {"Update": {"TableName": self._table, "Key": self.keys.identity(ref),
                           "UpdateExpression": "SET customer_id = :to", "ConditionExpression": "customer_id = :from",
                           "ExpressionAttributeValues": to_item({":to": to_id, ":from": from_id})}}

    def _absent(self, key: Key) -> dict[str, Any]:
        return {"ConditionCheck": {"TableName": self._table, "Key": key,
                                   "ConditionExpression": "attribute_not_exists(pk)"}}

    @staticmethod
    def _left(state: str, name: str, values: list[str]) -> dict[str, list[str]]:
        """Undoing: what no longer points at the target is recorded as left behind."""
        return {name: values} if state == "undoing" else {}

    def _record_add(self, target_id: str, source_id: str, state: str, sets: dict[str, list[str]]) -> dict[str, Any]:
        """Grow the record's sets, on condition the merge is still in ``state``."""
        kept = {name: values for name, values in sets.items() if values}
        adds = [f"#n{i} :v{i}" for i in range(len(kept))]
        request: dict[str, Any] = {"TableName": self._table, "Key": self.keys.customer_merge(target_id, source_id)}
        if not adds:
            return {"ConditionCheck": request | {"ConditionExpression": "#s = :state",
                                                 "ExpressionAttributeNames": {"#s": "state"},
                                                 "ExpressionAttributeValues": to_item({":state": state})}}
        values = {f":v{i}": set(v) for i, v in enumerate(kept.values())} | {":state": state}
        names = {f"#n{i}": name for i, name in enumerate(kept)} | {"#s": "state"}
        return {"Update": request | {"UpdateExpression": "ADD " + ", ".join(adds), "ConditionExpression": "#s = :state",
                                     "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values)}}

    def _still_mergeable(self, target_id: str, source_id: str, state: str) -> dict[str, Any]:
        """Moving tickets: the target is stored and not merged on (undoing: the source still merged)."""
        if state == "undoing":
            key, condition, values = self.keys.customer(source_id), "merged_into = :t", {":t": target_id}
        else:
            key, condition, values = (self.keys.customer(target_id),
                                      "attribute_exists(pk) AND attribute_not_exists(merged_into)", {})
        check: dict[str, Any] = {"TableName": self._table, "Key": key, "ConditionExpression": condition}
        return {"ConditionCheck": check | ({"ExpressionAttributeValues": to_item(values)} if values else {})}

    def _stopped_unless_raced(self, guards: list[bool], target_id: str, source_id: str, state: str) -> None:
        """After a failed chunk: :class:`Conflict` when the merge itself changed (its record's
        state, or a customer's) — retrying cannot help; else an item moved meanwhile: retry."""
        if all(guards):
            return
        record = self.existing_record(target_id, source_id)
        if record.state != state:
            raise Conflict(f"this merge is {record.state} meanwhile")
        raise Conflict("the target customer was merged into another or erased meanwhile; undo that first, "
                       "then call merge again to finish")

    # -- reads -----------------------------------------------------------------

    def record(self, target_id: str, source_id: str) -> CustomerMerge | None:
        item = self._get(self.keys.customer_merge(target_id, source_id))
        return None if item is None else record_of(item)

    def existing_record(self, target_id: str, source_id: str) -> CustomerMerge:
        record = self.record(target_id, source_id)
        if record is None:
            raise NotFound(f"{source_id} was never merged into {target_id}")
        return record

    def merges(self, target_id: str) -> list[CustomerMerge]:
        """The merge records in a customer's partition (one consistent Query, paged)."""
        return [record_of(item) for item in self._query(self.keys.customer_partition(target_id), MERGED)]

    def links(self, customer_id: str) -> list[dict[str, Any]]:
        return self._query(self.keys.customer_partition(customer_id), CUSTOMER_TICKET)

    def _query(self, partition: str, prefix: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
            "ExpressionAttributeValues": to_item({":p": partition, ":s": prefix}), "ConsistentRead": True}
        items: list[dict[str, Any]] = []
        while True:
            result = self._db.query(**kwargs)
            items += [from_item(i) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                return items
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    def customer(self, customer_id: str, *, merged_into: str | None = None) -> dict[str, Any]:
        item = self._get(self.keys.customer(customer_id))
        if item is None or item.get("type") != "customer":
            raise NotFound(f"no such customer: {customer_id} (erased?)")
        if merged_into is not None and item.get("merged_into") != merged_into:
            raise Conflict(f"{customer_id} is no longer merged into {merged_into}")
        return item

    def record_item(self, record: CustomerMerge) -> dict[str, Any]:
        return self.keys.customer_merge(record.target_id, record.source_id) | to_item({
            "type": "customer_merge", "tenant_id": self.tenant_id, "target_id": record.target_id,
            "source_id": record.source_id, "state": record.state, "actor": record.actor.model_dump_json(),
            "started_at": record.started_at, "tags_added": record.tags_added,
            "attributes_added": record.attributes_added,
            "sealed_attributes_added": record.sealed_attributes_added, "open_ticket_taken": record.open_ticket_taken,
            "source_before": record.source_before.model_dump_json(),
        })


def record_of(item: dict[str, Any]) -> CustomerMerge:
    """A merge record as read (sets come back as sets: listed sorted)."""
    sets = ("identities", "tickets", "returned_identities", "returned_tickets", "left_identities", "left_tickets")
    return CustomerMerge(
        target_id=item["target_id"], source_id=item["source_id"], state=item["state"],
        actor=ChangeActor.model_validate_json(item["actor"]), started_at=item["started_at"],
        finished_at=item.get("finished_at"), undone_at=item.get("undone_at"),
        undone_by=ChangeActor.model_validate_json(item["undone_by"]) if item.get("undone_by") else None,
        tags_added=list(item.get("tags_added") or ()), attributes_added=dict(item.get("attributes_added") or {}),
        personal_attributes_added=sorted(item.get("sealed_attributes_added") or {}),
        sealed_attributes_added=dict(item.get("sealed_attributes_added") or {}),
        open_ticket_taken=item.get("open_ticket_taken"),
        source_before=SourceImage.model_validate(json.loads(item["source_before"])),
        **{name: sorted(item.get(name) or ()) for name in sets},
    )
