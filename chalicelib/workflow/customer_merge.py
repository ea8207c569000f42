"""Merging one customer into another, and undoing it, in chunks that survive a crash.

A merge of S (source) into T (target) moves S's identities (each identity item's
``customer_id``, and the value sealed on S's item, sealed again under T's key: an erasure
of T shreds it with T) and S's tickets (the ticket item's ``customer_id`` and its subject,
sealed again under T's key, and its link from S's partition to T's) over to T, unions S's
tags and attributes into T's (T wins on a conflict), gives T S's open ticket when T has
none, and marks S ``merged_into = T``.
A merge record (``keys.customer_merge(T, S)``, in T's partition) says what moved.

Steps, each one ``TransactWriteItems`` (at most :data:`MAX_TRANSACTION_ITEMS` items):

1. start: the record (state ``moving``, S's tags, attributes and open ticket as they
   were), S marked merged (its open ticket cleared), T's tags and attributes unioned —
   all conditional on both customers' ``version`` and neither being merged;
2. chunks of identities, then of tickets: each moved item is conditional on still
   pointing at S, and the record's moved sets grow in the same transaction, so the
   record lists exactly what moved, whenever a run stops;
3. done: the record's state becomes ``done``.

Calling :meth:`CustomerMerges.merge` again after a failure carries on from what still
belongs to S; after ``done`` it changes nothing. :meth:`CustomerMerges.unmerge` flips
the record to ``undoing`` (a merge run still moving stops at its next chunk), moves back
what the record lists and still points at T, restores S as it was, and ends ``undone``.
What no longer points at T (T was merged on, a ticket expired) is listed as ``left``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from switchboard_sdk import Conflict, InvalidInput

from ..storage.aws import write_together
from ..storage.conventions import iso
from ..storage.items import to_item
from ..storage.keys import TenantKeys
from ..storage.personal import SEALED_ATTRIBUTES, PersonalFields
from .changes import MAX_TAGS, ChangeActor
from .customer_moves import (
    MAX_TRANSACTION_ITEMS,
    RETRIES,
    CustomerMerge,
    CustomerMoves,
    SourceImage,
    chunks,
    version_condition,
)

MAX_ATTRIBUTES = 50
__all__ = ["MAX_TRANSACTION_ITEMS", "CustomerMerge", "CustomerMerges", "version_condition"]


class CustomerMerges(CustomerMoves):
    def __init__(self, client: Any, table_name: str, keys: TenantKeys, *, clock: Callable[[], datetime],
                 personal: PersonalFields, max_items: int = MAX_TRANSACTION_ITEMS) -> None:
        super().__init__(client, table_name, keys, personal=personal, max_items=max_items)
        self._clock = clock

    # -- merge -----------------------------------------------------------------

    def merge(self, target_id: str, source_id: str, actor: ChangeActor, *,
              audit: dict[str, Any] | None = None) -> CustomerMerge:
        """Merge ``source_id`` into ``target_id``, or carry on with a merge that stopped.
        :class:`InvalidInput` for a customer into itself; :class:`NotFound` when either is
        not stored (erased); :class:`Conflict` when either is merged (elsewhere), the source
        is still taking in a merge of its own, an undo is under way, or the union of tags or
        attributes would pass the limits."""
        if target_id == source_id:
            raise InvalidInput("a customer cannot be merged into itself",
                               [{"field": "source_id", "message": "is the customer itself"}])
        record = self._start(target_id, source_id, actor, audit)
        if record.state == "done":
            return record
        self._move_identities(target_id, source_id)
        self._move_tickets(target_id, source_id, record.source_before.open_ticket_id)
        return self._finish(target_id, source_id)

    def _start(self, target_id: str, source_id: str, actor: ChangeActor,
               audit: dict[str, Any] | None) -> CustomerMerge:
        for _ in range(RETRIES):
            record = self.record(target_id, source_id)
            if record is not None and record.state in ("moving", "done"):
                return record
            if record is not None and record.state == "undoing":
                raise Conflict("this merge is being undone; call unmerge again to finish that first")
            target, source = self.customer(target_id), self.customer(source_id)
            _mergeable(target, source)
            self._nothing_under_way(source_id)
            new, writes = self._start_writes(target, source, actor)
            if all(write_together(self._db, writes + ([audit] if audit else []))):
                return new
        raise Conflict("the customers kept changing; try again")

    def _start_writes(self, target: dict[str, Any], source: dict[str, Any],
                      actor: ChangeActor) -> tuple[CustomerMerge, list[dict[str, Any]]]:
        target_tags, source_tags = list(target.get("tags") or ()), list(source.get("tags") or ())
        target_attrs, source_attrs = dict(target.get("attributes") or {}), dict(source.get("attributes") or {})
        target_sealed = dict(target.get(SEALED_ATTRIBUTES) or {})
        taken_names = set(target_attrs) | set(target_sealed)
        tags_added = [t for t in source_tags if t not in target_tags]
        attrs_added = {k: v for k, v in source_attrs.items() if k not in taken_names}
        # the source's personal attributes the target lacks, sealed again under the target's key
        # (the source keeps its own)
        moving = {k: v for k, v in (source.get(SEALED_ATTRIBUTES) or {}).items()
                  if k not in taken_names and k not in attrs_added}
        sealed_added = self.personal.reseal_attributes(str(source["customer_id"]), str(target["customer_id"]), moving)
        if len(target_tags) + len(tags_added) > MAX_TAGS \
                or len(taken_names) + len(attrs_added) + len(sealed_added) > MAX_ATTRIBUTES:
            raise Conflict(f"together the customers have more than {MAX_TAGS} tags or {MAX_ATTRIBUTES} "
                           "attributes; remove some first")
        source_open = source.get("open_ticket_id")
        taken = source_open if source_open and not target.get("open_ticket_id") else None
        now = iso(self._clock())
        record = CustomerMerge(
            target_id=target["customer_id"], source_id=source["customer_id"], state="moving", actor=actor,
            started_at=now, tags_added=tags_added, attributes_added=attrs_added, open_ticket_taken=taken,
            personal_attributes_added=sorted(sealed_added), sealed_attributes_added=sealed_added,
            source_before=SourceImage(tags=source_tags, attributes=source_attrs, open_ticket_id=source_open),
        )
        put = {"Put": {"TableName": self._table, "Item": self.record_item(record),
                       "ConditionExpression": "attribute_not_exists(pk) OR #s = :undone",
                       "ExpressionAttributeNames": {"#s": "state"},
                       "ExpressionAttributeValues": to_item({":undone": "undone"})}}
        mark = self._customer_update(source, "SET merged_into = :t, version = :next, updated_at = :now"
                                     " REMOVE open_ticket_id", {":t": record.target_id, ":now": now})
        union = self._customer_update(
            target, f"SET tags = :tags, #a = :attrs, {SEALED_ATTRIBUTES} = :sealed, version = :next, updated_at = :now"
            + (", open_ticket_id = if_not_exists(open_ticket_id, :open)" if taken else ""),
            {":tags": target_tags + tags_added, ":attrs": attrs_added | target_attrs,
             ":sealed": sealed_added | target_sealed, ":now": now, ":open": taken},
            names={"#a": "attributes"})
        return record, [put, mark, union]

    def _customer_update(self, item: dict[str, Any], update: str, values: dict[str, Any], *,
                         names: dict[str, str] | None = None) -> dict[str, Any]:
        """An Update of a customer that still is as read: stored, not merged, same version."""
        version = int(item.get("version") or 0)
        condition, was = version_condition(version)
        request = {"TableName": self._table, "Key": self.keys.customer(str(item["customer_id"])),
                   "UpdateExpression": update,
                   "ConditionExpression": f"attribute_exists(pk) AND attribute_not_exists(merged_into) AND {condition}",
                   "ExpressionAttributeValues": to_item(values | was | {":next": version + 1})}
        return {"Update": request | ({"ExpressionAttributeNames": names} if names else {})}

    def _nothing_under_way(self, customer_id: str) -> None:
        """A customer still taking in (or giving back) a merge cannot itself be merged away."""
        for record in self.merges(customer_id):
            if record.state in ("moving", "undoing"):
                raise Conflict(f"{record.source_id} is still being merged into (or out of) this customer; "
                               "finish that first")

    def _move_identities(self, target_id: str, source_id: str) -> None:
        source = self.customer(source_id, merged_into=target_id)
        for chunk in chunks(sorted(source.get("identity_keys") or ()), self._identity_chunk):
            self.shift_identities(chunk, source_id, target_id, "moving", "identities")

    def _move_tickets(self, target_id: str, source_id: str, open_ticket: str | None) -> None:
        ids = [str(link["ticket_id"]) for link in self.links(source_id)]
        ids += [open_ticket] if open_ticket and open_ticket not in ids else []
        for chunk in chunks(ids, self._ticket_chunk):
            self.shift_tickets(chunk, source_id, target_id, "moving", "tickets")

    def _finish(self, target_id: str, source_id: str) -> CustomerMerge:
        self._update_if(self.keys.customer_merge(target_id, source_id), "SET #s = :done, finished_at = :now",
                        "#s = :moving", {":done": "done", ":now": iso(self._clock()), ":moving": "moving"},
                        names={"#s": "state"})
        record = self.existing_record(target_id, source_id)
        if record.state != "done":
            raise Conflict("this merge is being undone meanwhile")
        return record

    # -- undo ------------------------------------------------------------------

    def unmerge(self, target_id: str, source_id: str, actor: ChangeActor, *,
                audit: dict[str, Any] | None = None) -> CustomerMerge:
        """Undo the merge of ``source_id`` into ``target_id`` (done, or stopped half-way);
        calling again finishes an undo that stopped, and after it changes nothing."""
        record = self.existing_record(target_id, source_id)
        if record.state == "undone":
            return record
        if record.state != "undoing":
            begin = {"Update": {
                "TableName": self._table, "Key": self.keys.customer_merge(target_id, source_id),
                "UpdateExpression": "SET #s = :undoing, undone_by = :actor",
                "ConditionExpression": "#s IN (:moving, :done)", "ExpressionAttributeNames": {"#s": "state"},
                "ExpressionAttributeValues": to_item({":undoing": "undoing", ":moving": "moving", ":done": "done",
                                                      ":actor": actor.model_dump_json()})}}
            if not all(write_together(self._db, [begin] + ([audit] if audit else []))):
                return self.unmerge(target_id, source_id, actor)  # raced another undo: carry on with it
            record = self.existing_record(target_id, source_id)
        self.customer(target_id)  # an erased target: nothing to give back from
        self.customer(source_id)
        gone = set(record.returned_identities) | set(record.left_identities)
        for chunk in chunks([i for i in record.identities if i not in gone], self._identity_chunk):
            self.shift_identities(chunk, target_id, source_id, "undoing", "returned_identities")
        gone = set(record.returned_tickets) | set(record.left_tickets)
        for chunk in chunks([t for t in record.tickets if t not in gone], self._ticket_chunk):
            self.shift_tickets(chunk, target_id, source_id, "undoing", "returned_tickets")
        return self._restore(target_id, source_id)

    def _restore(self, target_id: str, source_id: str) -> CustomerMerge:
        """The source as it was, the target without what it gained, the record ``undone``."""
        for _ in range(RETRIES):
            record = self.existing_record(target_id, source_id)
            if record.state == "undone":
                return record
            target = self.customer(target_id)
            if all(write_together(self._db, self._restore_writes(record, target))):
                return self.existing_record(target_id, source_id)
        raise Conflict("the customers kept changing; call unmerge again")

    def _restore_writes(self, record: CustomerMerge, target: dict[str, Any]) -> list[dict[str, Any]]:
        now, before = iso(self._clock()), record.source_before
        tags = [t for t in target.get("tags") or () if t not in record.tags_added]
        attrs = {k: v for k, v in (target.get("attributes") or {}).items() if record.attributes_added.get(k) != v}
        # a personal attribute the target gained goes unless changed since (a change seals it anew)
        sealed = {k: v for k, v in (target.get(SEALED_ATTRIBUTES) or {}).items()
                  if record.sealed_attributes_added.get(k) != v}
        seen_open = target.get("open_ticket_id")
        # the source's open ticket is the source's again unless it could not go back (moved on)
        drop_open = bool(record.open_ticket_taken) and seen_open == record.open_ticket_taken \
            and record.open_ticket_taken not in record.left_tickets
        version = int(target.get("version") or 0)
        condition, was = version_condition(version)
        condition += " AND " + ("open_ticket_id = :seen" if seen_open else "attribute_not_exists(open_ticket_id)")
        target_write = {"Update": {
            "TableName": self._table, "Key": self.keys.customer(record.target_id),
            "UpdateExpression": f"SET tags = :tags, #a = :attrs, {SEALED_ATTRIBUTES} = :sealed, version = :next, "
            "updated_at = :now" + (" REMOVE open_ticket_id" if drop_open else ""),
            "ConditionExpression": f"attribute_exists(pk) AND {condition}",
            "ExpressionAttributeNames": {"#a": "attributes"},
            "ExpressionAttributeValues": to_item(was | {":tags": tags, ":attrs": attrs, ":sealed": sealed,
                                                        ":next": version + 1, ":now": now, ":seen": seen_open})}}
        reopen = before.open_ticket_id if before.open_ticket_id not in record.left_tickets else None
        source_write = {"Update": {
            "TableName": self._table, "Key": self.keys.customer(record.source_id),
            "UpdateExpression": "SET tags = :tags, #a = :attrs, version = version + :one, updated_at = :now"
            + (", open_ticket_id = if_not_exists(open_ticket_id, :open)" if reopen else "") + " REMOVE merged_into",
            "ConditionExpression": "merged_into = :t", "ExpressionAttributeNames": {"#a": "attributes"},
            "ExpressionAttributeValues": to_item({":tags": before.tags, ":attrs": before.attributes, ":one": 1,
                                                  ":now": now, ":open": reopen, ":t": record.target_id})}}
        done = {"Update": {
            "TableName": self._table, "Key": self.keys.customer_merge(record.target_id, record.source_id),
            "UpdateExpression": "SET #s = :undone, undone_at = :now", "ConditionExpression": "#s = :undoing",
            "ExpressionAttributeNames": {"#s": "state"},
            "ExpressionAttributeValues": to_item({":undone": "undone", ":now": now, ":undoing": "undoing"})}}
        return [target_write, source_write, done]


def _mergeable(target: dict[str, Any], source: dict[str, Any]) -> None:
    if target.get("merged_into"):
        raise Conflict(f"{target['customer_id']} was merged into {target['merged_into']}; merge into that one")
    if source.get("merged_into"):
        raise Conflict(f"{source['customer_id']} was merged into {source['merged_into']} already")


