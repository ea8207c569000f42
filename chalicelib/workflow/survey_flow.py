"""回访: the satisfaction survey's way through the workflow.

1. **Solved** (a history entry whose status became ``solved``): the survey is
   scheduled — one per solve (its id derives from the solve), a timer at solved +
   the tenant's delay.
2. **The timer** (``survey``): if the ticket is still solved, the channel's window
   is checked (WeChat 48 h, web 24 h, an SMS opt-out …); outside it the survey is
   recorded ``not_sent`` with the reason (never sent anyway). Else the question goes
   out as a reply (email and web get five signed one-click links too), idempotent by
   its ``client_message_id``, and the survey is marked sent.
3. **The answer**: a customer's message on a ticket whose survey is out is read as
   a score ("5", "五分", "★★★★", …) and recorded as CSAT — not as a reopening. A
   comment right after the score is added to it.
4. **A low score** (≤ the tenant's threshold): the ticket gets a follow-up task — the
   ``csat_follow_up`` tag, priority high, and a ``follow_up`` SLA target due in the
   tenant's hours (24 by default) for a supervisor; an agent's reply or note meets it.
   ``csat.received`` reaches the connectors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from switchboard_sdk import EventEnvelope, Message, SlaTarget, Ticket

from ..outbound.posting import MessagePoster
from ..storage.conventions import iso
from ..storage.ids import event_id_for
from ..storage.store import TicketStore
from ..storage.tickets import Timer
from ..tenancy.workflow_settings import SurveySettings
from .changes import ChangeActor, TicketPatch, Transition
from .csat import read_reply
from .scheduler import DueTimer, NothingToDo
from .service import Cause, Outcome, WorkflowService
from .surveys import Survey, SurveyStore, answer_deadline, compose_survey, link_urls, survey_id_for, window_check

log = logging.getLogger(__name__)
FOLLOW_UP_TAG = "csat_follow_up"
SURVEY_AUTHOR = ("system:survey", "Satisfaction survey")
Notify = Callable[[EventEnvelope], object]  # an event for every connector of the tenant


class SurveyFlow:
    def __init__(self, store: TicketStore, surveys: SurveyStore, service: WorkflowService, poster: MessagePoster,
                 settings_of: Callable[[str], SurveySettings], link_key: Callable[[], bytes],
                 base_url: Callable[[str], str], announce: Notify) -> None:
        self._store = store
        self._surveys = surveys
        self._service = service
        self._poster = poster
        self._settings_of = settings_of
        self._link_key = link_key
        self._base_url = base_url
        self._announce = announce

    # 1. solved -------------------------------------------------------------------

    def on_change(self, ticket: Ticket, transition: Transition) -> None:
        """A reaction to a ticket's change: schedule the survey when it was solved."""
        solved = any(c.field == "status" and c.after == "solved" for c in transition.changes)
        settings = self._settings_of(ticket.tenant_id)
        if not solved or not settings.enabled or ticket.solved_at is None:
            return
        send_after = ticket.solved_at + timedelta(minutes=settings.delay_minutes)
        survey = Survey(tenant_id=ticket.tenant_id, ticket_id=ticket.id, channel=ticket.channel,
                        survey_id=survey_id_for(ticket.tenant_id, ticket.id, iso(ticket.solved_at)),
                        state="scheduled", language=ticket.language, agent_id=ticket.assignee_id,
                        customer_id=ticket.customer_id, scheduled_at=iso(transition.at), send_after=iso(send_after))
        if self._surveys.of(ticket.tenant_id).schedule(survey):
            self._store.tickets(ticket.tenant_id).add_timer(ticket, Timer("survey", send_after), transition.at)

    # 2. the timer ----------------------------------------------------------------

    def send(self, timer: DueTimer, now: datetime) -> None:
        surveys = self._surveys.of(timer.tenant_id)
        survey = surveys.get(timer.ticket_id)
        if survey is None or survey.state != "scheduled":
            raise NothingToDo
        ticket = self._store.tickets(timer.tenant_id).load(timer.ticket_id)
        last = self._last_customer_message(ticket)
        reason = "the ticket was reopened before the survey went out" if ticket.status != "solved" else \
            window_check(ticket.channel, last.received_at if last else None, now,
                         last_customer_text=last.text if last else None,
                         sub_channel=last.metadata.get("twilio_channel") if last else None)
        if reason is not None:
            surveys.mark_not_sent(ticket.id, survey.survey_id, reason, now)
            self._record(ticket, f"survey:{survey.survey_id}:not_sent", now, "survey_not_sent", reason)
            return
        settings = self._settings_of(ticket.tenant_id)
        until = answer_deadline(now, settings)
        base = self._base_url(ticket.tenant_id)  # no public URL (a bare deployment): the question only
        links = link_urls(base, ticket.tenant_id, ticket.id, survey.survey_id, self._link_key(), until) \
            if ticket.channel in ("email", "web") and base else []
        text = compose_survey(settings, survey.language, ticket.channel, links)
        posted = self._poster.post(ticket, text, author_id=SURVEY_AUTHOR[0], author_name=SURVEY_AUTHOR[1],
                                   client_message_id=f"survey:{survey.survey_id}")
        surveys.mark_sent(ticket.id, survey.survey_id, now, until, message_id=posted.id)
        self._record(ticket, f"survey:{survey.survey_id}:sent", now, "survey_sent", "")

    # 3. the answer ---------------------------------------------------------------

    def answer(self, message: Message, ticket: Ticket) -> bool:
        """``True`` when the customer's message answered the ticket's survey (recorded;
        the ticket is not reopened)."""
        surveys = self._surveys.of(message.tenant_id)
        survey = surveys.get(ticket.id)
        if survey is None or survey.state not in ("sent", "answered"):
            return False
        reading = read_reply(message.text)
        if survey.state == "answered":
            return reading.kind == "comment" and surveys.add_comment(survey, reading.text)
        if reading.answer is None:
            return False
        result = surveys.record_answer(ticket.id, survey.survey_id, reading.answer, message.received_at,
                                       via="reply", reply_message_id=message.id)
        return result in ("recorded", "already_answered")  # what follows: on_survey, behind the stream

    def on_survey(self, image: dict[str, Any], old: dict[str, Any] | None) -> None:
        """A survey item changed: when it became answered (by a reply or a link), what follows."""
        if image.get("state") != "answered" or (old or {}).get("state") == "answered":
            return
        survey = Survey.model_validate({k: v for k, v in image.items() if k in Survey.model_fields})
        ticket = self._store.tickets(survey.tenant_id).load(survey.ticket_id)
        at = datetime.fromisoformat(str(survey.answered_at).replace("Z", "+00:00")) if survey.answered_at \
            else ticket.last_activity_at
        self.after_answer(ticket, int(survey.score or 0), survey.comment, at)

    # 4. after an answer (a reply, or a link) --------------------------------------

    def after_answer(self, ticket: Ticket, score: int, comment: str | None, at: datetime) -> None:
        settings = self._settings_of(ticket.tenant_id)
        survey = self._surveys.of(ticket.tenant_id).get(ticket.id)
        self._announce(_csat_event(ticket, score, comment, at, survey))
        self._record(ticket, f"csat:{survey.survey_id if survey else at}", at, "csat_received", f"score {score}")
        if score > settings.follow_up_threshold:
            return
        due = at + timedelta(hours=settings.follow_up_sla_hours)
        target = SlaTarget(metric="follow_up", policy_id="csat", started_at=at, due_at=due,
                           warn_at=due - timedelta(hours=min(2, settings.follow_up_sla_hours / 4)),
                           target_minutes=settings.follow_up_sla_hours * 60)
        self._service.change(ticket.tenant_id, ticket.id, TicketPatch(add_tags=[FOLLOW_UP_TAG], priority="high"),
                             Cause(id=f"csat-follow-up:{survey.survey_id if survey else iso(at)}",
                                   actor=ChangeActor.system("survey"), at=at,
                                   reason=f"satisfaction score {score}: a supervisor follows up"),
                             facts=lambda t: {"sla": [*[s for s in t.sla if s.metric != "follow_up"], target]})

    # -- helpers -------------------------------------------------------------------

    def _last_customer_message(self, ticket: Ticket) -> Message | None:
        messages = self._store.reads(ticket.tenant_id).get_ticket(ticket.id, message_limit=200)[1]
        return next((m for m in reversed(messages) if m.direction == "inbound"), None)

    def _record(self, ticket: Ticket, cause: str, at: datetime, event: str, reason: str) -> Outcome:
        return self._service.change(ticket.tenant_id, ticket.id, TicketPatch(), Cause(
            id=cause, actor=ChangeActor.system("survey"), at=at, event=event, reason=reason))


def _csat_event(ticket: Ticket, score: int, comment: str | None, at: datetime, survey: Survey | None) -> EventEnvelope:
    survey_id = survey.survey_id if survey else iso(at)
    return EventEnvelope.model_validate({
        "id": event_id_for("csat.received", ticket.tenant_id, f"{ticket.id}#{survey_id}"), "type": "csat.received",
        "tenant_id": ticket.tenant_id, "ticket_id": ticket.id, "occurred_at": at,
        "data": {"ticket": ticket.model_dump(mode="json"),
                 "csat": {"score": score, "comment": comment, "agent_id": survey.agent_id if survey else None,
                          "channel": ticket.channel, "at": iso(at)}}})
