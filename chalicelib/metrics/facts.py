"""What one ticket contributes to the KPIs, recomputed from everything known about it:
its history (every change, in version order: ``TKH#`` items), the replies posted on it
(agents' and automatic ones) and the SLA targets it met or breached.

:func:`ledger_of` is pure. The aggregator (:mod:`.aggregator`) keeps the ledger it last
applied for each ticket and adds only the difference, so a reopened ticket's resolution
moves instead of counting twice, a merged ticket's solve is taken back, a late reopen
takes back first-contact resolution, and a repeated stream record adds nothing. The
definitions are those of docs/metrics.md.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from switchboard_sdk import stage_of

from .tally import Context, Ledger, Tally, dims, duration_counts

OPEN = frozenset({"new", "open", "pending", "on_hold"})  # not solved yet: the backlog
WORKING = frozenset({"new", "open"})  # the handle clock runs (not pending, not on hold)
RESOLVED = frozenset({"solved", "closed"})
REOPEN_WINDOW = timedelta(days=7)  # first-contact resolution: not reopened within this
SCORE = re.compile(r"score (\d)")


@dataclass(frozen=True)
class Reply:
    """A reply posted on the ticket: by an agent, or automated (a rule's template, the hub)."""

    at: datetime
    message_id: str
    automated: bool


@dataclass(frozen=True)
class SlaEnd:
    """An SLA target that ended: ``met`` or ``breached`` at ``at``."""

    metric: str
    state: str
    at: datetime


@dataclass(frozen=True)
class Step:
    """The ticket as one history entry left it, and who/what made the entry."""

    at: datetime
    cause: str
    actor_kind: str
    actor_id: str | None
    event: str | None
    reason: str
    status: str
    assignee: str | None
    group: str | None
    awaiting: datetime | None
    first_response: datetime | None

    def where(self, channel: str, agent: str | None = None, *, with_agent: bool = True) -> list[tuple[str, str]]:
        return dims(channel, self.group, (agent or self.assignee) if with_agent else None)


@dataclass(frozen=True)
class TicketInputs:
    history: list[dict[str, Any]]
    replies: tuple[Reply, ...] = ()
    sla: tuple[SlaEnd, ...] = ()


def _time(value: Any) -> datetime | None:
    return None if value in (None, "") else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def step_of(entry: dict[str, Any]) -> Step:
    ticket, actor = entry.get("ticket") or {}, entry.get("actor") or {}
    return Step(at=_time(entry["at"]) or datetime.min, cause=str(entry.get("cause", "")),
                actor_kind=str(actor.get("kind", "")), actor_id=actor.get("id"), event=entry.get("event"),
                reason=str(entry.get("reason") or ""), status=str(ticket.get("status", "new")),
                assignee=ticket.get("assignee_id"), group=ticket.get("group_id"),
                awaiting=_time(ticket.get("awaiting_since")), first_response=_time(ticket.get("first_response_at")))


def ordered(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History entries in the order they happened (version, then time, then cause)."""
    return sorted(history, key=lambda e: (int(e.get("version", 0)), str(e.get("at", "")), str(e.get("cause", ""))))


def ledger_of(inputs: TicketInputs, context: Context) -> Ledger:
    """Every counter this ticket adds to its tenant's aggregates."""
    entries = ordered(inputs.history)
    if not entries:
        return {}
    ticket = entries[-1]["ticket"]
    channel, created = str(ticket.get("channel", "")), _time(ticket.get("created_at"))
    if created is None:
        return {}
    steps = [step_of(entry) for entry in entries]
    tally = Tally(context)
    _created(tally, steps, channel, created, ticket, entries)
    _responses(tally, steps, channel, created)
    _resolution(tally, steps, channel, created, inputs.replies)
    _surveys(tally, steps, channel)
    _sla(tally, steps, channel, inputs.sla)
    _flow(tally, steps, channel, created)
    _backlog(tally, steps, channel, created)
    _open_now(tally, steps[-1], channel, created)
    return tally.ledger


def detected_intent(entries: list[dict[str, Any]]) -> str | None:
    """The intent the assistant detected for the ticket: its latest decision that named one
    (answered, unsure, handed off); counted once per ticket, like its category."""
    for entry in reversed(entries):
        intent = (entry.get("detail") or {}).get("intent") if str(entry.get("event") or "").startswith(
            "assistant.") else None
        if intent:
            return str(intent)
    return None


def _created(tally: Tally, steps: list[Step], channel: str, created: datetime, ticket: dict[str, Any],
             entries: list[dict[str, Any]]) -> None:
    last = steps[-1]
    merged = last.status == "merged"
    tally.add(created, steps[0].where(channel, with_agent=False), {
        "created": 1, f"hr{tally.context.hour(created):02d}": 1, "cl_created": 0 if merged else 1,
        "cl_closed": 1 if last.status in RESOLVED else 0})
    labels = {f"cat:{ticket['category']}": 1} if ticket.get("category") else {}
    labels |= {f"tag:{tag}": 1 for tag in ticket.get("tags") or ()}
    intent = detected_intent(entries)
    labels |= {f"int:{intent}": 1} if intent else {}
    if labels:  # under the ticket's channel and its group and assignee as they are now
        tally.add(created, last.where(channel), labels)
    assigned: dict[str, datetime] = {}
    for step in steps:
        if step.assignee and step.assignee not in assigned:
            assigned[step.assignee] = step.at
    for agent, at in assigned.items():  # an agent's "created": the tickets they were given
        tally.add(at, [("agent", agent)], {"created": 1})


def _responses(tally: Tally, steps: list[Step], channel: str, created: datetime) -> None:
    """First response (creation → the first agent reply) and next replies (the customer
    began waiting → the agent's reply that ended it)."""
    before: Step | None = None
    for step in steps:
        if step.actor_kind == "agent" and step.cause.startswith("msg:"):
            where = step.where(channel, step.actor_id)
            had_response = before is not None and before.first_response is not None
            if not had_response and step.first_response is not None:
                tally.duration(step.at, where, "frt", created, step.first_response, business=True)
            elif had_response and before is not None and before.awaiting is not None and step.awaiting is None:
                tally.duration(step.at, where, "nrt", before.awaiting, step.at, business=True)
        before = step


def transitions(steps: list[Step]) -> tuple[list[int], list[int]]:
    """Indexes of the steps that resolved the ticket (open → solved/closed) and that reopened it."""
    resolves, reopens, status = [], [], "new"
    for index, step in enumerate(steps):
        if step.status in RESOLVED and status in OPEN:
            resolves.append(index)
        elif step.status in OPEN and status in RESOLVED:
            reopens.append(index)
        status = step.status
    return resolves, reopens


def _resolution(tally: Tally, steps: list[Step], channel: str, created: datetime,
                replies: tuple[Reply, ...]) -> None:
    if any(step.status == "merged" for step in steps):
        return  # a merged ticket left the flow: its target is the one that gets solved
    resolves, reopens = transitions(steps)
    if not resolves:
        return
    first = steps[resolves[0]]
    tally.add(first.at, first.where(channel), {"rs1": 1, "reop": 1 if reopens else 0})
    if steps[-1].status not in RESOLVED:
        return
    final = steps[resolves[-1]]
    where = final.where(channel)
    agent_replies = [reply.at for reply in replies if not reply.automated]
    early = any(first.at < steps[i].at <= first.at + REOPEN_WINDOW for i in reopens)
    tally.add(final.at, where, {
        "solved": 1, "fcr_n": 1, "fcr_ok": int(sum(at <= first.at for at in agent_replies) <= 1 and not early),
        "auto": int(not any(at <= final.at for at in agent_replies) and final.actor_kind != "agent")})
    tally.duration(final.at, where, "res", created, final.at, business=True)
    _handle(tally, steps[: resolves[-1] + 1], channel)


def handle_shares(steps: list[Step]) -> dict[str, float]:
    """Seconds each agent held the ticket while it was worked (``new``/``open``, assigned),
    up to the last step given."""
    shares: dict[str, float] = {}
    for step, following in itertools.pairwise(steps):
        if step.assignee and step.status in WORKING:
            shares[step.assignee] = shares.get(step.assignee, 0.0) + (following.at - step.at).total_seconds()
    return shares


def _handle(tally: Tally, steps: list[Step], channel: str) -> None:
    """Handle time: assignment → solve without pending and on-hold time; the ticket's total
    in the tenant, channel and group, each agent's own share in the agent's."""
    if not any(step.assignee for step in steps):
        return
    final, shares = steps[-1], handle_shares(steps)
    tally.add(final.at, final.where(channel, with_agent=False), duration_counts("hdl", sum(shares.values())))
    for agent, seconds in shares.items():
        tally.add(final.at, [("agent", agent)], duration_counts("hdl", seconds))


def _surveys(tally: Tally, steps: list[Step], channel: str) -> None:
    for step in steps:
        if step.event == "survey_sent":
            tally.add(step.at, step.where(channel), {"csat_sent": 1})
        found = SCORE.search(step.reason) if step.event == "csat_received" else None
        if found is not None and 1 <= int(found.group(1)) <= 5:
            score = int(found.group(1))
            tally.add(step.at, step.where(channel), {"csat_n": 1, "csat_s": score, f"csat_{score}": 1})


def state_at(steps: list[Step], at: datetime) -> Step:
    """The ticket as it was at ``at`` (its first step if earlier)."""
    found = steps[0]
    for step in steps:
        if step.at > at:
            break
        found = step
    return found


def _sla(tally: Tally, steps: list[Step], channel: str, ends: tuple[SlaEnd, ...]) -> None:
    for end in ends:
        outcome = "met" if end.state == "met" else "br"
        tally.add(end.at, state_at(steps, end.at).where(channel), {f"sla_{end.metric}_{outcome}": 1})


def _flow(tally: Tally, steps: list[Step], channel: str, created: datetime) -> None:
    """Stages entered and left, time spent in each, and the links between them."""
    stage: str | None = "accept"
    since = created
    tally.add(created, steps[0].where(channel), {"in:accept": 1})
    for step in steps:
        now = stage_of(step.status, step.assignee)  # type: ignore[arg-type]
        if now == stage or stage is None:
            continue
        counts = {f"out:{stage}": 1} | duration_counts(f"stt:{stage}", (step.at - since).total_seconds())
        if now is not None:
            counts |= {f"in:{now}": 1, f"ln:{stage}>{now}": 1}
        tally.add(step.at, step.where(channel), counts)
        stage, since = now, step.at


def _backlog(tally: Tally, steps: list[Step], channel: str, created: datetime) -> None:
    """Tickets entering and leaving the backlog per day (tenant and channel): yesterday's
    backlog is today's minus what entered since plus what left."""
    where = dims(channel, None, None)
    tally.add(created, where, {"bl_in": 1})
    was_open = True
    for step in steps:
        is_open = step.status in OPEN
        if is_open != was_open:
            tally.add(step.at, where, {"bl_in" if is_open else "bl_out": 1})
        was_open = is_open


def _open_now(tally: Tally, last: Step, channel: str, created: datetime) -> None:
    """Where the ticket is now: its stage, and — while open — the minute it was created
    (the backlog's age)."""
    stage = stage_of(last.status, last.assignee)  # type: ignore[arg-type]
    local = created.astimezone(tally.context.zone)
    for kind, value in last.where(channel):
        if stage is not None:
            tally.put(f"O:{kind}", f"now#{value}", {f"stage:{stage}": 1})
        if last.status in OPEN:
            tally.put(f"O:{kind}", f"{local.date().isoformat()}#{value}", {f"t{local:%H%M}": 1, "open": 1})
