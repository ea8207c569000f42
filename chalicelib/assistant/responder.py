"""The assistant answering customers: the ``answer_customers`` function (SQS, ten jobs a
batch, partial batch failures), behind the stream, never on the webhook path.

Per job (:class:`~.jobs.AnswerJob`): the ticket is read; unless the assistant still
holds it (``new``, no agent's reply yet: an agent taking over ends its part) nothing is
done. The tenant's model (``models``, cached per container); none → the ticket is
released to people (never stuck). Then, for the customer's message:

1. a person asked for (:func:`~.decisions.asks_for_person`) → hand-off, "asked for a person";
2. the previous answer did not help (:func:`~.decisions.says_unhelpful`) → a strike
   (``assistant.feedback``), and a short "sorry" — or, at the tenant's ``unhelpful_limit``
   strikes in a row, a hand-off "two unhelpful answers in a row";
3. otherwise classify and propose: confident (≥ the threshold) with an answer → it is
   posted (``assistant.answered``); else a clarifying line (``assistant.unsure``, a
   strike; at the limit, the hand-off instead).

Every decision is a ticket history entry (``WorkflowService.change`` with the cause
``assistant:<message>:<kind>``): a job delivered twice records nothing twice, and a
reply's ``client_message_id`` is that same key, so nothing is sent twice. Strikes are
counted from that history, so any container may take the next message. Numbers in a
decision's ``detail`` (confidence, threshold) are decimal strings: the table keeps no floats.

A job that fails for a passing reason is reported (``batchItemFailures``) and comes
back; one that never can, or one that reaches the dead-letter queue
(:meth:`AssistantResponder.dead_letters`), releases its ticket to people: "assistant
unavailable".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk import InvalidInput, Message, NotFound, PluginRegistry, SwitchboardError, Ticket
from switchboard_sdk.assistant import AssistantConfig, AssistantQuery, Classification, ProposedAnswer

from ..logs import log_context, log_event
from ..storage.aws import error_code
from ..storage.store import TicketStore
from ..workflow.changes import ChangeActor, TicketPatch
from ..workflow.service import Cause, Outcome, WorkflowService
from . import decisions as rules
from .handoff import HandsOff, Voice, decision_key, hand_off, line, text_language
from .jobs import AnswerJob
from .models_store import CurrentModel

log = logging.getLogger(__name__)
Report = dict[str, list[dict[str, str]]]
ASKED = "asked for a person"
UNHELPFUL = "two unhelpful answers in a row"
UNAVAILABLE = "assistant unavailable"
_REFUSED = frozenset({"ValidationException", "SerializationException", "AccessDenied", "AccessDeniedException",
                      "ResourceNotFoundException", "NoSuchKey", "NoSuchBucket"})


def held(ticket: Ticket) -> bool:
    """Whether the assistant still holds ``ticket``: untriaged, and no agent answered it."""
    return ticket.status == "new" and ticket.first_response_at is None


def answers_on(config: AssistantConfig, channel: str) -> bool:
    return not config.channels or channel in config.channels


def holds(trained_config: Callable[[str], AssistantConfig | None], message: Message) -> bool:
    """For the workflow engine: the tenant's assistant answers this message's channel with a
    trained model (so the ticket waits for it instead of being routed)."""
    config = trained_config(message.tenant_id)
    return config is not None and answers_on(config, message.channel)


def passing(err: BaseException) -> bool:
    """May ``err`` pass by itself (try the job again) rather than recur every time?"""
    if isinstance(err, SwitchboardError):
        return err.retryable
    code = error_code(err) if isinstance(err, Exception) else ""
    if code:
        return code not in _REFUSED
    return isinstance(err, (ConnectionError, TimeoutError)) or type(err).__module__.startswith("botocore")


def number(value: float) -> str:
    return f"{value:.4f}"


@dataclass(frozen=True)
class Turn:
    """One customer message the assistant is deciding on, with what it decides from."""

    ticket: Ticket
    message: Message
    model: CurrentModel
    history: list[dict[str, Any]]

    @property
    def strikes(self) -> int:
        """Strikes before this message (its own decisions, from an earlier delivery, left out)."""
        return rules.strikes(self.history, skip_message=self.message.id)

    @property
    def strikes_before_complaint(self) -> int:
        """Strikes before this message, which says the latest answer did not help (that
        answer's turn is this message's strike, not one before it)."""
        return rules.strikes(self.history, skip_message=self.message.id, complaining=True)

    def base(self) -> dict[str, Any]:
        return {"message_id": self.message.id, "threshold": number(self.model.threshold)}


class AssistantResponder:
    def __init__(self, store: TicketStore, workflow: WorkflowService, engine: HandsOff, voice: Voice,
                 registry: PluginRegistry, models: Callable[[str], CurrentModel | None],
                 language_of: Callable[[str], str], clock: Callable[[], datetime]) -> None:
        self._store = store
        self._workflow = workflow
        self._engine = engine
        self._voice = voice
        self._registry = registry
        self._models = models
        self._language_of = language_of
        self._clock = clock

    # -- the functions ------------------------------------------------------------------

    def process(self, records: Iterable[dict[str, Any]]) -> Report:
        """``answer_customers``: each job answered; those that may pass are reported to come back."""
        return self._each(records, self.answer)

    def dead_letters(self, records: Iterable[dict[str, Any]]) -> Report:
        """The answering queue's dead letters: their tickets go to people, never stuck."""
        return self._each(records, lambda job: self.release(job, UNAVAILABLE))

    def _each(self, records: Iterable[dict[str, Any]], handle: Callable[[AnswerJob], object]) -> Report:
        failures = []
        for record in records:
            try:
                job = AnswerJob.parse(str(record.get("body", "")))
            except InvalidInput:
                log.error("not an answering job; dropped (message %s)", record.get("messageId"))
                continue
            with log_context(tenant=job.tenant_id):
                if not self._handled(job, handle):
                    failures.append({"itemIdentifier": str(record.get("messageId", ""))})
        return {"batchItemFailures": failures}

    def _handled(self, job: AnswerJob, handle: Callable[[AnswerJob], object]) -> bool:
        """``False``: try the job again later. A failure that will recur releases the ticket."""
        try:
            handle(job)
            return True
        except Exception as err:
            if passing(err):
                log.warning("answering job for ticket %s failed; it comes back", job.ticket_id, exc_info=True)
                return False
            log.exception("answering job for ticket %s cannot be done; the ticket goes to people", job.ticket_id)
        try:
            self.release(job, UNAVAILABLE)
            return True
        except Exception as err:
            log.exception("ticket %s could not be released", job.ticket_id)
            return not passing(err)

    # -- one message ----------------------------------------------------------------------

    def answer(self, job: AnswerJob) -> str:
        """Decide on one customer message; what was decided (or why nothing was)."""
        ticket = self._store.tickets(job.tenant_id).load(job.ticket_id)
        if not held(ticket):
            return "not held"
        message = self._store.reads(job.tenant_id).get_message(job.ticket_id, job.received_at, job.message_id)
        model = self._models(job.tenant_id)
        if model is None:  # gone since the stream held the ticket (disabled, or no model here): people take it
            self._hand_off(ticket, message, None, UNAVAILABLE, None, {}, notify=False)
            return "released"
        if not answers_on(model.config, ticket.channel):
            return "not this channel"  # never held: the engine routed it
        turn = Turn(ticket, message, model, self._store.tickets(job.tenant_id).history(ticket.id))
        decided = self._decide(turn)
        log_event(log, "assistant.decided", ticket=ticket.id, message=message.id, decision=decided,
                  plugin=model.plugin, model_version=model.version)
        return decided

    def _decide(self, turn: Turn) -> str:
        text, config = turn.message.text or "", turn.model.config
        if rules.asks_for_person(text, config.handoff_phrases):
            self._hand_off(turn.ticket, turn.message, turn.model.plugin, ASKED, rules.last_intent(turn.history),
                           turn.base(), language=text_language(text))
            return "handed_off"
        previous = rules.last_answer(rules.decisions(turn.history, skip_message=turn.message.id))
        if previous is not None and rules.says_unhelpful(text):
            return self._complaint(turn, previous)
        query = AssistantQuery(tenant_id=turn.ticket.tenant_id, text=text[:20_000], language=turn.ticket.language,
                               channel=turn.ticket.channel)
        plugin, handle = turn.model.plugin, turn.model.handle
        classification = self._registry.classify(plugin, handle, query, config)
        proposal = self._registry.answer(plugin, handle, query, classification, config)
        top = classification.top
        if top is not None and top.confidence >= turn.model.threshold and proposal is not None:
            return self._answered(turn, classification, proposal)
        return self._unsure(turn, classification, proposal)

    def _answered(self, turn: Turn, classification: Classification, proposal: ProposedAnswer) -> str:
        top = classification.top
        assert top is not None
        key = decision_key(turn.message.id, "answered")
        reply = self._voice.say(turn.ticket, proposal.text, turn.model.plugin, key,
                                metadata={"assistant_article": proposal.article_id})
        detail = turn.base() | {"intent": top.intent, "confidence": number(top.confidence),
                                "article_id": proposal.article_id, "reply_id": reply.id, "language": proposal.language,
                                "reason": "confident enough to answer"}
        self._record(turn.ticket, turn.message.id, rules.ANSWERED, turn.model.plugin, detail, turn.message.received_at)
        return "answered"

    def _unsure(self, turn: Turn, classification: Classification, proposal: ProposedAnswer | None) -> str:
        top = classification.top
        reason = "no answer for it" if proposal is None and top is not None and \
            top.confidence >= turn.model.threshold else "below the threshold"
        detail = turn.base() | {"intent": top.intent if top else None,
                                "confidence": number(top.confidence if top else 0.0), "reason": reason}
        self._record(turn.ticket, turn.message.id, rules.UNSURE, turn.model.plugin, detail, turn.message.received_at)
        language = classification.language or turn.ticket.language or self._language_of(turn.ticket.tenant_id)
        if turn.strikes + 1 >= turn.model.config.unhelpful_limit:
            intent = (top.intent if top else None) or rules.last_intent(turn.history)
            self._hand_off(turn.ticket, turn.message, turn.model.plugin, UNHELPFUL, intent, detail, language=language)
            return "handed_off"
        self._voice.say(turn.ticket, line("unsure", language), turn.model.plugin,
                        decision_key(turn.message.id, "unsure"))
        return "unsure"

    def _complaint(self, turn: Turn, previous: dict[str, Any]) -> str:
        """The customer said the last answer did not help: a strike, then sorry or a hand-off."""
        answered = previous.get("detail") or {}
        detail = turn.base() | {"intent": answered.get("intent"), "helpful": False,
                                "reply_id": answered.get("reply_id"), "reason": "the customer said it did not help"}
        self._record(turn.ticket, turn.message.id, rules.FEEDBACK, turn.model.plugin, detail, turn.message.received_at)
        language = text_language(turn.message.text) or answered.get("language") or turn.ticket.language \
            or self._language_of(turn.ticket.tenant_id)
        if turn.strikes_before_complaint + 1 >= turn.model.config.unhelpful_limit:
            self._hand_off(turn.ticket, turn.message, turn.model.plugin, UNHELPFUL, rules.last_intent(turn.history),
                           detail, language=language)
            return "handed_off"
        self._voice.say(turn.ticket, line("sorry", language), turn.model.plugin, decision_key(turn.message.id, "sorry"))
        return "feedback"

    # -- shared steps ---------------------------------------------------------------------

    def _record(self, ticket: Ticket, about: str, event: str, plugin: str | None, detail: dict[str, Any], at: datetime,
                patch: TicketPatch | None = None) -> Outcome:
        """A decision as the ticket's history entry, once per ``about`` and kind: the entry's key
        holds ``at`` too, so a decision about a message is dated by the message."""
        cause = Cause(id=decision_key(about, event.rsplit(".", 1)[-1]), actor=ChangeActor.assistant(plugin),
                      at=at, reason=str(detail.get("reason", "")), event=event, detail=detail)
        return self._workflow.change(ticket.tenant_id, ticket.id, patch or TicketPatch(), cause, known=ticket)

    def _hand_off(self, ticket: Ticket, message: Message, plugin: str | None, reason: str, intent: str | None,
                  detail: dict[str, Any], *, notify: bool = True, language: str | None = None) -> Outcome:
        language = language or text_language(message.text) or ticket.language or self._language_of(ticket.tenant_id)
        outcome = hand_off(self._engine, self._voice, ticket, message, plugin=plugin, reason=reason,
                           intent=intent, detail=detail, language=language, notify=notify)
        log_event(log, "assistant.handed_off", ticket=ticket.id, message=message.id, reason=reason)
        return outcome

    # -- the widget's buttons, and letting go -----------------------------------------------

    def release(self, job: AnswerJob, reason: str) -> None:
        """Hand the job's ticket to people if the assistant still holds it (no notice)."""
        ticket = self._store.tickets(job.tenant_id).load(job.ticket_id)
        if not held(ticket):
            return
        message = self._store.reads(job.tenant_id).get_message(job.ticket_id, job.received_at, job.message_id)
        history = self._store.tickets(job.tenant_id).history(ticket.id)
        self._hand_off(ticket, message, self._plugin_of(job.tenant_id), reason, rules.last_intent(history), {},
                       notify=False)

    def hand_off(self, tenant_id: str, ticket_id: str, reason: str) -> None:
        """The customer asked for a person outside a message (the widget's button)."""
        ticket = self._store.tickets(tenant_id).load(ticket_id)
        if not held(ticket):
            return  # people have it already
        message = self._last_customer_message(tenant_id, ticket_id)
        history = self._store.tickets(tenant_id).history(ticket_id)
        self._hand_off(ticket, message, self._plugin_of(tenant_id), reason or ASKED, rules.last_intent(history), {})

    def feedback(self, tenant_id: str, ticket_id: str, reply_id: str, helpful: bool) -> None:
        """The customer's verdict on one of the assistant's answers (the widget's "Did this help?").
        Helpful: the ticket is solved by the assistant. Not helpful: a strike — sorry, or the
        hand-off at the limit. Once per answer and verdict."""
        tickets = self._store.tickets(tenant_id)
        ticket, history = tickets.load(ticket_id), tickets.history(ticket_id)
        answered = next((e for e in rules.decisions(history) if e.get("event") == rules.ANSWERED
                         and (e.get("detail") or {}).get("reply_id") == reply_id), None)
        if answered is None:
            raise NotFound("no answer of the assistant with this id on the ticket")
        before = answered.get("detail") or {}
        plugin = str((answered.get("actor") or {}).get("id") or "") or None
        detail = {"message_id": before.get("message_id"), "intent": before.get("intent"), "reply_id": reply_id,
                  "helpful": helpful, "reason": "the customer said it helped" if helpful else
                  "the customer said it did not help"}
        about = f"{reply_id}:{'helpful' if helpful else 'unhelpful'}"
        if any(e.get("cause") == decision_key(about, "feedback") for e in history):
            return  # said already (a double click): its entry's time was the first click's
        solve = TicketPatch(status="solved") if helpful and held(ticket) else None
        self._record(ticket, about, rules.FEEDBACK, plugin, detail, self._clock(), solve)
        if not helpful and held(ticket):
            self._after_complaint(tenant_id, ticket_id, reply_id, plugin, before)

    def _after_complaint(self, tenant_id: str, ticket_id: str, reply_id: str, plugin: str | None,
                         answered: dict[str, Any]) -> None:
        tickets = self._store.tickets(tenant_id)
        ticket, history = tickets.load(ticket_id), tickets.history(ticket_id)
        model = self._models(tenant_id)
        limit = model.config.unhelpful_limit if model is not None else 1
        language = answered.get("language") or ticket.language or self._language_of(tenant_id)
        if rules.strikes(history) >= limit:
            message = self._last_customer_message(tenant_id, ticket_id)
            self._hand_off(ticket, message, plugin, UNHELPFUL, rules.last_intent(history), {}, language=language)
        else:
            self._voice.say(ticket, line("sorry", language), plugin, decision_key(reply_id, "sorry"))

    def _last_customer_message(self, tenant_id: str, ticket_id: str) -> Message:
        _, messages = self._store.reads(tenant_id).get_ticket(ticket_id)
        found = [m for m in messages if m.direction == "inbound" and not m.internal]
        if not found:
            raise NotFound("the ticket has no message of the customer")
        return found[-1]

    def _plugin_of(self, tenant_id: str) -> str | None:
        try:
            model = self._models(tenant_id)
        except Exception:  # releasing must not depend on the model that could not be had
            log.warning("no model to name in the hand-off", exc_info=True)
            return None
        return None if model is None else model.plugin
