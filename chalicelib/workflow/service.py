"""Changing a ticket: the one way every actor — an agent's PATCH, a rule, assignment,
an SLA timer, a customer's message — moves a ticket through its workflow.

:meth:`WorkflowService.change` reads the ticket, applies the patch and the facts
that follow from it (``solved_at``; SLA targets planned again; timers for what
is now due), and saves it with its history entry in one transaction
(:class:`~chalicelib.storage.tickets.TicketWrites`). A concurrent change makes the
save stale: it is read and redone, up to :data:`ATTEMPTS` times. A cause already
recorded (a redelivered stream record, a timer fired twice) changes nothing.

What a change means for the rest of the system — events to connectors,
``ticket.updated`` rules — follows from its history entry, behind the stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from switchboard_sdk import Conflict, SlaTarget, Ticket, Unavailable

from ..storage.conventions import iso
from ..storage.store import TicketStore
from ..storage.tickets import HistoryEntry, Saved, Timer
from ..tenancy.workflow_settings import WorkflowSettings
from .changes import WORKFLOW_FIELDS, ChangeActor, FieldChange, TicketPatch, Transition, apply_patch
from .loads import accounting_writes

ATTEMPTS = 8
# SLA targets of a ticket after a change: (tenant, ticket after, ticket before, now) → targets
PlanSla = Callable[[str, Ticket, Ticket, datetime], list[SlaTarget]]
Facts = Callable[[Ticket], dict[str, Any]]  # system fields that follow from the cause (awaiting_since, …)
Extra = Callable[[Ticket, Ticket], Sequence[dict[str, Any]]]  # more writes for the same transaction
TimeRule = tuple[str, str, float]  # a ``time`` rule: (id, what its hours count from, hours)
TimeRules = Callable[[str], list[TimeRule]]  # tenant → its enabled time rules


@dataclass(frozen=True)
class Outcome:
    ticket: Ticket
    saved: Saved | None  # None: nothing to change
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.saved is Saved.SAVED


@dataclass(frozen=True)
class Cause:
    """Why a ticket changes: ``id`` is unique per cause (a message id, a timer and its
    due time, an API request), so the same cause never changes a ticket twice."""

    id: str
    actor: ChangeActor
    at: datetime
    reason: str = ""
    event: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class WorkflowService:
    def __init__(self, store: TicketStore, settings_of: Callable[[str], WorkflowSettings],
                 plan_sla: PlanSla | None = None, time_rules: TimeRules | None = None) -> None:
        self._store = store
        self._settings_of = settings_of
        self._plan_sla = plan_sla
        self._time_rules = time_rules

    def change(self, tenant_id: str, ticket_id: str, patch: TicketPatch, cause: Cause, *,
               facts: Facts | None = None, extra: Extra | None = None,
               check: Callable[[Ticket], None] | None = None, known: Ticket | None = None) -> Outcome:
        """Apply ``patch`` (and ``facts``) to the ticket for ``cause``; ``check`` may refuse
        the change given the ticket as read (raise). Retries while the ticket moves.
        ``known``: the ticket as the caller last saw it (a stream image): tried first
        without reading; if it is out of date the save is stale and the ticket is read."""
        writes = self._store.tickets(tenant_id)
        for attempt in range(ATTEMPTS):
            before = known if attempt == 0 and known is not None else writes.load(ticket_id)
            if check is not None:
                check(before)
            after, changes = self.plan(tenant_id, before, patch, cause, facts)
            if after == before and cause.event is None:
                return Outcome(before, None)
            after = after.model_copy(update={"updated_at": cause.at})
            entry = history_entry(before, after, changes, cause)
            timers = self.timers(tenant_id, after, before, cause.at)
            own = list(extra(before, after)) if extra else []
            # every change keeps the agents' loads (and the customer's last agent) in step, in the same write
            own += accounting_writes(self._store.table_name, writes.keys, before, after, own)
            saved = writes.save(before, after.model_copy(update={"version": before.version + 1}), entry,
                                timers=timers, extra=own, now=cause.at)
            if saved is Saved.STALE:
                continue
            final = after.model_copy(update={"version": before.version + 1}) if saved is Saved.SAVED else before
            return Outcome(final, saved, changes)
        raise Unavailable("the ticket kept changing while it was being updated; try again")

    def plan(self, tenant_id: str, before: Ticket, patch: TicketPatch, cause: Cause,
             facts: Facts | None = None) -> tuple[Ticket, list[FieldChange]]:
        """The ticket after ``patch`` and ``facts``, with what follows from them; no I/O but SLA planning."""
        _refuse_frozen(before, patch)
        after, _ = apply_patch(before, patch)
        if facts is not None:
            after = after.model_copy(update=facts(after))
        after = _follow_status(before, after, cause.at)
        if self._plan_sla is not None:
            after = after.model_copy(update={"sla": self._plan_sla(tenant_id, after, before, cause.at)})
        return after, field_changes(before, after)

    def timers(self, tenant_id: str, after: Ticket, before: Ticket, now: datetime) -> list[Timer]:
        """The timers ``after`` needs that ``before`` did not already have."""
        settings = self._settings_of(tenant_id)
        rules = self._time_rules(tenant_id) if self._time_rules is not None else []
        had = set(timers_of(before, settings, (), now))
        # time rules' timers are written with every change (the same item again when unchanged):
        # a rule saved after the ticket's last change still gets its timer on the next one
        return [timer for timer in timers_of(after, settings, rules, now)
                if timer not in had or timer.name.startswith("rule:")]


def field_changes(before: Ticket, after: Ticket) -> list[FieldChange]:
    """What changed among the fields the history lists (:data:`~.changes.WORKFLOW_FIELDS`)."""
    return [FieldChange(field=name, before=_plain(getattr(before, name)), after=_plain(getattr(after, name)))
            for name in WORKFLOW_FIELDS if getattr(before, name) != getattr(after, name)]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def timers_of(ticket: Ticket, settings: WorkflowSettings, time_rules: Sequence[TimeRule] = (),
              now: datetime | None = None) -> list[Timer]:
    """What the scheduler must look at for ``ticket``: each running SLA target's warning
    and due time, when a solved ticket closes itself, and when each ``time`` rule's hours
    have passed (one already past: now, so the scheduler sees it in the current minute)."""
    timers = []
    for rule_id, since, hours in time_rules:
        start = since_of(ticket, since)
        if start is not None and ticket.status not in ("closed", "merged"):
            at = start + timedelta(hours=hours)
            timers.append(Timer(f"rule:{rule_id}", at if now is None or at > now else now))
    for target in ticket.sla:
        if target.due_at is None or target.state not in ("active", "warning"):
            continue
        if target.state == "active" and target.warn_at is not None:
            timers.append(Timer(f"sla:{target.metric}:warn", target.warn_at))
        timers.append(Timer(f"sla:{target.metric}:due", target.due_at))
    if ticket.status == "solved" and ticket.solved_at is not None:
        timers.append(Timer("close", ticket.solved_at + timedelta(hours=settings.auto_close_hours)))
    return timers


def since_of(ticket: Ticket, since: str) -> datetime | None:
    """What a ``time`` rule counts from (``status_changed``: when it was solved, else created)."""
    updated = max(ticket.last_activity_at, ticket.updated_at or ticket.last_activity_at)
    return {"created": ticket.created_at, "updated": updated, "awaiting_since": ticket.awaiting_since,
            "status_changed": ticket.solved_at or ticket.created_at}.get(since)


def history_entry(before: Ticket, after: Ticket, changes: list[FieldChange], cause: Cause) -> HistoryEntry:
    """The history item of a change: the transition, and the ticket after it (so the
    events and rules it leads to need not read the ticket again)."""
    transition = Transition(ticket_id=after.id, at=cause.at, cause=cause.id, version=before.version + 1,
                            actor=cause.actor, reason=cause.reason, changes=changes, event=cause.event,
                            detail=cause.detail)
    # the ticket as connectors see it in ticket.updated; its SLA targets only when the change is about
    # them (an SLA event names its target): the entry stays small (one write unit, twice in a transaction)
    ticket = after.model_copy(update={"version": before.version + 1})
    keep_sla = cause.event in ("sla_warning", "sla_breached")
    doc = transition.model_dump(mode="json") | {
        "ticket": ticket.model_dump(mode="json", exclude=None if keep_sla else {"sla"})}
    return HistoryEntry(at=iso(cause.at), cause=cause.id, doc=doc)


def _refuse_frozen(ticket: Ticket, patch: TicketPatch) -> None:
    if ticket.status == "merged":
        raise Conflict(f"the ticket was merged into {ticket.merged_into}: change that one")
    if ticket.status == "closed" and patch.status not in (None, "closed"):
        raise Conflict("a closed ticket stays closed: the customer's next message opens a follow-up ticket")


def _follow_status(before: Ticket, after: Ticket, at: datetime) -> Ticket:
    """``solved_at`` follows the status: set when solved, cleared when reopened."""
    if after.status == "solved" and before.status != "solved":
        return after.model_copy(update={"solved_at": at})
    if after.status not in ("solved", "closed") and after.solved_at is not None:
        return after.model_copy(update={"solved_at": None})
    return after
