"""Filtered ticket lists (the console's inbox views): ``GET /v1/tickets``'s filters,
applied by the store so a reader never sees more than its scope allows.

The plan, cheapest first:

- ``ids``: one ``BatchGetItem`` of those tickets (no index read at all);
- one status (``status``, or a stage that is one status: accept, triage, resolve,
  follow_up): the status index (``gsi2``), one ``Query`` per shard;
- anything else: the activity index (``gsi1``), one ``Query`` per shard.

What the key cannot say is a ``FilterExpression`` (assignee, group, priority,
channel, tag, stage, the reader's scope) or, for SLA states (a list of targets no
expression can look into), a check of each item the query returned. Both read
the items they drop: a page of a rare filter reads up to ``ROUNDS`` rounds of
``limit`` items per shard and may come back short, with a cursor that moves on
(docs/storage.md, "Filtered ticket lists").
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from switchboard_sdk import SlaTarget, Ticket

from .conventions import ACTIVITY_INDEX, STATUS_INDEX
from .items import from_item, to_item
from .keys import TenantKeys
from .message_fields import MessageFields
from .table import TenantTable
from .tickets import ticket_of

ROUNDS = 4  # index rounds per page at most: a rare filter answers a short page and a cursor
STAGE_STATUSES: dict[str, tuple[str, ...]] = {
    "accept": ("new",), "triage": ("open",), "handle": ("open", "pending", "on_hold"),
    "resolve": ("solved",), "follow_up": ("closed",),
}
SlaFilter = Literal["at_risk", "breached"]


@dataclass(frozen=True)
class TicketFilter:
    """What ``GET /v1/tickets`` may ask for (AND of every field set). ``assignee``:
    an agent id, or ``""`` for nobody's; ``groups``: any of these groups."""

    status: str | None = None
    stage: str | None = None
    assignee: str | None = None
    groups: frozenset[str] | None = None
    priority: str | None = None
    channel: str | None = None
    tag: str | None = None
    sla: SlaFilter | None = None
    ids: tuple[str, ...] = ()

    def statuses(self) -> tuple[str, ...] | None:
        """The statuses a matching ticket may have (``None``: any; empty: none can match)."""
        allowed = STAGE_STATUSES[self.stage] if self.stage else None
        if self.status is None:
            return allowed
        return (self.status,) if allowed is None or self.status in allowed else ()

    def index_status(self) -> str | None:
        """The one status whose index (``gsi2``) holds every match, if there is one."""
        statuses = self.statuses()
        return statuses[0] if statuses is not None and len(statuses) == 1 else None

    def expression(self) -> tuple[list[str], dict[str, Any], dict[str, str]]:
        """The filters an index query can apply: conditions (ANDed), values, names."""
        parts: list[str] = []
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        statuses = self.statuses()
        if statuses and len(statuses) > 1:
            names["#st"] = "status"
            keys = [f":fs{n}" for n in range(len(statuses))]
            values |= dict(zip(keys, statuses, strict=True))
            parts.append(f"#st IN ({', '.join(keys)})")
        if self.stage == "triage":
            parts.append("attribute_not_exists(assignee_id)")
        if self.stage == "handle":
            names["#st"], values[":open"] = "status", "open"
            parts.append("(#st <> :open OR attribute_exists(assignee_id))")
        if self.assignee is not None:
            parts.append("attribute_not_exists(assignee_id)" if self.assignee == "" else "assignee_id = :fa")
            values |= {":fa": self.assignee} if self.assignee else {}
        if self.groups is not None:
            keys = [f":fg{n}" for n in range(len(self.groups))]
            values |= dict(zip(keys, sorted(self.groups), strict=True))
            parts.append(f"group_id IN ({', '.join(keys)})")
        if self.priority is not None:  # a ticket never changed from the default has no attribute
            parts.append("(priority = :fp" + (" OR attribute_not_exists(priority))" if self.priority == "normal"
                                              else ")"))
            values[":fp"] = self.priority
        if self.channel is not None:
            names["#ch"], values[":fc"] = "channel", self.channel
            parts.append("#ch = :fc")
        if self.tag is not None:
            parts.append("contains(tags, :ft)")
            values[":ft"] = self.tag
        return parts, values, names

    def matches(self, ticket: Ticket, now: datetime) -> bool:
        """The whole filter on a ticket read by id (and the SLA states, which no expression reads)."""
        statuses = self.statuses()
        checks = (
            statuses is None or ticket.status in statuses,
            self.stage != "triage" or not ticket.assignee_id,
            self.stage != "handle" or ticket.status != "open" or bool(ticket.assignee_id),
            self.assignee is None or (ticket.assignee_id or "") == self.assignee,
            self.groups is None or ticket.group_id in self.groups,
            self.priority is None or ticket.priority == self.priority,
            self.channel is None or ticket.channel == self.channel,
            self.tag is None or self.tag in ticket.tags,
            self.sla is None or sla_state(ticket, now) == self.sla,
        )
        return all(checks)

    def impossible(self) -> bool:
        """Nothing can match (a status outside the stage, no groups to be in)."""
        return self.statuses() == () or self.groups == frozenset()


def sla_state(ticket: Ticket, now: datetime) -> SlaFilter | None:
    """``breached`` if a running target is past due, else ``at_risk`` if one is past its
    warning time, else ``None`` (finished and paused targets do not count)."""
    running = [t for t in ticket.sla if t.done_at is None]
    if any(_breached(t, now) for t in running):
        return "breached"
    if any(t.state == "warning" or (t.warn_at is not None and t.warn_at <= now) for t in running
           if t.state != "paused"):
        return "at_risk"
    return None


def _breached(target: SlaTarget, now: datetime) -> bool:
    return target.state == "breached" or (target.state != "paused" and target.due_at is not None
                                          and target.due_at <= now)


class ReadScope(Protocol):
    """Which tickets the reader sees (:class:`chalicelib.storage.reads.ReadScope`)."""

    def sees(self, ticket: Ticket) -> bool: ...

    def filter(self) -> tuple[str, dict[str, Any]] | None: ...


Filters = tuple[list[str], dict[str, Any], dict[str, str]]  # conditions (ANDed), values, names


@dataclass(frozen=True)
class IndexPage:
    """One shard's answer: the items it kept and how far down it read (``None``: to the end)."""

    items: list[dict[str, Any]]
    read_to: str | None


class TicketLists(TenantTable):
    """One tenant's tickets by filter, newest activity first, as ``scope`` lets its reader see them."""

    def __init__(self, client: Any, table_name: str, keys: TenantKeys, shards: int, scope: ReadScope,
                 fields: MessageFields | None = None) -> None:
        super().__init__(client, table_name, keys)
        self._shards, self._scope = shards, scope
        self._fields = fields or MessageFields(None, keys.tenant_id)  # subjects, sealed under the tenant's key

    def page(self, wanted: TicketFilter, limit: int, before: str | None,
             now: datetime) -> tuple[list[Ticket], str | None]:
        """Up to ``limit`` tickets and the cursor of the next page (``None``: no more)."""
        if wanted.impossible():
            return [], None
        if wanted.ids:
            return self._by_ids(wanted, now), None
        status = wanted.index_status()
        conditions, values, names = wanted.expression()
        scoped = self._scope.filter()
        if scoped is not None:
            conditions, values = [*conditions, f"({scoped[0]})"], values | scoped[1]
        partition = (lambda s: self.keys.status_index(status, s)) if status else self.keys.activity_index
        index = (STATUS_INDEX, "gsi2pk", "gsi2sk") if status else (ACTIVITY_INDEX, "gsi1pk", "gsi1sk")

        def keep(item: dict[str, Any]) -> bool:
            return wanted.sla is None or sla_state(ticket_of(item), now) == wanted.sla

        found: list[dict[str, Any]] = []
        cursor = before
        for _ in range(ROUNDS):
            items, cursor = self._round(index, partition, limit, limit - len(found), cursor,
                                        (conditions, values, names), keep)
            found += items
            if cursor is None or len(found) >= limit:
                break
        return [ticket_of(item) for item in self._fields.open_tickets(found)], cursor

    def _by_ids(self, wanted: TicketFilter, now: datetime) -> list[Ticket]:
        items = self._get_many([self.keys.ticket(ticket_id) for ticket_id in dict.fromkeys(wanted.ids)])
        tickets = [ticket_of(i) for i in self._fields.open_tickets(
            [i for i in items if i.get("type") == "ticket" and "erased_at" not in i])]
        shown = [t for t in tickets if self._scope.sees(t) and wanted.matches(t, now)]
        return sorted(shown, key=lambda t: (t.last_activity_at, t.id), reverse=True)

    def _round(self, index: tuple[str, str, str], partition: Callable[[int], str], read: int, want: int,
               before: str | None, filters: Filters,
               keep: Callable[[dict[str, Any]], bool]) -> tuple[list[dict[str, Any]], str | None]:
        """One query per shard (``read`` items each at most); the ``want`` newest kept, and the next cursor."""
        pages = [self._shard(index, partition(shard), read, before, filters) for shard in range(self._shards)]
        # every shard has read all it holds down to ``floor``: what lies above it is complete
        floor = max((p.read_to for p in pages if p.read_to is not None), default=None)
        merged = heapq.merge(*(p.items for p in pages), key=lambda item: str(item["gsi1sk"]), reverse=True)
        kept = [item for item in merged if (floor is None or str(item["gsi1sk"]) >= floor) and keep(item)]
        if len(kept) > want:
            return kept[:want], str(kept[want - 1]["gsi1sk"])
        return kept, floor

    def _shard(self, index: tuple[str, str, str], partition: str, limit: int, before: str | None,
               filters: Filters) -> IndexPage:
        name, pk, sk = index
        conditions, values, names = filters
        key = f"{pk} = :p" + (f" AND {sk} < :before" if before else "")
        values = values | {":p": partition} | ({":before": before} if before else {})
        extra: dict[str, Any] = {"FilterExpression": " AND ".join(conditions)} if conditions else {}
        extra |= {"ExpressionAttributeNames": names} if names else {}
        result = self._db.query(TableName=self._table, IndexName=name, KeyConditionExpression=key,
                                ExpressionAttributeValues=to_item(values), ScanIndexForward=False, Limit=limit,
                                **extra)
        last = result.get("LastEvaluatedKey")
        return IndexPage([from_item(item) for item in result.get("Items", [])],
                         str(from_item(last)[sk]) if last else None)
