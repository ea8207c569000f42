"""The tenant's rules at work behind the stream: triage of new tickets
(``ticket.created``), each customer message (``message.created``), each change
(``ticket.updated``) and time (``time``, from the scheduler).

:class:`RuleRunner` evaluates the trigger's rules (cached per container, 30 s) on
the ticket as known and turns the run into a :class:`~.engine.Triage`: the patch
(an ``apply_sla_policy`` pins the policy), the rule actor with its chain (the loop
guard), and the side effects to perform once the change is saved
(:class:`RuleEffects`). A tenant with no rules for the trigger costs nothing: no
customer is read, no rule evaluated.

Side effects are idempotent by construction: replies and notes carry a
``client_message_id`` made of the rule and the cause, a connector's event id
derives from them, customer tags and attributes converge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from switchboard_sdk import Customer, EventEnvelope, InvalidInput, Message, Ticket

from ..outbound.posting import MessagePoster
from ..storage.conventions import iso
from ..storage.ids import event_id_for
from ..storage.personal import DEFAULT_PERSONAL_ATTRIBUTES
from ..storage.store import TicketStore
from .changes import ChangeActor, FieldChange, TicketPatch, Transition
from .customers import CustomerPatch, customer_writes
from .engine import Triage
from .rules.evaluate import RuleContext, RuleRun, SideEffect, evaluate
from .rules.models import Rule, Trigger
from .scheduler import DueTimer, NothingToDo
from .service import Cause, Outcome, TimeRule, WorkflowService, since_of
from .template_store import TemplateStore
from .templates import render, variables_for

log = logging.getLogger(__name__)
Notify = Callable[[str, EventEnvelope], object]  # (connector, event) → queued for that connector only


class RuleEffects:
    def __init__(self, store: TicketStore, poster: MessagePoster, templates: Callable[[str], TemplateStore],
                 notify: Notify, clock: Callable[[], datetime],
                 tenant_language: Callable[[str], str],
                 personal_attributes: Callable[[str], Collection[str]] | None = None) -> None:
        self._store = store
        # the tenant's workflow.personal_attributes: an attribute a rule sets is sealed when named there
        self._personal_attributes = personal_attributes or (lambda _tenant_id: DEFAULT_PERSONAL_ATTRIBUTES)
        self._poster = poster
        self._templates = templates
        self._notify = notify
        self._clock = clock
        self._tenant_language = tenant_language

    def perform(self, run: RuleRun, ticket: Ticket, cause: str) -> None:
        """Every side effect of ``run`` on ``ticket`` (as saved), once per cause."""
        names = {match.rule_id: match.name for match in run.matched}
        for effect in run.side_effects:
            self._one(effect, names.get(effect.rule_id, effect.rule_id), ticket, run.customer, cause)

    def _one(self, effect: SideEffect, rule_name: str, ticket: Ticket, customer: Customer | None,
             cause: str) -> None:
        action, key = effect.action, f"rule:{effect.rule_id}:{cause}"
        author = (f"rule:{effect.rule_id}", rule_name)
        if action.type == "send_template":
            self._send_template(action.code, ticket, customer, key, author)
        elif action.type == "add_note":
            self._post(ticket, action.text, author, f"{key}:note", internal=True)
        elif action.type == "notify_connector":
            self._notify(action.connector, _notice(ticket, effect.rule_id, rule_name, action.note, cause))
        elif action.type == "set_customer_tags":
            self._customer(ticket, CustomerPatch(add_tags=action.add, remove_tags=action.remove))
        elif action.type == "set_customer_attribute":
            self._customer(ticket, CustomerPatch(attributes={action.key: action.value}))

    def _post(self, ticket: Ticket, text: str, author: tuple[str, str], key: str, *, internal: bool) -> None:
        self._poster.post(ticket, text, author_id=author[0], author_name=author[1], internal=internal,
                          client_message_id=key)

    def _send_template(self, code: str, ticket: Ticket, customer: Customer | None, key: str,
                       author: tuple[str, str]) -> None:
        template = self._templates(ticket.tenant_id).template(code)
        try:
            if template is None:
                raise InvalidInput(f"the template {code} does not exist")
            text = render(template, ticket.language, variables_for(ticket, customer, None),
                          default_language=self._tenant_language(ticket.tenant_id))
        except InvalidInput as err:  # never a blank or half-filled reply: tell the agents instead
            self._post(ticket, f"The rule could not send template {code}: {err}", author, f"{key}:failed",
                       internal=True)
            return
        self._post(ticket, text, author, f"{key}:reply", internal=False)

    def _customer(self, ticket: Ticket, patch: CustomerPatch) -> None:
        writes = customer_writes(self._store.client, self._store.table_name, ticket.tenant_id, self._clock,
                                 crypto=self._store.crypto,
                                 personal_attributes=self._personal_attributes(ticket.tenant_id))
        writes.update_profile(ticket.customer_id, patch)


class RuleRunner:
    def __init__(self, rules: Callable[[str], list[Rule]], customers: Callable[[str, str], Customer | None],
                 effects: RuleEffects, is_open: Callable[[str], Callable[[datetime], bool] | None]) -> None:
        self._rules = rules
        self._customers = customers
        self._effects = effects
        self._is_open = is_open

    def run(self, trigger: Trigger, ticket: Ticket, *, now: datetime, message: Message | None = None,
            changes: list[FieldChange] | None = None, actor: ChangeActor | None = None,
            only: str | None = None, customer: Customer | None = None) -> RuleRun | None:
        """The trigger's rules on ``ticket``; ``None`` when none of them fired. ``customer``:
        their tags and attributes as the message found them, when the caller has them."""
        rules = [r for r in self._rules(ticket.tenant_id) if r.trigger == trigger and r.enabled
                 and (only is None or r.id == only)]
        if not rules:
            return None
        # the customer is read only when a rule looks at them and the caller has not got
        # their tags and attributes, or a template reply needs the whole record (the name)
        if customer is None or _needs_record(rules):
            customer = self._customers(ticket.tenant_id, ticket.customer_id) if _needs_customer(rules) else None
        context = RuleContext(ticket=ticket, trigger=trigger, now=now, message=message, changes=changes or (),
                              actor=actor, customer=customer, is_open=self._is_open(ticket.tenant_id))
        run = evaluate(rules, context)
        return run if run.matched else None

    def triage(self, trigger: str, ticket: Ticket, message: Message, customer: Customer | None = None) -> Triage:
        """For the engine: what the rules make of a customer's message (``customer``: as it found them)."""
        run = self.run("ticket.created" if trigger == "ticket.created" else "message.created", ticket,
                       now=message.received_at, message=message, customer=customer)
        if run is None:
            return Triage(TicketPatch())
        cause = f"msg:{message.id}"
        return Triage(patch_of(run), run.actor(),
                      after=lambda outcome: self._effects.perform(run, outcome.ticket, cause))

    def perform(self, run: RuleRun, outcome: Outcome, cause: str) -> None:
        self._effects.perform(run, outcome.ticket, cause)

    def rules_of(self, tenant_id: str) -> list[Rule]:
        return self._rules(tenant_id)

    def looks_at_sla(self, tenant_id: str, trigger: Trigger) -> bool:
        """Whether the trigger's rules have SLA conditions (the history's ticket leaves targets out)."""
        return any(c.type == "sla_state" for r in self._rules(tenant_id) if r.trigger == trigger and r.enabled
                   for c in (*r.conditions.all, *r.conditions.any))


CUSTOMER_CONDITIONS = frozenset({"customer_tag", "customer_attribute"})
CUSTOMER_ACTIONS = frozenset({"set_customer_tags", "set_customer_attribute", "send_template"})


def _needs_record(rules: list[Rule]) -> bool:
    """Whether ``rules`` send a template (its variables need the customer's whole record)."""
    return any(a.type == "send_template" for r in rules for a in r.actions)


def _needs_customer(rules: list[Rule]) -> bool:
    """Whether evaluating (or acting on) ``rules`` needs the customer's record."""
    return any(c.type in CUSTOMER_CONDITIONS for r in rules for c in (*r.conditions.all, *r.conditions.any)) \
        or any(a.type in CUSTOMER_ACTIONS for r in rules for a in r.actions)


def patch_of(run: RuleRun) -> TicketPatch:
    """The run's patch, with the SLA policy its last ``apply_sla_policy`` pins."""
    policies = [e.action.policy_id for e in run.side_effects if e.action.type == "apply_sla_policy"]
    return run.patch.merged_with(TicketPatch(sla_policy_id=policies[-1])) if policies else run.patch


def _notice(ticket: Ticket, rule_id: str, rule_name: str, note: str, cause: str) -> EventEnvelope:
    actor = ChangeActor(kind="rule", id=rule_id, name=rule_name)
    return EventEnvelope.model_validate({
        "id": event_id_for("ticket.updated", ticket.tenant_id, f"{ticket.id}#notify:{rule_id}:{cause}"),
        "type": "ticket.updated", "tenant_id": ticket.tenant_id, "ticket_id": ticket.id,
        "occurred_at": ticket.last_activity_at,
        "data": {"ticket": ticket.model_dump(mode="json"), "changes": [], "actor": actor.model_dump(mode="json"),
                 "reason": note or f"rule {rule_name}"}})


class UpdatedRules:
    """A ticket changed (its history entry): the ``ticket.updated`` rules run on the change;
    what they change is recorded under the rule actor, whose chain keeps them from firing
    on their own change again. One cause per entry: a repeated entry changes nothing."""

    def __init__(self, runner: RuleRunner, service: WorkflowService, store: TicketStore) -> None:
        self._runner = runner
        self._service = service
        self._store = store

    def __call__(self, ticket: Ticket, transition: Transition) -> None:
        if not transition.changes and transition.event not in ("sla_warning", "sla_breached"):
            return
        if not ticket.sla and self._runner.looks_at_sla(ticket.tenant_id, "ticket.updated"):
            ticket = self._store.tickets(ticket.tenant_id).load(ticket.id)
        run = self._runner.run("ticket.updated", ticket, now=transition.at, changes=transition.changes,
                               actor=transition.actor)
        if run is None:
            return
        cause = f"rules:{transition.cause}"
        outcome = self._service.change(ticket.tenant_id, ticket.id, patch_of(run), Cause(
            id=cause, actor=run.actor(), at=transition.at, reason="rules on the ticket's change"))
        if outcome.saved is not None:
            self._runner.perform(run, outcome, cause)


class TimeRules:
    """The scheduler's ``rule:<id>`` timers: the ``time`` rule runs on the ticket as it is now;
    its change is caused by the rule and the moment its hours passed, so it happens once."""

    def __init__(self, runner: RuleRunner, service: WorkflowService, store: TicketStore) -> None:
        self._runner = runner
        self._service = service
        self._store = store

    def __call__(self, timer: DueTimer, now: datetime) -> None:
        rule_id = timer.name.split(":", 1)[1]
        ticket = self._store.tickets(timer.tenant_id).load(timer.ticket_id)
        run = self._runner.run("time", ticket, now=now, only=rule_id)
        if run is None:
            raise NothingToDo
        due = next((at for name, at in _rule_dues(ticket, rule_id, self._runner) if name == rule_id), timer.due_at)
        cause = f"timer:rule:{rule_id}:{iso(due)}"
        outcome = self._service.change(ticket.tenant_id, ticket.id, patch_of(run), Cause(
            id=cause, actor=run.actor(), at=now, reason="a time rule"), known=ticket)
        if outcome.saved is not None:
            self._runner.perform(run, outcome, cause)


def _rule_dues(ticket: Ticket, rule_id: str, runner: RuleRunner) -> list[tuple[str, datetime]]:
    """When the rule's hours passed for this ticket (from what they count from)."""
    return [(rule.id, start + timedelta(hours=rule.hours_since or 0))
            for rule in runner.rules_of(ticket.tenant_id) if rule.id == rule_id and rule.since
            for start in [since_of(ticket, rule.since)] if start is not None]


def time_rules_of(rules: list[Rule]) -> list[TimeRule]:
    """A tenant's enabled ``time`` rules as the workflow's timers take them."""
    return [(r.id, r.since, float(r.hours_since)) for r in rules
            if r.enabled and r.trigger == "time" and r.since and r.hours_since]
