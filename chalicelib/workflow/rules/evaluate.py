"""One run of a trigger's rules over a ticket: which fire, the patch they make together,
and what else they ask for. Pure: no I/O, the clock and the calendar come in the context.

Rules run in ``position`` order (then id), each at most once, each seeing the ticket as
the rules before it in this run left it (Zendesk's triggers do the same): a rule that
sets ``urgent`` lets a later ``priority in [urgent]`` rule fire. ``changed`` and
``actor`` conditions look at the change that started the run.

Loop guard: the change a run makes is recorded with ``ChangeActor(kind="rule",
rule_chain=run.chain)``: the rules that caused it. A rule in the context actor's chain
does not fire again on its own change, and once a chain holds
:data:`~chalicelib.workflow.changes.MAX_RULE_CHAIN` rules (several rules answering each
other) no rule fires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from switchboard_sdk import Customer, Message, Ticket

from ..changes import MAX_RULE_CHAIN, ChangeActor, FieldChange, TicketPatch, apply_patch
from .conditions import MAX_SCANNED, Condition, Facts
from .models import (
    Action,
    AddNote,
    AddTags,
    ApplySlaPolicy,
    AssignAgent,
    AssignGroup,
    NotifyConnector,
    RemoveTags,
    Rule,
    SendTemplate,
    SetCategory,
    SetCustomerAttribute,
    SetCustomerTags,
    SetPriority,
    SetStatus,
    Trigger,
)

MissReason = Literal["disabled", "loop_guard", "chain_limit", "too_early", "conditions"]
EffectAction = Annotated[
    ApplySlaPolicy | SendTemplate | AddNote | NotifyConnector | SetCustomerTags | SetCustomerAttribute,
    Field(discriminator="type"),
]


@dataclass(frozen=True)
class RuleContext:
    """What a run looks at. ``updated_at`` / ``status_changed_at``: when the ticket last
    changed / changed status, for ``time`` rules (default: its last activity / its creation)."""

    ticket: Ticket
    trigger: Trigger
    now: datetime
    customer: Customer | None = None
    message: Message | None = None
    changes: Sequence[FieldChange] = ()
    actor: ChangeActor | None = None
    is_open: Callable[[datetime], bool] | None = None
    updated_at: datetime | None = None
    status_changed_at: datetime | None = None


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleMatch(_Out):
    rule_id: str
    name: str
    actions: list[Action]


@dataclass(frozen=True)
class _Miss:
    reason: MissReason
    group: Literal["all", "any"] | None = None
    index: int | None = None
    condition: Condition | None = None

    def explained(self, rule: Rule) -> RuleMiss:
        return RuleMiss(rule_id=rule.id, name=rule.name, reason=self.reason, group=self.group,
                        condition=self.condition, index=self.index)


class RuleMiss(_Out):
    """A rule of the trigger that did not fire, and why: ``conditions`` names the first
    condition that failed (``group``: in ``all``, or ``any`` when none of it held)."""

    rule_id: str
    name: str
    reason: MissReason
    group: Literal["all", "any"] | None = None
    condition: Condition | None = None
    index: int | None = None


class SideEffect(_Out):
    """An action beyond the ticket's fields, for the engine to perform (send the template,
    write the note, notify the connector, change the customer, apply the SLA policy)."""

    rule_id: str
    action: EffectAction


class RuleRun(_Out):
    """What a run decided. ``patch``: every fired rule's ticket changes together;
    ``ticket`` / ``customer``: as they are after it; ``chain``: the ``rule_chain`` of the
    ``ChangeActor(kind="rule")`` the engine records the change with."""

    trigger: Trigger
    matched: list[RuleMatch] = Field(default_factory=list)
    missed: list[RuleMiss] = Field(default_factory=list)
    patch: TicketPatch = Field(default_factory=TicketPatch)
    side_effects: list[SideEffect] = Field(default_factory=list)
    chain: tuple[str, ...] = ()
    ticket: Ticket
    customer: Customer | None = None

    def actor(self) -> ChangeActor:
        """Who the resulting change is by: the last rule that fired, with the chain."""
        last = self.matched[-1] if self.matched else None
        return ChangeActor(kind="rule", id=last.rule_id if last else None, name=last.name if last else None,
                           rule_chain=self.chain)


@dataclass
class _State:
    ticket: Ticket
    customer: Customer | None
    chain: list[str]
    patch: TicketPatch = field(default_factory=TicketPatch)
    matched: list[RuleMatch] = field(default_factory=list)
    missed: list[RuleMiss] = field(default_factory=list)
    effects: list[SideEffect] = field(default_factory=list)


def evaluate(rules: Iterable[Rule], context: RuleContext, *, explain: bool = False) -> RuleRun:
    """Run the rules of ``context.trigger`` over ``context.ticket`` (see the module).
    ``explain``: also list the rules that did not fire and why (``RuleRun.missed``)."""
    earlier = context.actor.rule_chain if context.actor is not None else ()
    state = _State(context.ticket, context.customer, list(earlier))
    facts = _facts(context, state)
    for rule in sorted((r for r in rules if r.trigger == context.trigger), key=lambda r: (r.position, r.id)):
        miss = _refusal(rule, context, state, facts, frozenset(earlier))
        if miss is not None:
            if explain:
                state.missed.append(miss.explained(rule))
            continue
        _fire(rule, state)
        facts = _facts(context, state, (facts.subject_folded, facts.message_folded))
    return RuleRun(trigger=context.trigger, matched=state.matched, missed=state.missed,
                   patch=_settled(state.patch, state.ticket), side_effects=state.effects,
                   chain=tuple(state.chain), ticket=state.ticket, customer=state.customer)


def _facts(context: RuleContext, state: _State, folded: tuple[str, str] | None = None) -> Facts:
    message = context.message.text[:MAX_SCANNED] if context.message is not None else ""
    subject = state.ticket.subject[:MAX_SCANNED]
    subject_folded, message_folded = folded or (subject.casefold(), message.casefold())
    return Facts(ticket=state.ticket, customer=state.customer, subject=subject, message=message,
                 subject_folded=subject_folded, message_folded=message_folded, changes=context.changes,
                 actor=context.actor, now=context.now, is_open=context.is_open)


def _refusal(rule: Rule, context: RuleContext, state: _State, facts: Facts,
             earlier: frozenset[str]) -> _Miss | None:
    """Why ``rule`` does not fire now, or ``None`` when it does."""
    reason: MissReason | None = None
    if not rule.enabled:
        reason = "disabled"
    elif rule.id in earlier:
        reason = "loop_guard"
    elif len(state.chain) >= MAX_RULE_CHAIN:
        reason = "chain_limit"
    elif rule.trigger == "time" and not _due(rule, context, state.ticket):
        reason = "too_early"
    if reason is not None:
        return _Miss(reason)
    return _failed_condition(rule, facts)


def _failed_condition(rule: Rule, facts: Facts) -> _Miss | None:
    for index, condition in enumerate(rule.conditions.all):
        if not condition.holds(facts):
            return _Miss("conditions", "all", index, condition)
    anyof = rule.conditions.any
    if anyof and not any(condition.holds(facts) for condition in anyof):
        return _Miss("conditions", "any")
    return None


def _due(rule: Rule, context: RuleContext, ticket: Ticket) -> bool:
    """Whether ``hours_since`` hours have passed since the rule's ``since`` moment."""
    assert rule.hours_since is not None  # the model requires both for time rules
    since = {
        "created": ticket.created_at,
        "updated": context.updated_at or ticket.last_activity_at,
        "status_changed": context.status_changed_at or ticket.created_at,
        "awaiting_since": ticket.awaiting_since,
    }[rule.since or "created"]
    return since is not None and (context.now - since).total_seconds() >= rule.hours_since * 3600


def _fire(rule: Rule, state: _State) -> None:
    patch = TicketPatch()
    for action in rule.actions:
        change = _patch_of(action)
        if change is not None:
            patch = patch.merged_with(change)
        else:
            state.effects.append(SideEffect(rule_id=rule.id, action=action))
            state.customer = _customer_after(state.customer, action)
    state.ticket = apply_patch(state.ticket, patch)[0]
    state.patch = state.patch.merged_with(patch)
    state.matched.append(RuleMatch(rule_id=rule.id, name=rule.name, actions=rule.actions))
    state.chain.append(rule.id)


def _patch_of(action: Action) -> TicketPatch | None:
    """The ticket change an action makes; ``None`` for a side effect."""
    if isinstance(action, SetPriority):
        return TicketPatch(priority=action.priority)
    if isinstance(action, SetStatus):
        return TicketPatch(status=action.status)
    if isinstance(action, SetCategory):
        return TicketPatch(category=action.category)
    if isinstance(action, AddTags):
        return TicketPatch(add_tags=action.tags)
    if isinstance(action, RemoveTags):
        return TicketPatch(remove_tags=action.tags)
    if isinstance(action, AssignGroup):
        return TicketPatch(group_id=action.group_id)
    if isinstance(action, AssignAgent):
        return TicketPatch(assignee_id=action.agent_id)
    return None


def _customer_after(customer: Customer | None, action: Action) -> Customer | None:
    """The customer as later rules of the run see it once ``action`` is done."""
    if customer is None:
        return None
    if isinstance(action, SetCustomerTags):
        tags = [t for t in dict.fromkeys([*customer.tags, *(t.lower() for t in action.add)])
                if t not in {r.lower() for r in action.remove}]
        return customer.model_copy(update={"tags": tags})
    if isinstance(action, SetCustomerAttribute):
        attributes = {k: v for k, v in customer.attributes.items() if k != action.key}
        if action.value is not None:
            attributes[action.key] = action.value
        return customer.model_copy(update={"attributes": attributes})
    return customer


def _settled(patch: TicketPatch, after: Ticket) -> TicketPatch:
    """``patch`` with tag edits that later rules undid dropped (a tag removed, then added
    again, stays), so applying it gives the ticket the run ended with; no empty tag lists."""
    data = patch.model_dump(exclude_unset=True, exclude={"add_tags", "remove_tags"})
    added = [t for t in patch.add_tags if t in after.tags]
    removed = [t for t in patch.remove_tags if t not in after.tags]
    return TicketPatch.model_validate(data | ({"add_tags": added} if added else {})
                                      | ({"remove_tags": removed} if removed else {}))
