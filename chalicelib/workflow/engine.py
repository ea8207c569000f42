"""The workflow behind the stream: what a new message does to its ticket.

Runs for every message item the table's stream inserts (never on the webhook
path, which stays one write). A customer's message on a ``new`` ticket triages
it: the ``ticket.created`` rules run and the ticket becomes ``open`` (routed);
later customer messages run the ``message.created`` rules, reopen a ``solved``,
``pending`` or ``on_hold`` ticket and start the next-response clock
(``awaiting_since``). An agent's reply records the first response and stops the
clock; a new ticket an agent answers first becomes ``open``.

The message item carries the ticket's workflow state as its message found it
(``ticket_state``), so most messages cost no read; if the ticket moved since,
the save is stale and the ticket is read (:meth:`WorkflowService.change`).
The cause of each change is the message (``msg:<id>``): a redelivered record
changes nothing twice. What the change means for connectors and for
``ticket.updated`` rules follows from its history entry (:mod:`.reactions`).

A tenant's assistant may hold a ticket (``held``, chalicelib/assistant): while the
ticket is ``new`` and held, a customer's message changes nothing here (no triage, no
routing: the ticket stays in the accept stage) and the assistant answers behind the
stream. :meth:`WorkflowEngine.hand_off` releases it: the ``ticket.created`` rules and
assignment run as they would have for its first message, through the same path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from switchboard_sdk import Customer, Message, SlaTarget, Ticket

from ..storage.tickets import ticket_of
from .changes import ChangeActor, TicketPatch
from .reactions import Reactions
from .service import Cause, Outcome, WorkflowService

log = logging.getLogger(__name__)
CUSTOMER_KINDS = frozenset({"message", "call", "voicemail"})  # what a customer says (not events or bounces)
REOPENED_BY_CUSTOMER = frozenset({"solved", "pending", "on_hold"})
# replies the hub sent by itself (rules, the system, the assistant): not an agent's response
AUTOMATIC_AUTHORS = ("rule:", "system:", "assistant:")


@dataclass(frozen=True)
class Triage:
    """What the rules make of a message: a patch on top of the engine's own, and the
    actor the change is recorded under (a rule, with its chain, when rules fired)."""

    patch: TicketPatch
    actor: ChangeActor | None = None
    after: Callable[[Outcome], None] | None = None  # side effects once the change is saved


# (trigger, ticket as known, the message) → what the tenant's rules make of it
Rules = Callable[[str, Ticket, Message, Customer | None], Triage]
# (tenant, ticket id, the ticket as saved) → the agent it went to (fair assignment), or None
Assign = Callable[[str, str, Ticket], object]
# (the customer's message, its solved ticket) → True when it answered the ticket's survey
SurveyAnswers = Callable[[Message, Ticket], bool]
# (the customer's message, its ticket as known) → True while the tenant's assistant answers it
Held = Callable[[Message, Ticket | None], bool]


class WorkflowEngine:
    def __init__(self, service: WorkflowService, reactions: Reactions, rules: Rules | None = None,
                 surveys: SurveyAnswers | None = None,
                 on_survey_change: Callable[[dict[str, Any], dict[str, Any] | None], None] | None = None,
                 assign: Assign | None = None,
                 on_agent_change: Callable[[dict[str, Any], dict[str, Any] | None], None] | None = None,
                 held: Held | None = None) -> None:
        self._service = service
        self._held = held
        self._assign = assign
        self._on_agent_change = on_agent_change
        self._reactions = reactions
        self._rules = rules
        self._surveys = surveys
        self._on_survey_change = on_survey_change

    def on_agent(self, image: dict[str, Any], old: dict[str, Any] | None) -> None:
        """An agent's record changed (came online, more room): work from the backlog."""
        if self._on_agent_change is not None:
            self._on_agent_change(image, old)

    def on_survey(self, image: dict[str, Any], old: dict[str, Any] | None) -> None:
        """A survey item changed (answered by a reply or a link): CSAT and its follow-up."""
        if self._on_survey_change is not None:
            self._on_survey_change(image, old)

    def on_history(self, image: dict[str, Any]) -> None:
        """A ticket changed (its history entry was inserted): what follows from it."""
        self._reactions.on_history(image)

    def on_message(self, image: dict[str, Any]) -> Outcome | None:
        """A message item was inserted: move its ticket on. ``None``: nothing to do."""
        if image.get("moved_from") or image.get("type") != "message":
            return None
        message = Message.model_validate({k: v for k, v in image.items() if k in Message.model_fields})
        if message.internal:
            return self._noted(message)
        known = known_ticket(image, message)
        if message.direction == "outbound":
            if (message.author_id or "").startswith(AUTOMATIC_AUTHORS):
                return None
            return self._agent_replied(message, known)
        if message.kind not in CUSTOMER_KINDS:
            return None
        if self._is_held(message, known):
            return None  # the assistant answers it (chalicelib/assistant); hand_off releases it
        return self._customer_wrote(message, known, customer_as_found(image, message))

    def _is_held(self, message: Message, known: Ticket | None) -> bool:
        return self._held is not None and known is not None and known.status == "new" \
            and known.first_response_at is None and self._held(message, known)

    def hand_off(self, ticket: Ticket, message: Message, cause: Cause, *, category: str | None = None) -> Outcome:
        """The assistant hands ``ticket`` (as just read) to people: it becomes ``open`` with
        ``category`` (unless it has one) and is triaged and routed as on a first message —
        the ``ticket.created`` rules on ``message`` (the customer's), then assignment.
        ``cause`` (the assistant's decision, its event and detail) is the history entry's;
        rules that fire keep their chain (the loop guard) under the assistant's name."""
        patch = TicketPatch(status="open", **({"category": category} if category and not ticket.category else {}))
        return self._triaged("ticket.created", ticket, message, None, patch, cause, rules_as=cause.actor)

    def _customer_wrote(self, message: Message, known: Ticket | None, customer: Customer | None) -> Outcome:
        if known is not None and known.status == "solved" and self._surveys is not None \
                and self._surveys(message, known):
            return Outcome(known, None)  # a satisfaction score, not a reopening
        first = known is not None and known.status == "new" and known.version == 0
        base = TicketPatch(status="open") if first or (known and known.status in REOPENED_BY_CUSTOMER) \
            else TicketPatch()
        cause = Cause(id=f"msg:{message.id}", actor=ChangeActor.customer(message.customer_id),
                      at=message.received_at, reason="triaged" if first else "the customer wrote")
        return self._triaged("ticket.created" if first else "message.created", known, message, customer, base, cause)

    def _triaged(self, trigger: str, known: Ticket | None, message: Message, customer: Customer | None,
                 base: TicketPatch, cause: Cause, *, rules_as: ChangeActor | None = None) -> Outcome:
        """Run the trigger's rules on top of ``base``, save the change for ``cause`` (the rules'
        actor when they fired, or ``rules_as`` with their chain), their side effects, then
        assignment when the ticket is open and nobody's: a first message and a hand-off alike."""
        triage = self._triage(trigger, known, message, customer)
        if triage.actor is not None:
            actor = triage.actor if rules_as is None else rules_as.model_copy(
                update={"rule_chain": triage.actor.rule_chain})
            cause = replace(cause, actor=actor)
        outcome = self._service.change(
            message.tenant_id, message.ticket_id, base.merged_with(triage.patch), cause, known=known,
            facts=lambda ticket: {"awaiting_since": ticket.awaiting_since or message.received_at})
        if triage.after is not None and outcome.saved is not None:
            triage.after(outcome)
        ticket = outcome.ticket
        if self._assign is not None and ticket.status == "open" and ticket.assignee_id is None \
                and outcome.saved is not None:
            self._assign(ticket.tenant_id, ticket.id, ticket)  # routed: an online agent takes it, or it waits
        return outcome

    def _agent_replied(self, message: Message, known: Ticket | None) -> Outcome:
        """The first response; a ``new`` ticket (one the assistant held, say) becomes ``open``:
        an agent took it over (decided on the ticket as read: a reply's item carries no state)."""
        actor = ChangeActor(kind="agent", id=message.author_id, name=message.author_name)
        cause = Cause(id=f"msg:{message.id}", actor=actor, at=message.received_at, reason="an agent replied")
        return self._service.change(
            message.tenant_id, message.ticket_id, TicketPatch(), cause, known=known,
            facts=lambda ticket: {"first_response_at": ticket.first_response_at or message.received_at,
                                  "awaiting_since": None, "sla": followed_up(ticket, message)}
            | ({"status": "open"} if ticket.status == "new" else {}))

    def _noted(self, message: Message) -> Outcome | None:
        """An agent's note meets a low score's follow-up (the supervisor called back)."""
        if (message.author_id or "").startswith(AUTOMATIC_AUTHORS):
            return None
        actor = ChangeActor(kind="agent", id=message.author_id, name=message.author_name)
        cause = Cause(id=f"msg:{message.id}", actor=actor, at=message.received_at, reason="an agent's note")
        return self._service.change(message.tenant_id, message.ticket_id, TicketPatch(), cause,
                                    facts=lambda ticket: {"sla": followed_up(ticket, message)})

    def _triage(self, trigger: str, known: Ticket | None, message: Message, customer: Customer | None) -> Triage:
        if self._rules is None or known is None:
            return Triage(TicketPatch())
        return self._rules(trigger, known, message, customer)


def followed_up(ticket: Ticket, message: Message) -> list[SlaTarget]:
    """The ticket's targets with a running ``follow_up`` met by an agent's reply or note."""
    return [t.model_copy(update={"state": "met" if t.state != "breached" else t.state,
                                 "done_at": message.received_at})
            if t.metric == "follow_up" and t.done_at is None and t.started_at <= message.received_at else t
            for t in ticket.sla]


def known_ticket(image: dict[str, Any], message: Message) -> Ticket | None:
    """The ticket as the message found it, from the item's ``ticket_state`` (a new
    ticket: its defaults); ``None`` for items written before the state was kept."""
    state = image.get("ticket_state")
    if state is None:
        return None
    item = {"ticket_id": message.ticket_id, "tenant_id": message.tenant_id, "customer_id": message.customer_id,
            "channel": message.channel, "created_at": message.received_at,
            "last_activity_at": message.received_at} | dict(state)
    return ticket_of(item)


def customer_as_found(image: dict[str, Any], message: Message) -> Customer | None:
    """The customer's tags and attributes as linking the message read them back (the
    item's ``customer_state``): what rules look at, so they need not read the customer.
    Only those (no name or identities: :func:`chalicelib.storage.conversations.customer_state`);
    ``None`` for items without it (replies, older items)."""
    state = image.get("customer_state")
    if not isinstance(state, dict):
        return None
    return Customer(id=message.customer_id, tenant_id=message.tenant_id, identities=[],
                    created_at=state["created_at"], tags=list(state.get("tags") or ()),
                    attributes=dict(state.get("attributes") or {}))
