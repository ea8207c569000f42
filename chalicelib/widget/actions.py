"""What a visitor does besides writing: answer the survey, rate the assistant's answer, ask
for a person. Each names a ticket; it must be the visitor's own (their identity links to
its customer), else 404 as for a ticket that does not exist — nothing to probe.

CSAT goes through the survey's own store (:meth:`Surveys.record_answer`: ``sent →
answered`` and the CSAT item in one transaction), so it is recorded once whichever way
it comes (a reply, a link, the widget) and what follows (``csat.received``, a low
score's follow-up) happens behind the stream as for the others. The assistant's
feedback and hand-off are the assistant's own calls (``hub.assistant_responder``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from switchboard_sdk import Conflict, NotFound, Ticket
from switchboard_sdk.visitor_tokens import VisitorClaims

from ..storage.store import TicketStore
from ..workflow.csat import CsatAnswer
from ..workflow.surveys import SurveyStore
from .conversation import Conversations

TicketId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}$")]
HAND_OFF_REASON = "the visitor asked for a person (widget)"


class AssistantActions(Protocol):
    """The assistant's side of the widget's buttons (H3b's ``hub.assistant_responder``)."""

    def feedback(self, tenant_id: str, ticket_id: str, reply_id: str, helpful: bool) -> None: ...

    def hand_off(self, tenant_id: str, ticket_id: str, reason: str) -> None: ...


class CsatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ticket_id: TicketId
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ticket_id: TicketId
    reply_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}$")]
    helpful: bool


class HandOffRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ticket_id: TicketId


@dataclass
class VisitorActions:
    store: TicketStore
    surveys: SurveyStore
    conversations: Conversations
    assistant: Callable[[str], AssistantActions | None]  # the tenant's, or None: it has no assistant
    clock: Callable[[], datetime]

    def _own_ticket(self, claims: VisitorClaims, ticket_id: str) -> Ticket:
        try:
            ticket = self.store.reads(claims.tenant).ticket(ticket_id)
        except NotFound:
            ticket = None
        if ticket is None or not self.conversations.owns(claims, ticket):
            raise NotFound("no such conversation")
        return ticket

    def csat(self, claims: VisitorClaims, asked: CsatRequest) -> dict[str, object]:
        """The score of the ticket's survey, once: 409 when it was answered or has closed."""
        self._own_ticket(claims, asked.ticket_id)
        surveys = self.surveys.of(claims.tenant)
        survey = surveys.get(asked.ticket_id)
        if survey is None or survey.state not in ("sent", "answered"):
            raise NotFound("no survey is open on this conversation")
        outcome = surveys.record_answer(asked.ticket_id, survey.survey_id, CsatAnswer(asked.score, asked.comment),
                                        self.clock(), via="link")  # one click, as a survey link
        if outcome == "already_answered":
            raise Conflict("this survey was already answered")
        if outcome != "recorded":
            raise Conflict("this survey is closed")
        return {"status": "recorded", "score": asked.score}

    def feedback(self, claims: VisitorClaims, asked: FeedbackRequest) -> dict[str, object]:
        """"Did this help?" on one of the assistant's answers in the visitor's conversation."""
        self._own_ticket(claims, asked.ticket_id)
        reply = self.store.replies(claims.tenant).find(asked.ticket_id, asked.reply_id)
        if reply.direction != "outbound" or not (reply.author_id or "").startswith("assistant:"):
            raise NotFound("no such answer of the assistant in this conversation")
        responder = self.assistant(claims.tenant)
        if responder is None:
            raise NotFound("the assistant does not answer on this widget")
        responder.feedback(claims.tenant, asked.ticket_id, asked.reply_id, asked.helpful)
        return {"status": "recorded", "helpful": asked.helpful}

    def hand_off(self, claims: VisitorClaims, asked: HandOffRequest) -> dict[str, object]:
        """"Talk to a person": the assistant lets go of the ticket and routing finds an agent.
        Without an assistant the ticket is with people already."""
        self._own_ticket(claims, asked.ticket_id)
        responder = self.assistant(claims.tenant)
        if responder is None:
            return {"status": "with_people"}
        responder.hand_off(claims.tenant, asked.ticket_id, HAND_OFF_REASON)
        return {"status": "handed_off"}
