"""SLA policies, and the targets they set on a ticket: pure computation, no I/O.

A tenant's :class:`SlaPolicy` list is ordered by ``position``; the first whose
conditions match the ticket (and that has targets for its priority) applies
(:func:`match_policy`). :func:`plan_targets` turns the targets a ticket had before
a change, its fields after it and the policy into the targets after it; the stream
and the API call it on every change, the scheduler only calls :func:`advance`.

How a target (``switchboard_sdk.SlaTarget``) is read here:

- ``started_at``: when its clock last started (a ticket's creation; for a next
  response, the customer's message; for a resolution resumed after a pause, the
  resume). ``remaining_seconds``: ``None`` when the whole ``target_minutes`` were
  left at ``started_at``; otherwise the seconds left then — or, while ``paused``
  (``due_at`` ``None``), the seconds left when it paused.
- A finished target has ``done_at``; it is ``met`` when done by ``due_at``, else
  ``breached`` (a breach stays a breach once answered). Running targets are
  ``active`` → ``warning`` (from ``warn_at``) → ``breached`` (from ``due_at``).
- ``warn_at`` is ``warning_minutes`` before ``due_at`` in the target's time basis
  (open time when ``business_hours``), never before ``started_at``.

Decisions:

- first response: from ``created_at`` until ``first_response_at``; solving the
  ticket (``solved``/``closed``) finishes it at ``solved_at``. It never restarts.
- next response: one per customer wait after the first response (``awaiting_since``
  later than ``first_response_at``); done when ``awaiting_since`` clears or
  changes (at ``now``), or the ticket is solved. Only the last finished one is kept.
- resolution: from ``created_at``; paused while ``pending``/``on_hold``, done when
  ``solved``/``closed``. A reopened ticket resumes it from ``now`` with the time
  that was left when it was solved (Zendesk's way); one solved late stays breached.
- A policy change (another policy, or another target for the new priority, or the
  business-hours switch) reschedules running targets: the time already used carries
  over (``due`` = start + new target, or for a resumed one, what was left adjusted
  by the difference) and their state is worked out again. Edits to a calendar
  reach targets when they next start or resume.
- No policy (or none for a metric): running targets are dropped, finished ones kept.
  A merged ticket keeps only its finished targets.
- ``business_hours`` without a calendar (deleted meanwhile), or a calendar that
  never opens, counts plain time rather than failing the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from switchboard_sdk import Customer, SlaMetric, SlaTarget, Ticket, TicketPriority

from .calendar import BusinessCalendar, CalendarNeverOpens

METRICS: tuple[SlaMetric, ...] = ("first_response", "next_response", "resolution")
MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_POSITION = 100_000
DEFAULT_WARNING_MINUTES = 15
_PAUSING = frozenset({"pending", "on_hold"})
_SOLVED = frozenset({"solved", "closed"})


class SlaConditions(BaseModel):
    """When a policy applies: every condition given must hold (an empty list: any)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    priorities: list[TicketPriority] = Field(default_factory=list, max_length=4)
    channels: list[str] = Field(default_factory=list, max_length=50)
    customer_tags: list[str] = Field(default_factory=list, max_length=50,
                                     description="The customer has any of these tags.")
    group_ids: list[str] = Field(default_factory=list, max_length=100)
    categories: list[str] = Field(default_factory=list, max_length=100)

    def matches(self, ticket: Ticket, customer: Customer | None) -> bool:
        tags = {tag.lower() for tag in customer.tags} if customer is not None else set()
        return ((not self.priorities or ticket.priority in self.priorities)
                and (not self.channels or ticket.channel in self.channels)
                and (not self.customer_tags or bool(tags & {t.lower() for t in self.customer_tags}))
                and (not self.group_ids or ticket.group_id in self.group_ids)
                and (not self.categories or ticket.category in self.categories))


class SlaTargets(BaseModel):
    """The targets for one priority, in minutes (left out: no such target)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    first_response_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    next_response_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    resolution_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)

    def minutes(self, metric: SlaMetric) -> int | None:
        value: int | None = getattr(self, f"{metric}_minutes")
        return value


class SlaPolicyFields(BaseModel):
    """What an admin sets on a policy."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=0, le=MAX_POSITION, description="Lower first; the first match wins.")
    conditions: SlaConditions = Field(default_factory=SlaConditions)
    targets: dict[TicketPriority, SlaTargets] = Field(min_length=1)
    business_hours: bool = Field(default=False, description="Count only the calendar's open time.")
    calendar_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _calendar_for_business_hours(self) -> SlaPolicyFields:
        if self.business_hours and not self.calendar_id:
            raise ValueError("business_hours needs a calendar_id")
        return self


class SlaPolicy(SlaPolicyFields):
    id: str = Field(max_length=64)
    version: int = Field(default=1, ge=1)
    created_at: datetime | None = None
    updated_at: datetime | None = None


def match_policy(policies: Sequence[SlaPolicy], ticket: Ticket, customer: Customer | None) -> SlaPolicy | None:
    """The first policy (by ``position``, then id) whose conditions hold and that has
    targets for the ticket's priority."""
    for policy in sorted(policies, key=lambda p: (p.position, p.id)):
        if ticket.priority in policy.targets and policy.conditions.matches(ticket, customer):
            return policy
    return None


def advance(target: SlaTarget, now: datetime) -> SlaTarget:
    """``target`` with its state moved on by time alone: active → warning → breached.
    Finished, paused and breached targets stay as they are."""
    if target.done_at is not None or target.state in ("paused", "met", "breached") or target.due_at is None:
        return target
    now = _aware(now)
    if now >= target.due_at:
        return target.model_copy(update={"state": "breached"})
    if target.state == "active" and target.warn_at is not None and now >= target.warn_at:
        return target.model_copy(update={"state": "warning"})
    return target


def plan_targets(ticket: Ticket, policy: SlaPolicy | None, calendar: BusinessCalendar | None, now: datetime,
                 warning_minutes: int = DEFAULT_WARNING_MINUTES) -> list[SlaTarget]:
    """The ticket's targets after a change: ``ticket.sla`` are those before it, the
    ticket's other fields are after it; ``calendar`` is the policy's (business hours)."""
    now = _aware(now)
    if ticket.status == "merged":
        return [t for t in ticket.sla if t.done_at is not None]
    planned: list[SlaTarget] = []
    for metric in METRICS:
        before = [t for t in ticket.sla if t.metric == metric]
        plan = _Plan.of(policy, ticket.priority, metric, calendar, warning_minutes)
        planned += _PLANNERS[metric](ticket, before, plan, now)
    return planned


@dataclass(frozen=True)
class _Plan:
    """What the policy asks of one metric, and time counted in its basis."""

    policy_id: str
    minutes: int
    business_hours: bool
    calendar: BusinessCalendar | None
    warning_seconds: int

    @classmethod
    def of(cls, policy: SlaPolicy | None, priority: TicketPriority, metric: SlaMetric,
           calendar: BusinessCalendar | None, warning_minutes: int) -> _Plan | None:
        targets = policy.targets.get(priority) if policy is not None else None
        minutes = targets.minutes(metric) if targets is not None else None
        if policy is None or minutes is None:
            return None
        basis = calendar if policy.business_hours and calendar is not None and not calendar.always_open else None
        return cls(policy.id, minutes, policy.business_hours, basis, max(0, warning_minutes) * 60)

    # -- time in this plan's basis ----------------------------------------------------

    def add(self, start: datetime, seconds: int) -> datetime:
        if self.calendar is not None:
            try:
                return self.calendar.add_business_time(start, seconds)
            except CalendarNeverOpens:
                pass
        return start + timedelta(seconds=seconds)

    def between(self, a: datetime, b: datetime) -> int:
        if self.calendar is not None:
            return self.calendar.business_seconds_between(a, b)
        return max(0, int((b - a).total_seconds()))

    # -- targets -----------------------------------------------------------------------

    def new(self, metric: SlaMetric, started_at: datetime) -> SlaTarget:
        target = SlaTarget(metric=metric, policy_id=self.policy_id, started_at=_aware(started_at),
                           target_minutes=self.minutes, business_hours=self.business_hours)
        return self.schedule(target)

    def schedule(self, target: SlaTarget) -> SlaTarget:
        """``due_at``/``warn_at`` from ``started_at`` and the time left then; state active."""
        left = self.minutes * 60 if target.remaining_seconds is None else target.remaining_seconds
        warn = target.started_at if left <= self.warning_seconds else self.add(
            target.started_at, left - self.warning_seconds)
        return target.model_copy(update={"due_at": self.add(target.started_at, left), "warn_at": warn,
                                         "state": "active"})

    def adjust(self, target: SlaTarget) -> SlaTarget:
        """A running (or paused) target under this plan; rescheduled if the plan differs."""
        if (target.policy_id, target.target_minutes, target.business_hours) == (
                self.policy_id, self.minutes, self.business_hours):
            return target
        moved = self.minutes * 60 - target.target_minutes * 60
        left = None if target.remaining_seconds is None else max(0, target.remaining_seconds + moved)
        update: dict[str, Any] = {"policy_id": self.policy_id, "target_minutes": self.minutes,
                                  "business_hours": self.business_hours, "remaining_seconds": left}
        changed = target.model_copy(update=update)
        return changed if target.state == "paused" else self.schedule(changed)

    def pause(self, target: SlaTarget, now: datetime) -> SlaTarget:
        target = advance(target, now)
        if target.state in ("paused", "breached") or target.due_at is None:
            return target
        return target.model_copy(update={"state": "paused", "remaining_seconds": self.between(now, target.due_at),
                                         "due_at": None, "warn_at": None})

    def resume(self, target: SlaTarget, now: datetime) -> SlaTarget:
        if target.state != "paused":
            return target
        return self.schedule(target.model_copy(update={"started_at": now}))

    def finish(self, target: SlaTarget, at: datetime, *, keep_left: bool = False) -> SlaTarget:
        """Done at ``at``: met if by the due time (or while paused), else breached."""
        at = _aware(at)
        late = target.state == "breached" or (target.due_at is not None and at > target.due_at)
        update: dict[str, Any] = {"done_at": at, "state": "breached" if late else "met"}
        if keep_left and target.due_at is not None:
            update["remaining_seconds"] = 0 if late else self.between(at, target.due_at)
        return target.model_copy(update=update)


def _first_response(ticket: Ticket, before: list[SlaTarget], plan: _Plan | None, now: datetime) -> list[SlaTarget]:
    target = before[-1] if before else None
    if target is not None and target.done_at is not None:
        return [target]
    if plan is None:
        return []
    target = plan.new("first_response", ticket.created_at) if target is None else plan.adjust(target)
    if ticket.first_response_at is not None:
        return [plan.finish(target, ticket.first_response_at)]
    if ticket.status in _SOLVED:
        return [plan.finish(target, ticket.solved_at or now)]
    return [advance(target, now)]


def _next_response(ticket: Ticket, before: list[SlaTarget], plan: _Plan | None, now: datetime) -> list[SlaTarget]:
    finished = sorted((t for t in before if t.done_at is not None), key=lambda t: (t.done_at, t.started_at))[-1:]
    waiting = _customer_waiting(ticket)
    running: list[SlaTarget] = []
    for target in (t for t in before if t.done_at is None):
        if plan is None:
            continue
        target = plan.adjust(target)
        if waiting is not None and target.started_at == waiting:
            running.append(advance(target, now))
        else:  # answered, or a newer wait replaced it, or the ticket was solved
            finished = [plan.finish(target, (ticket.solved_at or now) if ticket.status in _SOLVED else now)]
    if plan is not None and waiting is not None and not running:
        running.append(advance(plan.new("next_response", waiting), now))
    return finished + running


def _customer_waiting(ticket: Ticket) -> datetime | None:
    """Since when the customer has waited for a next response, if they do."""
    if ticket.status in _SOLVED or ticket.awaiting_since is None or ticket.first_response_at is None:
        return None
    waiting = _aware(ticket.awaiting_since)
    return waiting if waiting > _aware(ticket.first_response_at) else None


def _resolution(ticket: Ticket, before: list[SlaTarget], plan: _Plan | None, now: datetime) -> list[SlaTarget]:
    target = before[-1] if before else None
    solved = ticket.status in _SOLVED
    if target is not None and target.done_at is not None:
        if solved or plan is None:
            return [target]
        target = _reopened(target)
    if plan is None:
        return []
    target = plan.new("resolution", ticket.created_at) if target is None else plan.adjust(target)
    if solved:
        return [plan.finish(target, ticket.solved_at or now, keep_left=True)]
    if ticket.status in _PAUSING:
        return [plan.pause(target, now)]
    return [advance(plan.resume(target, now), now)]


def _reopened(target: SlaTarget) -> SlaTarget:
    """A finished resolution target running again: paused with what was left (resumed
    by the caller), or still breached if it was solved late."""
    if target.state == "breached":
        return target.model_copy(update={"done_at": None})
    return target.model_copy(update={"done_at": None, "state": "paused", "due_at": None, "warn_at": None,
                                     "remaining_seconds": target.remaining_seconds or 0})


_PLANNERS = {"first_response": _first_response, "next_response": _next_response, "resolution": _resolution}


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
