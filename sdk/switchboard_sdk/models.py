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

from pydantic import BaseModel, ConfigDict, Field, field_validator

IdentityKind = Literal["email", "phone", "visitor", "wechat_openid", "wechat_unionid"]
TicketStatus = Literal["open", "pending", "solved", "closed"]
EventType = Literal["ticket.created", "message.created"]

_PHONE_JUNK = re.compile(r"[\s().\-]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


class AttachmentRef(_Model):
    """An attachment kept elsewhere (provider URL or our S3 key), never inline."""

    url: str = Field(max_length=2048)
    content_type: str | None = None
    filename: str | None = None
    size_bytes: int | None = Field(default=None, ge=0)


class InboundMessage(_Model):
    """A provider message normalised by a channel plugin.

    ``provider_message_id`` is the de-duplication key: the hub stores at most one
    message per (tenant, channel, provider_message_id), so it must be the same on
    every redelivery of the same provider message.
    """

    tenant_id: str
    channel: str
    provider_message_id: str = Field(min_length=1, max_length=256)
    customer: CustomerProfile
    text: str = Field(default="", max_length=100_000)
    attachments: list[AttachmentRef] = Field(default_factory=list)
    received_at: datetime
    sent_at: datetime | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    raw_payload_ref: str | None = None


class Customer(_Model):
    id: str
    tenant_id: str
    display_name: str | None = None
    identities: list[Identity]
    created_at: datetime


class Ticket(_Model):
    id: str
    tenant_id: str
    customer_id: str
    status: TicketStatus = "open"
    channel: str
    subject: str = ""
    created_at: datetime
    last_activity_at: datetime


class Message(_Model):
    id: str
    tenant_id: str
    ticket_id: str
    customer_id: str
    direction: Literal["inbound", "outbound"] = "inbound"
    channel: str
    provider_message_id: str
    text: str = ""
    attachments: list[AttachmentRef] = Field(default_factory=list)
    received_at: datetime
    metadata: dict[str, str] = Field(default_factory=dict)
    raw_payload_ref: str | None = None


class EventEnvelope(_Model):
    """What connectors receive, versioned by ``schema_version``.

    ``id`` is stable: the same store change always yields the same id, so
    receivers de-duplicate on it. ``data`` holds ``{"ticket": Ticket}`` for
    ``ticket.created`` and ``{"message": Message}`` for ``message.created``.
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
    InboundMessage,
    Customer,
    Ticket,
    Message,
    EventEnvelope,
    DeliveryOutcome,
)
