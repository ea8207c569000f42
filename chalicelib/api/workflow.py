"""Agents work tickets: ``PATCH /v1/tickets/{id}``, ``POST /v1/tickets/bulk``,
``POST /v1/tickets/{id}/merge`` and ``GET /v1/tickets/{id}/history``.

Every change goes through :class:`~chalicelib.workflow.service.WorkflowService`:
one transaction with its history entry (who, when, why), conditional on the
ticket's version — give ``version`` to refuse a change to a ticket someone else
changed since you read it (409), or leave it out to apply the change to the
ticket as it is now. An assignee must be an active agent of the tenant and a
group one of its groups (422 otherwise).

A merge marks the source ``merged`` (its later messages land in the target),
then moves its messages; a merge cut short is finished by asking again.
Merging a ticket into itself, into a merged or closed ticket, or a ticket
already merged elsewhere is refused (409).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from switchboard_sdk import Conflict, InvalidInput, SwitchboardError, Ticket, stage_of

from ..agents.directory import AgentStore
from ..storage.merges import TicketMerges
from ..storage.store import TicketStore
from ..workflow.changes import ChangeActor, TicketPatch
from ..workflow.service import Cause, Outcome, WorkflowService
from .access import ADMIN_SCOPES, AGENT_SCOPES, READ_SCOPES, Access, ApiCall, Caller
from .tickets import ticket_view
from .visibility import EVERYONE, Visibility

WRITE_SCOPES = AGENT_SCOPES | ADMIN_SCOPES
MAX_BULK = 100
MAX_REASON = 500


class TicketUpdate(TicketPatch):
    """A PATCH: the fields to change, why, and (optionally) the version they were read at."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: str = Field(default="", max_length=MAX_REASON)
    version: int | None = Field(default=None, ge=0)

    def patch(self) -> TicketPatch:
        return TicketPatch.model_validate(self.model_dump(exclude_unset=True, exclude={"reason", "version"}))


class BulkUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_ids: list[str] = Field(min_length=1, max_length=MAX_BULK)
    update: TicketUpdate


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: str = Field(min_length=1, max_length=64, description="The ticket that keeps the conversation.")
    reason: str = Field(default="", max_length=MAX_REASON)


class TicketWorkflowApi:
    def __init__(self, access: Access, store: TicketStore, workflow: WorkflowService, agents: AgentStore,
                 clock: Callable[[], datetime], visibility: Visibility = EVERYONE) -> None:
        self._visibility = visibility
        self._access = access
        self._store = store
        self._workflow = workflow
        self._agents = agents
        self._clock = clock

    def update_ticket(self, call: ApiCall, ticket_id: str) -> dict[str, Any]:
        caller = self._access.tenant(call, WRITE_SCOPES)
        update = call.json(TicketUpdate)
        outcome = self._update(caller, ticket_id, update)
        return {"ticket": ticket_view(outcome.ticket), "changes": [c.model_dump(mode="json") for c in outcome.changes]}

    def bulk_update(self, call: ApiCall) -> dict[str, Any]:
        """The same change on up to 100 tickets; each succeeds or fails on its own."""
        caller = self._access.tenant(call, WRITE_SCOPES)
        request = call.json(BulkUpdate)
        self._check_people(caller.tenant_id, request.update)
        results: list[dict[str, Any]] = []
        for ticket_id in dict.fromkeys(request.ticket_ids):
            try:
                outcome = self._update(caller, ticket_id, request.update, checked=True)
            except SwitchboardError as err:
                results.append({"id": ticket_id, "result": "error", "error": {"code": err.code, "message": str(err)}})
                continue
            results.append({"id": ticket_id, "result": "updated" if outcome.changed else "unchanged",
                            "version": outcome.ticket.version})
        return {"results": results}

    def merge_ticket(self, call: ApiCall, ticket_id: str) -> dict[str, Any]:
        caller = self._access.tenant(call, WRITE_SCOPES)
        request = call.json(MergeRequest)
        if request.into == ticket_id:
            raise Conflict("a ticket cannot be merged into itself")
        writes = self._store.tickets(caller.tenant_id)
        target = writes.load(request.into)
        self._visibility.check(caller, target)
        if target.status in ("merged", "closed"):
            raise Conflict(f"the target ticket is {target.status}: merge into an open one")
        at = self._clock()
        source = writes.load(ticket_id)
        self._visibility.check(caller, source)
        _mergeable(source, request.into)
        if source.status != "merged":  # (else: a merge cut short, finished now)
            self._workflow.change(caller.tenant_id, ticket_id, TicketPatch(), Cause(
                id=f"merge:{request.into}", actor=actor_of(caller), at=at, reason=request.reason,
                event="merged", detail={"into": request.into}),
                facts=lambda _: {"status": "merged", "merged_into": request.into, "assignee_id": None},
                check=lambda current: _mergeable(current, request.into))
        merges = TicketMerges(self._store.client, self._store.table_name, writes.keys)
        moved, left = merges.move_messages(ticket_id, request.into)
        self._workflow.change(caller.tenant_id, request.into, TicketPatch(), Cause(
            id=f"merged-in:{ticket_id}", actor=actor_of(caller), at=at, reason=request.reason,
            event="merged_in", detail={"from": ticket_id}))
        return {"ticket": ticket_view(writes.load(request.into)), "merged": ticket_id, "moved": moved,
                "complete": not left}

    def history(self, call: ApiCall, ticket_id: str) -> dict[str, Any]:
        """Every change of the ticket, oldest first: time, actor, reason, fields before/after, stages."""
        caller = self._access.tenant(call, READ_SCOPES)
        writes = self._store.tickets(caller.tenant_id)
        self._visibility.check(caller, writes.load(ticket_id))  # 404 for a ticket not there (or not theirs)
        entries = writes.history(ticket_id)
        return {"history": [_entry_view(entry) for entry in entries]}

    # -- helpers -----------------------------------------------------------------

    def _update(self, caller: Caller, ticket_id: str, update: TicketUpdate, *, checked: bool = False) -> Outcome:
        if not checked:
            self._check_people(caller.tenant_id, update)
        patch = update.patch()
        if patch.is_empty():
            raise InvalidInput("nothing to change: name at least one field")
        cause = Cause(id=f"api:{secrets.token_hex(8)}", actor=actor_of(caller), at=self._clock(),
                      reason=update.reason)

        def expected(ticket: Ticket) -> None:
            self._visibility.check(caller, ticket)
            if update.version is not None and ticket.version != update.version:
                raise Conflict(f"the ticket changed since version {update.version} (now {ticket.version}); "
                               "read it again")

        return self._workflow.change(caller.tenant_id, ticket_id, patch, cause, check=expected)

    def _check_people(self, tenant_id: str, update: TicketUpdate) -> None:
        directory = self._agents.of(tenant_id)
        if update.assignee_id:
            agent = directory.agent(update.assignee_id)
            if agent is None or agent.status != "active":
                raise InvalidInput("no such active agent", [{"field": "assignee_id", "message": "not an active agent"}])
        if update.group_id and directory.group(update.group_id) is None:
            raise InvalidInput("no such group", [{"field": "group_id", "message": "not a group of this tenant"}])


def actor_of(caller: Caller) -> ChangeActor:
    if caller.agent is not None:
        return ChangeActor(kind="agent", id=caller.agent.id, name=caller.agent.name)
    return ChangeActor(kind="api_key", id=caller.author_id, name=caller.author_name)


def _mergeable(source: Ticket, into: str) -> None:
    if source.status == "merged" and source.merged_into != into:
        raise Conflict(f"the ticket was already merged into {source.merged_into}")
    if source.status == "closed":
        raise Conflict("a closed ticket cannot be merged")


def _entry_view(entry: dict[str, Any]) -> dict[str, Any]:
    ticket = entry.pop("ticket", None) or {}
    changes = {c.get("field"): c for c in entry.get("changes") or []}
    if "status" in changes or "assignee_id" in changes:  # the stage moves with status and ownership
        was = {name: (changes[name]["before"] if name in changes else ticket.get(name))
               for name in ("status", "assignee_id")}
        before = stage_of(was["status"], was["assignee_id"])  # type: ignore[arg-type]  # a stored status
        after = stage_of(ticket["status"], ticket.get("assignee_id"))
        if before != after:
            entry["stages"] = {"before": before, "after": after}
    return entry
