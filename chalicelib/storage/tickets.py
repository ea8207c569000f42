"""Ticket workflow writes: a ticket's fields, its history, its place in the backlog
and its timers, changed together or not at all.

:meth:`TicketWrites.save` is one ``TransactWriteItems``:

- the ticket item's workflow fields, conditional on the ``version`` that was read
  (a concurrent change makes the save ``stale``: read again and redo it);
- the history item (``TKH#<ticket>``, sort key ``<at>#<cause>``), conditional on
  being new: a cause — a message, a timer, an API request — changes a ticket at
  most once, so a redelivered stream record or job is ``duplicate`` and changes nothing;
- the backlog item (``BACKLOG#<group>``, sorted by priority then waiting time) put
  or deleted as the ticket enters or leaves "open and nobody's";
- one due-index item per new timer (``DUE#<hour>#<shard>``, sorted by due time), for the scheduler;
- whatever else the caller must write in the same breath (``extra``: an agent's
  load with its capacity condition).

The stream's ``touch_ticket`` writes other attributes of the same item (activity,
expiry) without a version: the two never overwrite each other's fields.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard_sdk import NotFound, Ticket

from .aws import write_together
from .conventions import iso
from .items import from_item, to_item
from .keys import TenantKeys, due_partition, due_sort_key, shard_of
from .message_fields import MessageFields
from .sealing import Sealer
from .table import TenantTable

# the ticket item's attributes this module owns (besides ``version`` and ``updated_at``)
WORKFLOW_ATTRIBUTES = ("status", "priority", "tags", "category", "language", "assignee_id", "group_id",
                       "merged_into", "follow_up_of", "solved_at", "first_response_at", "awaiting_since",
                       "sla_policy_id", "updated_at", "sla")
BACKLOG_STATUSES = frozenset({"new", "open"})
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
DUE_SHARDS = 4
TIMER_GRACE = timedelta(days=7)  # a fired or stale timer item is removed by TTL this long after it was due


class Saved(enum.Enum):
    SAVED = "saved"
    STALE = "stale"  # the ticket changed since it was read
    DUPLICATE = "duplicate"  # this cause was already recorded


@dataclass(frozen=True)
class Timer:
    """Something to look at when ``at`` comes: ``name`` says what (``sla:<metric>:warn``,
    ``sla:<metric>:due``, ``close``, ``rule:<id>``)."""

    name: str
    at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """A transition as the history keeps it (``doc``: the entry's JSON fields)."""

    at: str
    cause: str
    doc: dict[str, Any]


class TicketWrites(TenantTable):
    def __init__(self, client: Any, table_name: str, keys: TenantKeys, *, index_shards: int = 4,
                 crypto: Sealer | None = None) -> None:
        super().__init__(client, table_name, keys)
        self._index_shards = index_shards
        self.fields = MessageFields(crypto, keys.tenant_id)  # the subject, sealed under the customer's key

    def load(self, ticket_id: str) -> Ticket:
        """The ticket as stored now (consistent); :class:`NotFound` if there is none."""
        item = self._get(self.keys.ticket(ticket_id))
        if item is None or "erased_at" in item:
            raise NotFound("no such ticket")
        return ticket_of(self.fields.open_ticket(item))

    def save(self, before: Ticket, after: Ticket, entry: HistoryEntry, *, timers: Iterable[Timer] = (),
             extra: Sequence[dict[str, Any]] = (), expires_at: int | None = None,
             now: datetime | None = None) -> Saved:
        """Write ``after`` over ``before`` with its history entry, backlog place and timers
        (a timer already due is placed at ``now``: the scheduler looks there next)."""
        self._check_tenant(after.tenant_id)
        writes = [self._ticket_update(before, after), self._history_put(after.id, entry, expires_at)]
        writes += self._backlog_writes(before, after)
        writes += [self._timer_put(after, timer, now) for timer in timers]
        writes += list(extra)
        held = write_together(self._db, writes)
        if all(held):
            return Saved.SAVED
        return Saved.DUPLICATE if not held[1] else Saved.STALE

    def record(self, ticket_id: str, entry: HistoryEntry, *, expires_at: int | None = None) -> bool:
        """A history entry that changes nothing on the ticket (an SLA event, a survey sent);
        ``False`` if its cause was already recorded."""
        return self._put_if(self._history_put(ticket_id, entry, expires_at)["Put"]["Item"],
                            "attribute_not_exists(pk)", {})

    def add_timer(self, ticket: Ticket, timer: Timer, now: datetime) -> None:
        """One more timer for ``ticket`` outside a change (a survey to send): a plain put,
        the same item again on a repeat."""
        self._db.put_item(**self._timer_put(ticket, timer, now)["Put"])

    def history(self, ticket_id: str, *, limit: int = 500) -> list[dict[str, Any]]:
        """The ticket's history in the order it happened (by version: clocks of different
        functions may disagree by a little), one Query, at most ``limit`` entries."""
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p", ConsistentRead=True, Limit=limit,
            ExpressionAttributeValues=to_item({":p": self.keys.ticket_history_partition(ticket_id)}),
        )
        entries = [_entry_doc(self.fields.open_item(from_item(item))) for item in result.get("Items", [])]
        return sorted(entries, key=lambda entry: (int(entry.get("version", 0)), str(entry.get("at", ""))))

    def backlog(self, group_id: str | None, *, limit: int = 25) -> list[str]:
        """Ticket ids waiting for an agent in ``group_id``'s backlog, most urgent and longest waiting first."""
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p", ConsistentRead=True, Limit=limit,
            ExpressionAttributeValues=to_item({":p": self.keys.backlog_partition(group_id)}),
        )
        return [str(from_item(item)["ticket_id"]) for item in result.get("Items", [])]

    # -- the pieces of a save -------------------------------------------------------

    def _ticket_update(self, before: Ticket, after: Ticket) -> dict[str, Any]:
        """Only the fields that changed are written (the version guards them), so
        attributes the stream writes on its own (``follow_up_of``) are never undone."""
        was, now = _workflow_values(before), _workflow_values(after)
        changed = [name for name in WORKFLOW_ATTRIBUTES if now[name] != was[name]]
        names = {f"#w{n}": name for n, name in enumerate(changed)}
        sets = [f"#w{n} = :w{n}" for n, name in enumerate(changed) if now[name] is not None]
        removes = [f"#w{n}" for n, name in enumerate(changed) if now[name] is None]
        values: dict[str, Any] = {f":w{n}": now[name] for n, name in enumerate(changed) if now[name] is not None}
        values |= {":next": before.version + 1, ":was": before.version,
                   ":g2": self.keys.status_index(after.status, shard_of(after.id, self._index_shards))}
        update = "SET " + ", ".join([*sets, "version = :next", "gsi2pk = :g2"]) + (
            " REMOVE " + ", ".join(removes) if removes else "")
        condition = "attribute_exists(pk) AND " + (
            "(attribute_not_exists(version) OR version = :was)" if before.version == 0 else "version = :was")
        return {"Update": {"TableName": self._table, "Key": self.keys.ticket(after.id), "UpdateExpression": update,
                           "ConditionExpression": condition, "ExpressionAttributeValues": to_item(values)}
                | ({"ExpressionAttributeNames": names} if names else {})}

    def _history_put(self, ticket_id: str, entry: HistoryEntry, expires_at: int | None) -> dict[str, Any]:
        doc = entry.doc  # the ticket it keeps: its subject sealed, as on the ticket item
        if isinstance(doc.get("ticket"), dict):
            doc = doc | {"ticket": self.fields.seal_ticket(doc["ticket"])}
        item = self.keys.ticket_history(ticket_id, entry.at, entry.cause) | to_item(
            {"type": "ticket_history", "tenant_id": self.tenant_id, "ticket_id": ticket_id, **doc,
             "expires_at": expires_at})
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def _backlog_writes(self, before: Ticket, after: Ticket) -> list[dict[str, Any]]:
        # a ticket's first save: nothing put it in the backlog yet (the stream creates tickets bare)
        was = _backlog_place(before) if before.version > 0 else None
        now = _backlog_place(after)
        if was == now:
            return []
        writes: list[dict[str, Any]] = []
        if was is not None:
            writes.append({"Delete": {"TableName": self._table, "Key": self.keys.backlog(*was)}})
        if now is not None:
            item = self.keys.backlog(*now) | to_item({
                "type": "backlog", "tenant_id": self.tenant_id, "ticket_id": after.id,
                "priority": after.priority, "group_id": after.group_id})
            writes.append({"Put": {"TableName": self._table, "Item": item}})
        return writes

    def _timer_put(self, ticket: Ticket, timer: Timer, now: datetime | None) -> dict[str, Any]:
        at = timer.at.astimezone(UTC)
        fire = at if now is None else max(at, now.astimezone(UTC))  # its place in the due index
        key = {"pk": {"S": due_partition(fire.strftime("%Y-%m-%dT%H"), shard_of(ticket.id, DUE_SHARDS))},
               "sk": {"S": due_sort_key(iso(fire), self.tenant_id, ticket.id, timer.name)}}
        item = key | to_item({"type": "timer", "tenant_id": self.tenant_id, "ticket_id": ticket.id,
                              "timer": timer.name, "due_at": iso(at), "fire_at": iso(fire),
                              "expires_at": int((fire + TIMER_GRACE).timestamp())})
        return {"Put": {"TableName": self._table, "Item": item}}


def _backlog_place(ticket: Ticket) -> tuple[str | None, int, str, str] | None:
    """Where the ticket waits in the backlog, or ``None`` when it is not waiting for an agent."""
    if ticket.status not in BACKLOG_STATUSES or ticket.assignee_id or ticket.merged_into:
        return None
    waiting = iso(ticket.awaiting_since or ticket.created_at)
    return ticket.group_id, PRIORITY_RANK[ticket.priority], waiting, ticket.id


def _workflow_values(ticket: Ticket) -> dict[str, Any]:
    dumped = ticket.model_dump(mode="json", include=set(WORKFLOW_ATTRIBUTES))
    dumped["tags"] = dumped["tags"] or None  # an empty list is stored as no attribute
    dumped["sla"] = dumped["sla"] or None
    return {name: dumped[name] for name in WORKFLOW_ATTRIBUTES}


def ticket_of(item: dict[str, Any]) -> Ticket:
    """A ticket item (deserialised) as the SDK's :class:`Ticket`."""
    fields = set(Ticket.model_fields)
    return Ticket.model_validate({k: v for k, v in item.items() if k in fields} | {"id": item["ticket_id"]})


def _entry_doc(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in {"pk", "sk", "type", "tenant_id", "expires_at"}}
