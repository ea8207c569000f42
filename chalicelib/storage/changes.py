"""The tenant's changes feed: which tickets changed, in the order the stream saw them
(``GET /v1/changes``, the console's poll).

The stream handler notes, once per batch and tenant, the tickets whose item or
timeline (messages, replies, survey) the batch changed: one ``UpdateItem`` moves the
tenant's mark on (``seq + 1``, returning the new number), one ``PutItem`` keeps the
entry under that number (its ticket ids; expires after a day). A reader holding
cursor *c* reads the mark (one ``GetItem``): the same number, nothing changed (the
304 path); a larger one, it reads entries *c+1…* in one ``Query`` and the tickets
they name.

Two batches can take numbers and write their entries in either order. A number
whose entry is missing is a gap the reader waits at (its cursor stops before it)
until ``GAP_GRACE`` has passed since a later number was taken: then the batch that
took it failed before its entry, and Lambda redoes that batch, which notes its
tickets again under a new number, so skipping it loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .conventions import iso
from .items import from_item, to_item
from .keys import Key, TenantKeys, tenant_in
from .table import TenantTable

ENTRY_TTL = timedelta(days=1)
GAP_GRACE = timedelta(seconds=30)
ENTRIES_PER_READ = 50
TIMELINE_TYPES = frozenset({"ticket", "message", "survey"})  # items whose change a ticket's view shows
MARK = "MARK"
ENTRY = "E#"
EPOCH = "1970-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class Mark:
    """The tenant's latest number and when it was taken."""

    seq: int
    at: datetime


@dataclass(frozen=True)
class ChangedTickets:
    """What a reader gets after its cursor: ticket ids, oldest change first; ``seq``
    the number it has read through; ``more`` when entries remain beyond it."""

    seq: int
    ticket_ids: list[str]
    more: bool


class ChangeFeed(TenantTable):
    def _partition(self) -> str:
        return f"{self.keys.prefix}CHANGES"

    def _mark(self) -> Key:
        return {"pk": {"S": self._partition()}, "sk": {"S": MARK}}

    def note(self, ticket_ids: Iterable[str], now: datetime) -> int:
        """Record that these tickets changed (one batch's): the number they were given."""
        ids = sorted(set(ticket_ids))
        result = self._db.update_item(
            TableName=self._table, Key=self._mark(), UpdateExpression="ADD seq :one SET #at = :at, #t = :t",
            ExpressionAttributeNames={"#at": "at", "#t": "type"},
            ExpressionAttributeValues=to_item({":one": 1, ":at": iso(now), ":t": "changes_mark"}),
            ReturnValues="UPDATED_NEW",
        )
        seq = int(from_item(result["Attributes"])["seq"])
        item = {"pk": {"S": self._partition()}, "sk": {"S": _entry_key(seq)}} | to_item({
            "type": "changes_entry", "tenant_id": self.tenant_id, "seq": seq, "at": iso(now), "ticket_ids": ids,
            "expires_at": int((now + ENTRY_TTL).timestamp())})
        self._db.put_item(TableName=self._table, Item=item)
        return seq

    def current(self) -> Mark:
        """The latest number taken (0: none yet) and when. One eventually consistent
        ``GetItem``: a number taken in the last second may show on the next poll."""
        result = self._db.get_item(TableName=self._table, Key=self._mark(), ProjectionExpression="seq, #at",
                                   ExpressionAttributeNames={"#at": "at"})
        item = from_item(result["Item"]) if "Item" in result else {}
        return Mark(int(item.get("seq", 0)), datetime.fromisoformat(str(item.get("at", EPOCH))))

    def since(self, cursor: int, mark: Mark, now: datetime, *, max_tickets: int = 100) -> ChangedTickets:
        """Ticket ids noted after ``cursor`` up to ``mark``, at most ``max_tickets`` (an entry is
        never split, but the first is always taken)."""
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p AND sk BETWEEN :from AND :to", ConsistentRead=True,
            ExpressionAttributeValues=to_item({":p": self._partition(), ":from": _entry_key(cursor + 1),
                                               ":to": _entry_key(mark.seq)}),
            Limit=ENTRIES_PER_READ,
        )
        entries = [from_item(item) for item in result.get("Items", [])]
        return _walk(entries, cursor, mark, now, max_tickets, "LastEvaluatedKey" in result)


class ChangeFeeds:
    """The feeds of every tenant (the stream handler notes, the API reads)."""

    def __init__(self, client: Any, table_name: str, clock: Callable[[], datetime]) -> None:
        self._db, self._table, self._clock = client, table_name, clock

    def of(self, tenant_id: str) -> ChangeFeed:
        return ChangeFeed(self._db, self._table, TenantKeys(tenant_id))

    def note_records(self, records: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
        """Note the tickets a stream batch changed (records with their new images), one
        number per tenant; returns how many tenants were noted."""
        changed = changed_tickets(records)
        now = self._clock()
        for tenant_id, ticket_ids in changed.items():
            self.of(tenant_id).note(ticket_ids, now)
        return len(changed)


def changed_tickets(records: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> dict[str, set[str]]:
    """Tenant → ids of the tickets whose item or timeline the records inserted or modified
    (only items that lie in the tenant's own key space count)."""
    changed: dict[str, set[str]] = {}
    for record, image in records:
        if image is None or record.get("eventName") not in ("INSERT", "MODIFY") \
                or image.get("type") not in TIMELINE_TYPES or not image.get("ticket_id"):
            continue
        tenant_id = tenant_in(str(image.get("pk", "")))
        if tenant_id is not None and tenant_id == image.get("tenant_id"):
            changed.setdefault(tenant_id, set()).add(str(image["ticket_id"]))
    return changed


def _walk(entries: list[dict[str, Any]], cursor: int, mark: Mark, now: datetime, max_tickets: int,
          truncated: bool) -> ChangedTickets:
    """Entries in number order; stop at a young gap, or before the entry that would pass ``max_tickets``."""
    ids: dict[str, None] = {}
    seq = cursor
    for entry in entries:
        number, at = int(entry["seq"]), datetime.fromisoformat(str(entry["at"]))
        if number > seq + 1 and now - at < GAP_GRACE:  # a batch between is still writing its entry
            return ChangedTickets(seq, list(ids), False)
        named = [str(t) for t in entry.get("ticket_ids") or ()]
        if ids and len(ids.keys() | set(named)) > max_tickets:
            return ChangedTickets(seq, list(ids), True)
        for ticket_id in named:  # a ticket changed again moves to its latest place
            ids.pop(ticket_id, None)
            ids[ticket_id] = None
        seq = number
    if truncated:
        return ChangedTickets(seq, list(ids), True)
    # numbers after the last entry were taken and their entries not written: wait a little for them
    return ChangedTickets(seq if seq < mark.seq and now - mark.at < GAP_GRACE else mark.seq, list(ids), False)


def _entry_key(seq: int) -> str:
    return f"{ENTRY}{seq:015d}"
