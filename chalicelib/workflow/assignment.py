"""Automatic assignment: an open ticket nobody holds goes to an online agent of its
group who has room, fairly, and stays correct with many Lambdas assigning at once.

Who: the group's active agents whose availability is ``online`` and whose open
tickets (:mod:`.loads`) are below their ``capacity`` (no group: the tenant's agents).
A returning customer goes back to the agent who took their last ticket, if that
agent is one of them. Otherwise the group's mode decides: ``round_robin`` (the next
agent by id after the one who got the group's last ticket, the cursor
``RR#<group>``) or ``least_loaded`` (fewest open tickets; ties in round-robin
order); ``manual`` groups are left alone.

Correctness does not depend on the reads being fresh. Each assignment is one
:meth:`WorkflowService.change` whose transaction holds the ticket's version
condition (a ticket is never assigned twice: the loser re-reads it, finds it
taken and stops) and the agent's load increment conditional on
``open_tickets < capacity`` (never over capacity: the loser re-reads the load and
tries the next agent). Fairness is best effort under concurrency: two Lambdas
that read the same cursor may both pick the same agent, within that agent's capacity.

The backlog (``BACKLOG#<group>``, most urgent then longest waiting first) is
drained when an agent comes online or frees capacity: the tickets at its head are
shared among ALL the online agents with room in the group's mode, not handed to
whoever triggered the drain. One call assigns at most :data:`DRAIN_LIMIT` tickets.

Calls per :meth:`Assigner.assign` (DynamoDB): 1 GetItem (the ticket; none when the
caller passes it), 1 Query (the tenant's agents; one page up to 1 MB), 1 BatchGetItem
(the group, its cursor, the candidates' loads, the customer; 100 keys a call),
1 TransactWriteItems, 1 UpdateItem (the cursor) — 5, or 4 with the ticket known.
A lost capacity race adds 1 GetItem (the ticket) + 1 GetItem (the load) per agent
tried. :meth:`Assigner.drain_backlog` of n tickets: 1 Query (backlog) + 1 BatchGet
(tickets) + 1 Query (agents) + 1 BatchGet + n TransactWriteItems + 1 UpdateItem per
group whose cursor moved; :meth:`Assigner.agent_available` adds 1 Query per further group.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from switchboard_sdk import NotFound, Ticket

from ..agents.directory import Agent, AgentStore, AssignmentMode, Group
from ..storage.aws import cancellation_codes, error_code
from ..storage.conventions import iso
from ..storage.items import from_item, to_item
from ..storage.keys import Key, TenantKeys
from ..storage.store import TicketStore
from ..storage.table import TenantTable
from ..storage.tickets import PRIORITY_RANK, ticket_of
from .changes import ChangeActor, TicketPatch
from .loads import last_agent_writes, load_writes
from .service import Cause, WorkflowService

DRAIN_LIMIT = 25  # tickets one drain assigns at most: the caller calls again while it returns this many
ASSIGNABLE = frozenset({"new", "open"})
CONFLICT_RETRIES = 4  # a transaction cancelled by another one on the same item (TransactionConflict)
NO_GROUP = "-"
RETRYABLE = frozenset({"TransactionConflictException", "ThrottlingException",
                       "ProvisionedThroughputExceededException"})


class Tried(enum.Enum):
    ASSIGNED = "assigned"
    TAKEN = "taken"  # the ticket no longer waits for an agent (or moved group)
    FULL = "full"  # the agent filled up meanwhile


class _Taken(Exception):
    pass


class _Full(Exception):
    pass


@dataclass
class Pool:
    """A group's candidates as read now: online active members, by id; their loads and the cursor."""

    mode: AssignmentMode
    agents: list[Agent]
    cursor: str | None
    moved: bool = False  # the cursor moved in this call: write it back


@dataclass
class Snapshot:
    pools: dict[str | None, Pool]
    loads: dict[str, int]
    last_agents: dict[str, str] = field(default_factory=dict)  # customer → the agent of their last ticket


class AssignmentTable(TenantTable):
    """The items assignment reads and writes besides the ticket's transaction."""

    @property
    def table_name(self) -> str:
        return self._table

    def backlog(self, group_id: str | None, limit: int) -> list[tuple[str, Key]]:
        """(ticket id, backlog key) at the head of the group's backlog (one Query)."""
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p", ConsistentRead=True, Limit=limit,
            ExpressionAttributeValues=to_item({":p": self.keys.backlog_partition(group_id)}))
        return [(str(from_item(i)["ticket_id"]), {"pk": i["pk"], "sk": i["sk"]}) for i in result.get("Items", [])]

    def drop_orphan(self, key: Key, ticket_id: str) -> None:
        """Delete a backlog entry whose ticket is gone (erased), unless it came back."""
        if self._get(self.keys.ticket(ticket_id)) is None:
            self._db.delete_item(TableName=self._table, Key=key)

    def items(self, keys: list[Key]) -> dict[tuple[str, str], dict[str, Any]]:
        found = self._get_many(list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values()))
        return {(str(i["pk"]), str(i["sk"])): i for i in found}

    def load_of(self, agent_id: str) -> int:
        item = self._get(self.keys.agent_load(agent_id))
        return max(0, int(item.get("open_tickets", 0))) if item else 0

    def move_cursor(self, group_id: str | None, agent_id: str) -> None:
        self._db.update_item(
            TableName=self._table, Key=self.keys.assignment_cursor(group_id or NO_GROUP),
            UpdateExpression="SET last_agent_id = :a, #t = :type, tenant_id = :tenant",
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues=to_item({":a": agent_id, ":type": "assignment_cursor",
                                               ":tenant": self.tenant_id}))


class Assigner:
    def __init__(self, store: TicketStore, agents: AgentStore, service: WorkflowService,
                 clock: Callable[[], datetime], *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._agents = agents
        self._service = service
        self._clock = clock
        self._sleep = sleep

    def table(self, tenant_id: str) -> AssignmentTable:
        return AssignmentTable(self._store.client, self._store.table_name, TenantKeys(tenant_id))

    def assign(self, tenant_id: str, ticket_id: str, *, known: Ticket | None = None) -> str | None:
        """Give an open ticket nobody holds to an agent; the agent's id, or ``None`` when it
        waits in the backlog (nobody online with room, a manual group) or needs no agent."""
        try:
            ticket = known or self._store.tickets(tenant_id).load(ticket_id)
        except NotFound:
            return None
        if not _waiting(ticket):
            return None
        done = self._assign_all(tenant_id, [ticket])
        return done[0][1] if done else None

    def drain_backlog(self, tenant_id: str, group_id: str | None, limit: int = DRAIN_LIMIT) -> list[str]:
        """Assign the most urgent, longest-waiting tickets of the group's backlog (``None``:
        tickets without a group) among its online agents with room; the ids assigned."""
        return self._drain(tenant_id, [group_id], limit)

    def agent_available(self, tenant_id: str, agent_id: str, limit: int = DRAIN_LIMIT) -> list[str]:
        """An agent came online or freed capacity: drain the backlogs of its groups (and of
        tickets without a group), sharing them among all online agents with room."""
        agent = self._agents.of(tenant_id).agent(agent_id)
        if agent is None or agent.status != "active":
            return []
        return self._drain(tenant_id, [*agent.group_ids, None], limit)

    # -- draining ------------------------------------------------------------------

    def _drain(self, tenant_id: str, group_ids: Sequence[str | None], limit: int) -> list[str]:
        table = self.table(tenant_id)
        heads = [entry for group_id in dict.fromkeys(group_ids) for entry in table.backlog(group_id, limit)]
        if not heads:
            return []
        found = table.items([table.keys.ticket(ticket_id) for ticket_id, _ in heads])
        kept = []
        for ticket_id, key in heads:
            item = found.get(_flat(table.keys.ticket(ticket_id)))
            if item is None or "erased_at" in item:
                table.drop_orphan(key, ticket_id)
                continue
            kept.append(item)
        # their subjects, under their customers' keys: loaded with one BatchGetItem on the key table
        tickets = [ticket_of(item) for item in self._store.fields(tenant_id).open_tickets(kept)]
        waiting = sorted((t for t in tickets if _waiting(t)), key=_backlog_order)[:limit]
        return [ticket_id for ticket_id, _ in self._assign_all(tenant_id, waiting)]

    def _assign_all(self, tenant_id: str, tickets: list[Ticket]) -> list[tuple[str, str]]:
        """Assign ``tickets`` in order; (ticket id, agent id) of those assigned."""
        if not tickets:
            return []
        table = self.table(tenant_id)
        snapshot = self._snapshot(table, tickets)
        done = []
        for ticket in tickets:
            pool = snapshot.pools[ticket.group_id]
            if pool.mode == "manual":
                continue
            agent_id = self._place(table, ticket, pool, snapshot)
            if agent_id is not None:
                done.append((ticket.id, agent_id))
        for group_id, pool in snapshot.pools.items():
            if pool.moved and pool.cursor is not None:
                table.move_cursor(group_id, pool.cursor)
        return done

    def _place(self, table: AssignmentTable, ticket: Ticket, pool: Pool, snapshot: Snapshot) -> str | None:
        """Try the ticket's candidates in order until one takes it."""
        preferred = snapshot.last_agents.get(ticket.customer_id)
        for agent, sticky in candidates(pool, snapshot.loads, preferred):
            tried = self._try(table, ticket, agent)
            if tried is Tried.TAKEN:
                return None
            if tried is Tried.FULL:
                snapshot.loads[agent.id] = agent.capacity
                continue
            snapshot.loads[agent.id] += 1
            if not sticky:
                pool.cursor, pool.moved = agent.id, True
            return agent.id
        return None

    # -- one attempt ---------------------------------------------------------------

    def _try(self, table: AssignmentTable, ticket: Ticket, agent: Agent) -> Tried:
        """One assignment of ``ticket`` to ``agent`` (retried while transactions collide)."""
        cause = Cause(id=f"assign:{ticket.id}:{ticket.version}", actor=ChangeActor.system("assignment"),
                      at=self._clock(), reason="assigned automatically", detail={"agent_id": agent.id})
        known: Ticket | None = ticket
        for attempt in range(CONFLICT_RETRIES):
            try:
                outcome = self._service.change(
                    table.tenant_id, ticket.id, TicketPatch(assignee_id=agent.id), cause, known=known,
                    check=_still_waiting(ticket.group_id), extra=_Writes(table, agent))
            except _Taken:
                return Tried.TAKEN
            except _Full:
                return Tried.FULL
            except Exception as err:
                if not _collided(err) or attempt == CONFLICT_RETRIES - 1:
                    raise
                known = None
                self._sleep(random.uniform(0.01, 0.05) * 2**attempt)  # jitter, not secrecy
                continue
            return Tried.ASSIGNED if outcome.changed else Tried.TAKEN
        return Tried.TAKEN  # pragma: no cover (the loop returns or raises)

    # -- reads ---------------------------------------------------------------------

    def _snapshot(self, table: AssignmentTable, tickets: list[Ticket]) -> Snapshot:
        """The pools of the tickets' groups, their members' loads, cursors and the customers'
        last agents: one Query of the agents and one BatchGet."""
        group_ids = list(dict.fromkeys(t.group_id for t in tickets))
        roster = [a for a in self._agents.of(table.tenant_id).agents()
                  if a.status == "active" and a.availability == "online" and a.capacity > 0]
        members = {g: sorted((a for a in roster if g is None or g in a.group_ids), key=lambda a: a.id)
                   for g in group_ids}
        keys = table.keys
        wanted = [keys.group(g) for g in group_ids if g is not None]
        wanted += [keys.assignment_cursor(g or NO_GROUP) for g in group_ids]
        wanted += [keys.agent_load(a.id) for agents in members.values() for a in agents]
        wanted += [keys.customer(c) for c in dict.fromkeys(t.customer_id for t in tickets)]
        found = table.items(wanted) if any(members.values()) else {}
        pools = {g: Pool(mode=_mode(found.get(_flat(keys.group(g))) if g else None), agents=members[g],
                         cursor=_str(found.get(_flat(keys.assignment_cursor(g or NO_GROUP))), "last_agent_id"))
                 for g in group_ids}
        loads = {a.id: _load(found.get(_flat(keys.agent_load(a.id)))) for agents in members.values() for a in agents}
        last = {t.customer_id: _str(found.get(_flat(keys.customer(t.customer_id))), "last_agent_id") for t in tickets}
        return Snapshot(pools, loads, {c: a for c, a in last.items() if a})


class _Writes:
    """The assignment's own writes in the ticket's transaction: the agent's load, up to
    its capacity, and the customer's last agent. Called again when the save was stale
    (the ticket moved, or the capacity condition failed: the save cannot tell which):
    then the load is read, and a full agent ends this attempt."""

    def __init__(self, table: AssignmentTable, agent: Agent) -> None:
        self._table = table
        self._agent = agent
        self._calls = 0

    def __call__(self, before: Ticket, after: Ticket) -> Sequence[dict[str, Any]]:
        self._calls += 1
        if self._calls > 1 and self._table.load_of(self._agent.id) >= self._agent.capacity:
            raise _Full(self._agent.id)
        name, keys = self._table.table_name, self._table.keys
        return [*load_writes(name, keys, before, after, enforce_capacity=True, capacity=self._agent.capacity),
                *last_agent_writes(name, keys, before, after)]


def candidates(pool: Pool, loads: dict[str, int], preferred: str | None) -> Iterable[tuple[Agent, bool]]:
    """The pool's agents with room, in the order to try them: the customer's previous
    agent first (``True``: not the cursor's turn), then by the group's mode."""
    open_ = [a for a in pool.agents if loads.get(a.id, 0) < a.capacity]
    turn = rotation(open_, pool.cursor)
    if pool.mode == "least_loaded":
        turn = sorted(turn, key=lambda a: loads.get(a.id, 0))  # stable: ties keep round-robin order
    sticky = [a for a in open_ if a.id == preferred]
    return [(a, True) for a in sticky] + [(a, False) for a in turn if a.id != preferred]


def rotation(agents: list[Agent], cursor: str | None) -> list[Agent]:
    """Agents (sorted by id) starting with the first after ``cursor``, wrapping around."""
    if cursor is None:
        return list(agents)
    return [a for a in agents if a.id > cursor] + [a for a in agents if a.id <= cursor]


def _still_waiting(group_id: str | None) -> Callable[[Ticket], None]:
    def check(ticket: Ticket) -> None:
        if not _waiting(ticket) or ticket.group_id != group_id:
            raise _Taken(ticket.id)

    return check


def _waiting(ticket: Ticket) -> bool:
    return ticket.status in ASSIGNABLE and not ticket.assignee_id and not ticket.merged_into


def _backlog_order(ticket: Ticket) -> tuple[int, str, str]:
    return PRIORITY_RANK[ticket.priority], iso(ticket.awaiting_since or ticket.created_at), ticket.id


def _collided(err: Exception) -> bool:
    return "TransactionConflict" in cancellation_codes(err) or error_code(err) in RETRYABLE


def _mode(item: dict[str, Any] | None) -> AssignmentMode:
    if item is None:
        return "round_robin"
    return Group.model_validate({k: v for k, v in item.items() if k not in {"pk", "sk", "type"}}).assignment


def _load(item: dict[str, Any] | None) -> int:
    return max(0, int(item.get("open_tickets", 0))) if item else 0


def _str(item: dict[str, Any] | None, name: str) -> str | None:
    value = item.get(name) if item else None
    return str(value) if value else None


def _flat(key: Key) -> tuple[str, str]:
    return key["pk"]["S"], key["sk"]["S"]
