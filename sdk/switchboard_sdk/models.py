"""Pydantic v2 models shared by the hub and every plugin.

Inbound: a channel plugin turns a provider request into :class:`InboundMessage`
objects. Stored: the hub keeps :class:`Customer`, :class:`Ticket` and
:class:`Message`. Outbound: connectors receive :class:`EventEnvelope` and answer
with a :class:`DeliveryOutcome`. JSON Schemas of these are exported to
``docs/schemas/`` (``make schemas``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IdentityKind = Literal["email", "phone", "visitor", "wechat_openid", "wechat_unionid"]
TicketStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed", "merged"]
""" ``new``: arrived, not triaged yet. ``open``: routed, being worked. ``pending``: waiting for
the customer. ``on_hold``: waiting for a third party. ``solved``: answered; a customer
message reopens it. ``closed``: final; a customer message opens a follow-up ticket.
``merged``: its messages moved to ``Ticket.merged_into``."""
TicketPriority = Literal["urgent", "high", "normal", "low"]
Stage = Literal["accept", "triage", "handle", "resolve", "follow_up"]
""" The five stages of a case: 受理 accept, 分诊 triage, 处理 handle, 反馈 resolve, 回访 follow-up."""
SlaMetric = Literal["first_response", "next_response", "resolution", "follow_up"]
""" ``follow_up``: after a low satisfaction score, a supervisor's follow-up (回访) is due."""
SlaState = Literal["active", "paused", "warning", "breached", "met"]
EventType = Literal[
    "ticket.created", "message.created", "message.failed", "message.sent", "ticket.updated", "ticket.assigned",
    "ticket.sla_warning", "ticket.sla_breached", "csat.received",
]
DeliveryStatus = Literal["queued", "sent", "delivered", "read", "failed"]
MessageKind = Literal["message", "call", "voicemail", "transcription", "event", "delivery_failure"]
""" ``message``: something a customer wrote. ``call``: a phone call. ``voicemail`` /
``transcription``: what a call left behind. ``event``: a provider notification
(subscribe, missed call, ...). ``delivery_failure``: a bounce of something we sent."""

TICKET_PREFIX = "tkt_"
_TICKET_REF = re.compile(r"[A-Z2-7]{26}")

_PHONE_JUNK = re.compile(r"[\s().\-]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class _Model(BaseModel):
    # defer_build: schemas are built on first use, so a function that never
    # touches a model (the webhook path never builds an EventEnvelope) never pays for it
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Identity(_Model):
    """One way to reach a customer on a channel, normalised so the same person
    meets themselves across channels (an E.164 phone from SMS and from the web
    form is one identity)."""

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)

    @field_validator("value")
    @classmethod
    def _normalise(cls, value: str, info: Any) -> str:
        kind = info.data.get("kind")
        value = value.strip()
        if kind == "email":
            if value.count("@") != 1 or value.startswith("@") or value.endswith("@"):
                raise ValueError("not an email address")
            return value.lower()
        if kind == "phone":
            phone = _PHONE_JUNK.sub("", value)
            if phone.startswith("00"):
                phone = "+" + phone[2:]
            if not _E164.fullmatch(phone):
                raise ValueError("phone numbers must be in E.164 form, e.g. +14155550100")
            return phone
        return value

    @property
    def key(self) -> str:
        """``kind:value``, the form used in store keys."""
        return f"{self.kind}:{self.value}"


class CustomerProfile(_Model):
    """Who sent an inbound message, as far as the channel knows."""

    identities: list[Identity] = Field(min_length=1)
    display_name: str | None = Field(default=None, max_length=200)


def ticket_ref(ticket_id: str) -> str:
    """The short public reference of a ticket, for subject tags (``[#REF]``) and
    plus-addresses (``support+REF@``): the ticket id without prefix, upper case."""
    return ticket_id.removeprefix(TICKET_PREFIX).upper()


def ticket_id_from_ref(ref: str) -> str | None:
    """The ticket id a reference names, or ``None`` if it is not one of ours."""
    ref = ref.strip().upper()
    return TICKET_PREFIX + ref.lower() if _TICKET_REF.fullmatch(ref) else None


class AttachmentRef(_Model):
    """An attachment: a provider URL, or bytes the hub stores in S3 for you.

    A plugin that has the bytes (an email part) sets ``content`` and leaves ``url``
    empty; the hub uploads them and fills ``url`` with the ``s3://`` reference
    before anything is stored. ``content`` is never serialised.
    """

    url: str | None = Field(default=None, max_length=2048)
    content_type: str | None = None
    filename: str | None = Field(default=None, max_length=512)
    size_bytes: int | None = Field(default=None, ge=0)
    inline: bool = False
    content: bytes | None = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _has_a_source(self) -> AttachmentRef:
        if self.url is None and self.content is None:
            raise ValueError("an attachment needs a url or content")
        return self


class ThreadHints(_Model):
    """Clues that a message continues an existing conversation, strongest first.

    ``ticket_refs``: ticket references the hub issued, found in the message
    (a plus-address token, a subject tag; see :func:`ticket_ref`).
    ``provider_ids``: provider message ids of earlier messages on the same channel
    that this one answers or belongs to (email In-Reply-To/References, a CallSid).
    The hub follows a hint only when the sender is the customer of the ticket it
    leads to: a stranger quoting a ticket reference never lands in that ticket.
    """

    ticket_refs: list[str] = Field(default_factory=list, max_length=10)
    provider_ids: list[str] = Field(default_factory=list, max_length=50)


class InboundMessage(_Model):
    """A provider message normalised by a channel plugin.

    ``provider_message_id`` is the de-duplication key: the hub stores at most one
    message per (tenant, channel, provider_message_id), so it must be the same on
    every redelivery of the same provider message.

    ``customer`` may be ``None`` only for follow-ups that name what they follow
    in ``thread.provider_ids`` (a recording callback carries the CallSid, not the
    caller): the hub then takes customer and ticket from that earlier message.
    ``opens_ticket=False`` (auto-replies, bounces, provider events) joins a
    ticket a hint or the customer's open ticket leads to, and otherwise stays in
    the inbound record only.

    ``sender_authenticated`` is the provider's verdict on ``customer``: ``True``
    when it proved the sender (email: DMARC, or SPF/DKIM aligned with From),
    ``False`` when the check failed — the identity may be forged, so the hub never
    adds such a message to an existing ticket — and ``None`` when the channel
    cannot say.
    """

    tenant_id: str
    channel: str
    provider_message_id: str = Field(min_length=1, max_length=512)
    kind: MessageKind = "message"
    customer: CustomerProfile | None
    subject: str | None = Field(default=None, max_length=1000)
    text: str = Field(default="", max_length=100_000)
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=100)
    received_at: datetime
    sent_at: datetime | None = None
    thread: ThreadHints = Field(default_factory=ThreadHints)
    opens_ticket: bool = True
    metadata: dict[str, str] = Field(default_factory=dict)
    raw_payload_ref: str | None = None
    sender_authenticated: bool | None = None

    @model_validator(mode="after")
    def _someone_or_something_to_follow(self) -> InboundMessage:
        if self.customer is None and not self.thread.provider_ids:
            raise ValueError("a message without a customer must name what it follows in thread.provider_ids")
        return self


class Customer(_Model):
    """A person, with every identity they reached us by. ``tags`` and ``attributes``
    (``vip``, ``complaint_risk: high``, …) are set by agents, rules and connectors;
    ``merged_into`` names the customer this one was merged into (undone by unmerge)."""

    id: str
    tenant_id: str
    display_name: str | None = None
    identities: list[Identity]
    created_at: datetime
    tags: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)
    merged_into: str | None = None


class SlaTarget(_Model):
    """One running SLA target of a ticket: ``metric`` is due at ``due_at`` (``None`` while
    ``paused``: ``remaining_seconds`` of the target are left), warned at ``warn_at``.
    ``business_hours``: the clock runs only in the tenant's business hours."""

    metric: SlaMetric
    policy_id: str
    state: SlaState = "active"
    started_at: datetime
    due_at: datetime | None = None
    warn_at: datetime | None = None
    target_minutes: int = Field(ge=1)
    business_hours: bool = False
    remaining_seconds: int | None = None
    done_at: datetime | None = None


class Ticket(_Model):
    """A case. Its stage follows from ``status`` (and for ``open``, whether someone
    owns it): see :func:`stage_of`. ``version`` grows with every change of the
    workflow fields; ``sla`` lists every running target, not only the nearest."""

    id: str
    tenant_id: str
    customer_id: str
    status: TicketStatus = "new"
    channel: str
    subject: str = ""
    created_at: datetime
    last_activity_at: datetime
    priority: TicketPriority = "normal"
    tags: list[str] = Field(default_factory=list)
    category: str | None = None
    language: str | None = None
    assignee_id: str | None = None
    group_id: str | None = None
    merged_into: str | None = None
    follow_up_of: str | None = None
    solved_at: datetime | None = None
    first_response_at: datetime | None = None
    awaiting_since: datetime | None = None
    sla_policy_id: str | None = None  # the SLA policy a rule or an agent chose (else the first that matches)
    updated_at: datetime | None = None  # its last workflow change (status, priority, assignee, …)
    sla: list[SlaTarget] = Field(default_factory=list)
    version: int = 0


def stage_of(status: TicketStatus, assignee_id: str | None = None) -> Stage | None:
    """The stage of a ticket in ``status``: ``new`` → accept; ``open`` → triage while nobody
    owns it, handle once assigned; ``pending``/``on_hold`` → handle; ``solved`` → resolve;
    ``closed`` → follow_up; ``merged`` → none (it left the flow)."""
    if status == "open":
        return "handle" if assignee_id else "triage"
    return _STAGES.get(status)


_STAGES: dict[str, Stage] = {"new": "accept", "pending": "handle", "on_hold": "handle", "solved": "resolve",
                             "closed": "follow_up"}


class Message(_Model):
    """A message on a ticket. Inbound: what a customer wrote. Outbound: a reply an
    agent wrote (``author_*``), sent to the customer on the ticket's channel, with
    its delivery ``status`` (``queued → sent → delivered | failed``, ``read`` where
    the provider says so), the provider's id once sent (``provider_message_id``
    is ``out:<id>`` until then), and on failure the provider's ``error_code`` and
    a human ``error_reason``. ``internal`` marks an agent's note: stored, never sent."""

    id: str
    tenant_id: str
    ticket_id: str
    customer_id: str
    direction: Literal["inbound", "outbound"] = "inbound"
    kind: MessageKind = "message"
    channel: str
    provider_message_id: str
    subject: str | None = None
    text: str = ""
    attachments: list[AttachmentRef] = Field(default_factory=list)
    received_at: datetime
    metadata: dict[str, str] = Field(default_factory=dict)
    raw_payload_ref: str | None = None
    status: DeliveryStatus | None = None
    status_at: datetime | None = None
    author_id: str | None = None
    author_name: str | None = None
    internal: bool = False
    error_code: str | None = None
    error_reason: str | None = None
    client_message_id: str | None = None


class EventEnvelope(_Model):
    """What connectors receive, versioned by ``schema_version``.

    ``id`` is stable: the same store change always yields the same id, so
    receivers de-duplicate on it. ``data`` holds ``{"ticket": Ticket}`` for
    ``ticket.created`` and ``{"message": Message, "ticket_subject": str}`` for
    ``message.created``, each with ``"customer": Customer`` (identities: email,
    phone, …) when known. ``ticket_subject`` is the subject of the message's
    ticket (its first message's; the message's own is ``message.subject``), absent
    for messages stored before the hub wrote it. ``message.failed`` carries the
    same ``data`` as ``message.created`` for a reply that could not be sent
    (``message.error_code``/``error_reason`` say why).
    """

    id: str
    type: EventType
    schema_version: Literal["1"] = "1"
    tenant_id: str
    ticket_id: str
    occurred_at: datetime
    data: dict[str, Any]


class DeliveryOutcome(_Model):
    """A connector's classified result for one delivery attempt.

    ``delivered``: done. ``retry``: transient, try again (after
    ``retry_after_seconds`` when the receiver said so). ``failed``: permanent;
    the event goes to the dead-letter queue with ``reason``.
    ``reason`` is shown to tenants: never put secrets in it.
    """

    kind: Literal["delivered", "retry", "failed"]
    status_code: int | None = None
    reason: str = ""
    retry_after_seconds: float | None = Field(default=None, ge=0)

    @classmethod
    def delivered(cls, status_code: int | None = None) -> DeliveryOutcome:
        return cls(kind="delivered", status_code=status_code)

    @classmethod
    def retry(
        cls, reason: str, *, status_code: int | None = None, after: float | None = None
    ) -> DeliveryOutcome:
        return cls(kind="retry", reason=reason, status_code=status_code, retry_after_seconds=after)

    @classmethod
    def failed(cls, reason: str, *, status_code: int | None = None) -> DeliveryOutcome:
        return cls(kind="failed", reason=reason, status_code=status_code)


EXPORTED_MODELS: tuple[type[BaseModel], ...] = (
    Identity,
    ThreadHints,
    InboundMessage,
    Customer,
    Ticket,
    Message,
    EventEnvelope,
    DeliveryOutcome,
)
