# ruff: noqa: RUF001, RUF002  (full-width and CJK punctuation is what this module reads and writes)
"""Satisfaction surveys (回访): the tenant's settings, when a channel lets one go out,
its text, signed one-click links, and the survey's item in the table.

A survey is one item per ticket (``keys.survey``, in the ticket's partition), moving
``scheduled`` → ``sent`` | ``not_sent`` (with the reason) → ``answered``. Every move is
a conditional write, so a survey is sent at most once and answered at most once
whatever retries or concurrent Lambdas do. An answer is written in one transaction
with its copy in the tenant's CSAT partition (``keys.csat_partition``, sort key
``<answered_at>#<ticket id>``), which reports Query by time.

Decisions (documented for the lead):

- One survey per ticket. A ticket solved again after an answered (or sent) survey is
  not surveyed again (customers are not asked twice about one case); one whose survey
  could not be sent (``not_sent``) may be scheduled again (the customer wrote since,
  the window may be open).
- The first answer counts. A later reply or click with a score changes nothing; its
  words, or a follow-up message with words and no score, are added to the comment
  (:meth:`Surveys.add_comment`) within ``comment_window_hours`` of the answer.
- Answers are taken until ``answer_until`` (sent + ``expires_hours``), the links' expiry too.
- Windows (:func:`window_check`): WeChat customer-service messages go out only within
  48 hours of the follower's last message (WeChat's 客服消息 rule, 5 messages each);
  WhatsApp sessions 24 hours; SMS has no window but a customer whose last message was
  an opt-out keyword (STOP, 退订, …) gets nothing; web chat only while the visitor's
  session is recent — 24 hours since they last wrote (a visitor who left a day ago is
  not on the page; the survey would wait unseen in a widget they may never reopen);
  email has no window. A 5-minute margin keeps a survey from missing the window in flight.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from switchboard_sdk import BadPayload, Forbidden

from ..storage.aws import write_together
from ..storage.conventions import iso
from ..storage.items import from_item, to_item
from ..storage.keys import Key, TenantKeys, component, valid_tenant_id
from ..storage.table import TenantTable
from ..tenancy.workflow_settings import SurveySettings
from .csat import MAX_COMMENT, CsatAnswer

SurveyState = Literal["scheduled", "sent", "not_sent", "answered"]
AnsweredVia = Literal["reply", "link"]
LINK_CHANNELS = frozenset({"email", "web"})
WINDOW_MARGIN = timedelta(minutes=5)
WINDOWS = {"wechat": timedelta(hours=48), "whatsapp": timedelta(hours=24), "web": timedelta(hours=24)}
# Twilio's and the carriers' opt-out words (Twilio handles STOP, STOPALL, UNSUBSCRIBE, CANCEL,
# END, QUIT, REVOKE, OPTOUT); TD / 退订 are China's carriers'. START / UNSTOP / YES opt back in.
OPT_OUT_WORDS = frozenset({"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke",
                           "optout", "opt-out", "opt out", "td", "退订", "arret"})
LINK_PREFIX = "/csat/"
MAX_TOKEN_CHARS = 400
_LINK_VERSION = "1"
_KEY_LABEL = b"switchboard/csat-link/v1/"


# -- channels --------------------------------------------------------------------


def is_opt_out(text: str) -> bool:
    """Whether a customer's message is an SMS opt-out keyword (the whole message, any case)."""
    return text.strip().strip(".!。！").lower() in OPT_OUT_WORDS


def window_check(channel: str, last_customer_message_at: datetime | None, now: datetime, *,
                 last_customer_text: str | None = None, sub_channel: str | None = None) -> str | None:
    """Why a survey cannot go out on ``channel`` now, or ``None`` when it can.
    ``sub_channel``: Twilio's (``sms``, ``mms``, ``whatsapp``: the message's ``twilio_channel``
    metadata); ``last_customer_text``: the customer's last message (an SMS opt-out)."""
    kind = "whatsapp" if channel == "twilio" and sub_channel == "whatsapp" else channel
    if kind not in {"email", "web", "wechat", "twilio", "whatsapp", "widget"}:  # widget: no window, it polls
        return f"the {channel} channel does not carry surveys"
    if kind == "twilio" and last_customer_text is not None and is_opt_out(last_customer_text):
        return "the customer opted out of SMS (their last message was an opt-out keyword)"
    window = WINDOWS.get(kind)
    if window is None:
        return None
    if last_customer_message_at is None:
        return f"{kind}: no message from the customer opens the {_hours(window)}-hour window"
    if now >= last_customer_message_at + window - WINDOW_MARGIN:
        return f"{kind}: the {_hours(window)}-hour window since the customer's last message has closed"
    return None


def _hours(window: timedelta) -> int:
    return int(window.total_seconds() // 3600)


def compose_survey(settings: SurveySettings, language: str | None, channel: str,
                   links: Sequence[str] = ()) -> str:
    """The survey's text in ``language``; on email and web with the five one-click links
    (``links``: the URLs for scores 1–5, from :func:`link_urls`)."""
    text = settings.text_for(language)
    if channel not in LINK_CHANNELS or not links:
        return text
    if len(links) != 5:
        raise ValueError("five links, one per score")
    lines = [f"{score} {'★' * score}{'☆' * (5 - score)}  {url}" for score, url in enumerate(links, start=1)]
    return "\n\n".join(part for part in (text, settings.link_text_for(language), "\n".join(lines)) if part)


# -- signed one-click links --------------------------------------------------------


class LinkClaims(BaseModel):
    """What a verified link says: this tenant's ticket's survey, answered with ``score``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tenant_id: str
    ticket_id: str
    survey_id: str
    score: int = Field(ge=1, le=5)
    expires_at: datetime


def tenant_link_key(signing_key: bytes, tenant_id: str) -> bytes:
    """The tenant's own link key, derived from the hub's: one tenant's key signs nothing of another's."""
    if len(signing_key) < 16:
        raise ValueError("the signing key must have at least 16 bytes")
    return hmac.new(signing_key, _KEY_LABEL + tenant_id.encode(), hashlib.sha256).digest()


def link_token(tenant_id: str, ticket_id: str, survey_id: str, score: int, signing_key: bytes,
               expires_at: datetime) -> str:
    """A self-contained token: the payload (base64url) and its HMAC-SHA256 (base64url)."""
    if not valid_tenant_id(tenant_id) or not 1 <= score <= 5:
        raise ValueError("a valid tenant and a score 1–5")
    if "|" in ticket_id + survey_id:
        raise ValueError("ids cannot contain |")
    payload = "|".join([_LINK_VERSION, tenant_id, ticket_id, survey_id, str(score),
                        str(int(expires_at.timestamp()))]).encode()
    mac = hmac.new(tenant_link_key(signing_key, tenant_id), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def link_for(tenant_id: str, ticket_id: str, survey_id: str, score: int, signing_key: bytes,
             expires_at: datetime) -> str:
    """The link's path, ``/csat/<token>`` (the caller puts the tenant's public base URL before it)."""
    return LINK_PREFIX + link_token(tenant_id, ticket_id, survey_id, score, signing_key, expires_at)


def link_urls(base_url: str, tenant_id: str, ticket_id: str, survey_id: str, signing_key: bytes,
              expires_at: datetime) -> list[str]:
    """The five links of a survey, scores 1–5, as absolute URLs."""
    base = base_url.rstrip("/")
    return [base + link_for(tenant_id, ticket_id, survey_id, s, signing_key, expires_at) for s in range(1, 6)]


def verify_link(token: str, signing_key: bytes, now: datetime) -> LinkClaims:
    """The claims of a link this hub signed. :class:`BadPayload` (400) for a malformed or
    expired link, :class:`Forbidden` (403) for a forged one (checked before expiry)."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise BadPayload("this survey link is not valid")
    encoded, _, signature = token.partition(".")
    try:
        payload, mac = _unb64(encoded), _unb64(signature)
        version, tenant_id, ticket_id, survey_id, score, expiry = payload.decode().split("|")
        expires_at = datetime.fromtimestamp(int(expiry), UTC)
    except (ValueError, UnicodeDecodeError, OverflowError, OSError) as err:
        raise BadPayload("this survey link is not valid") from err
    if version != _LINK_VERSION or not valid_tenant_id(tenant_id) or not score.isdigit() or len(score) != 1:
        raise BadPayload("this survey link is not valid")
    expected = hmac.new(tenant_link_key(signing_key, tenant_id), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise Forbidden("this survey link was not issued by us")
    if now >= expires_at:
        raise BadPayload("this survey link has expired")
    return LinkClaims(tenant_id=tenant_id, ticket_id=ticket_id, survey_id=survey_id, score=int(score),
                      expires_at=expires_at)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- the survey's item ---------------------------------------------------------------


class Survey(BaseModel):
    """A ticket's survey as stored (and answered by ``GET /v1/tickets/{id}/survey``)."""

    model_config = ConfigDict(extra="forbid")
    tenant_id: str
    ticket_id: str
    survey_id: str
    state: SurveyState
    channel: str
    language: str | None = None
    agent_id: str | None = Field(default=None, description="Who solved the ticket.")
    customer_id: str | None = None
    scheduled_at: str
    send_after: str = Field(description="Solved + the tenant's delay: when it may go out.")
    sent_at: str | None = None
    survey_message_id: str | None = Field(default=None, description="The survey's outbound message.")
    answer_until: str | None = None
    not_sent_reason: str | None = None
    not_sent_at: str | None = None
    score: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = None
    answered_at: str | None = None
    answered_via: AnsweredVia | None = None
    reply_message_id: str | None = Field(default=None, description="The customer's message that answered.")
    expires_at: int | None = Field(default=None, description="TTL (epoch seconds), the tenant's retention.")


def survey_id_for(tenant_id: str, ticket_id: str, solved_at: str) -> str:
    """The same id for the same solve: scheduling it twice names one survey."""
    digest = hashlib.sha256(f"{tenant_id}|{ticket_id}|{solved_at}".encode()).digest()
    return "svy_" + base64.b32encode(digest[:15]).decode().lower()


Recorded = Literal["recorded", "already_answered", "closed", "missing"]


class SurveyStore:
    """Hands out each tenant's surveys (tenant scoping lives in the keys)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def of(self, tenant_id: str) -> Surveys:
        return Surveys(self._db, self._table, TenantKeys(tenant_id))


class Surveys(TenantTable):
    """One tenant's surveys: reads and conditional transitions."""

    def get(self, ticket_id: str) -> Survey | None:
        item = self._get(self.keys.survey(ticket_id))
        return Survey.model_validate(_fields(item)) if item else None

    def schedule(self, survey: Survey) -> bool:
        """Put a ``scheduled`` survey unless the ticket has one (only a ``not_sent`` one is replaced)."""
        self._check_tenant(survey.tenant_id)
        if survey.state != "scheduled":
            raise ValueError("a new survey is scheduled")
        item = self.keys.survey(survey.ticket_id) | to_item(survey.model_dump() | {"type": "survey"})
        put = {"Put": {"TableName": self._table, "Item": item,
                       "ConditionExpression": "attribute_not_exists(pk) OR #st = :not_sent",
                       "ExpressionAttributeNames": {"#st": "state"},
                       "ExpressionAttributeValues": to_item({":not_sent": "not_sent"})}}
        return write_together(self._db, [put])[0]

    def sent_write(self, ticket_id: str, survey_id: str, at: datetime, answer_until: datetime,
                   message_id: str | None = None) -> dict[str, Any]:
        """The ``scheduled → sent`` move as a TransactItems element, to write with the
        survey's outbound message (so the survey is marked sent exactly when it is queued)."""
        values = {":sent": "sent", ":sid": survey_id, ":at": iso(at), ":until": iso(answer_until),
                  ":scheduled": "scheduled"} | ({":m": message_id} if message_id else {})
        update = "SET #st = :sent, sent_at = :at, answer_until = :until" + (", survey_message_id = :m"
                                                                             if message_id else "")
        return {"Update": {"TableName": self._table, "Key": self.keys.survey(ticket_id), "UpdateExpression": update,
                           "ConditionExpression": "#st = :scheduled AND survey_id = :sid",
                           "ExpressionAttributeNames": {"#st": "state"},
                           "ExpressionAttributeValues": to_item(values)}}

    def mark_sent(self, ticket_id: str, survey_id: str, at: datetime, answer_until: datetime,
                  message_id: str | None = None) -> bool:
        """``scheduled → sent``, once; ``False`` when it was sent, not sent or replaced meanwhile."""
        return write_together(self._db, [self.sent_write(ticket_id, survey_id, at, answer_until, message_id)])[0]

    def mark_not_sent(self, ticket_id: str, survey_id: str, reason: str, at: datetime) -> bool:
        """``scheduled → not_sent`` with the reason (a closed window, an opt-out, …)."""
        return self._update_if(self.keys.survey(ticket_id),
                               "SET #st = :not_sent, not_sent_reason = :r, not_sent_at = :at",
                               "#st = :scheduled AND survey_id = :sid",
                               {":not_sent": "not_sent", ":r": reason[:500], ":at": iso(at),
                                ":scheduled": "scheduled", ":sid": survey_id}, names={"#st": "state"})

    def record_answer(self, ticket_id: str, survey_id: str, answer: CsatAnswer, at: datetime, *,
                      via: AnsweredVia, reply_message_id: str | None = None) -> Recorded:
        """``sent → answered``, with the CSAT item, in one transaction: ``recorded``; else
        ``already_answered``, ``closed`` (not sent, or past ``answer_until``) or ``missing``."""
        survey = self.get(ticket_id)
        if survey is None or survey.survey_id != survey_id:
            return "missing"
        if survey.state == "answered":
            return "already_answered"
        if survey.state != "sent" or survey.answer_until is None or iso(at) >= survey.answer_until:
            return "closed"
        answered = survey.model_copy(update={"state": "answered", "score": answer.score, "answered_at": iso(at),
                                             "comment": answer.comment, "answered_via": via,
                                             "reply_message_id": reply_message_id})
        if all(write_together(self._db, [self._answer_write(answered), self._csat_put(answered)])):
            return "recorded"
        return "already_answered" if (now := self.get(ticket_id)) and now.state == "answered" else "closed"

    def add_comment(self, survey: Survey, text: str) -> bool:
        """Add ``text`` to an answered survey's comment (and its CSAT item's), if nobody
        changed the comment since ``survey`` was read; ``False`` otherwise (read again)."""
        if survey.state != "answered" or survey.answered_at is None or not text.strip():
            return False
        comment = (f"{survey.comment}\n{text.strip()}" if survey.comment else text.strip())[:MAX_COMMENT]
        unchanged = "#c = :was" if survey.comment else "attribute_not_exists(#c)"
        values = {":c": comment, ":at": survey.answered_at} | ({":was": survey.comment} if survey.comment else {})
        on_survey = {"Update": {"TableName": self._table, "Key": self.keys.survey(survey.ticket_id),
                                "UpdateExpression": "SET #c = :c",
                                "ConditionExpression": f"answered_at = :at AND {unchanged}",
                                "ExpressionAttributeNames": {"#c": "comment"},
                                "ExpressionAttributeValues": to_item(values)}}
        on_report = {"Update": {"TableName": self._table, "Key": self._csat_key(survey),
                                "UpdateExpression": "SET #c = :c", "ConditionExpression": "attribute_exists(pk)",
                                "ExpressionAttributeNames": {"#c": "comment"},
                                "ExpressionAttributeValues": to_item({":c": comment})}}
        return all(write_together(self._db, [on_survey, on_report]))

    def answers(self, since: datetime, until: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Answered surveys of the tenant with ``since <= answered_at < until`` (reports; one Query page)."""
        result = self._db.query(TableName=self._table, KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                                ExpressionAttributeValues=to_item({":p": self.keys.csat_partition(),
                                                                   ":a": iso(since), ":b": iso(until)}),
                                Limit=max(1, min(limit, 1000)), ConsistentRead=True)
        return [_fields(from_item(i)) for i in result.get("Items", [])]

    def _answer_write(self, answered: Survey) -> dict[str, Any]:
        fields = {k: v for k, v in answered.model_dump().items()
                  if k in {"state", "score", "comment", "answered_at", "answered_via", "reply_message_id"}
                  and v is not None}
        names = {f"#f{n}": k for n, k in enumerate(fields)}
        values = {f":f{n}": v for n, v in enumerate(fields.values())}
        values |= {":sent": "sent", ":sid": answered.survey_id, ":now": answered.answered_at}
        return {"Update": {"TableName": self._table, "Key": self.keys.survey(answered.ticket_id),
                           "UpdateExpression": "SET " + ", ".join(f"#f{n} = :f{n}" for n in range(len(fields))),
                           "ConditionExpression": "#st = :sent AND survey_id = :sid AND answer_until > :now",
                           "ExpressionAttributeNames": names | {"#st": "state"},
                           "ExpressionAttributeValues": to_item(values)}}

    def _csat_key(self, survey: Survey) -> Key:
        assert survey.answered_at is not None
        sort_key = f"{survey.answered_at}#{component(survey.ticket_id)}"
        return {"pk": {"S": self.keys.csat_partition()}, "sk": {"S": sort_key}}

    def _csat_put(self, answered: Survey) -> dict[str, Any]:
        keep = {"tenant_id", "ticket_id", "survey_id", "score", "comment", "agent_id", "channel", "language",
                "customer_id", "answered_at", "answered_via", "expires_at"}
        fields = answered.model_dump(include=keep) | {"type": "csat"}
        return {"Put": {"TableName": self._table, "Item": self._csat_key(answered) | to_item(fields),
                        "ConditionExpression": "attribute_not_exists(pk)"}}


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in {"pk", "sk", "type"}}


def answer_deadline(sent_at: datetime, settings: SurveySettings) -> datetime:
    """Until when a survey sent at ``sent_at`` takes answers (and its links stay valid)."""
    return sent_at + timedelta(hours=settings.expires_hours)
