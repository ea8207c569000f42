"""Replies: what the hub hands a channel plugin to send, and what the plugin answers.

An agent's reply is stored first (status ``queued``), then sent by the delivery
worker through the ticket's channel plugin (:func:`~.hookspecs.switchboard_channel_send`)
with an :class:`OutboundMessage`; the plugin calls its provider's API and answers
with a classified :class:`SendOutcome`. Later, the provider's delivery-status
callbacks arrive on the channel's webhook and the plugin turns them into
:class:`StatusUpdate` values (:func:`~.hookspecs.switchboard_channel_status`).

Statuses move forward only: ``queued → sent → delivered → read``; ``failed`` may
follow ``queued`` or ``sent`` (a carrier that gives up after accepting). The hub
applies an update only if it moves the message forward, so callbacks that
arrive late or twice change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from .models import AttachmentRef, DeliveryStatus, Identity
from .transport import DeliveryContext

__all__ = ["STATUS_RANK", "DeliveryStatus", "IssuedToken", "MemoryTokens", "OutboundMessage", "ReplyContext",
           "SendContext", "SendOutcome", "SharedTokens", "StatusUpdate"]

STATUS_RANK: dict[str, int] = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
"""Order of statuses; an update applies only when it ranks above the current one
(``failed`` ranks last but never follows ``delivered`` or ``read``)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ReplyContext(_Model):
    """The customer's latest message on the ticket's channel: what a reply answers.

    ``metadata`` is that message's own (as its channel plugin parsed it: the
    number the customer wrote to, the mailbox, the WeChat account); ``references``
    are the provider ids of the conversation's earlier messages on this channel,
    oldest first (email ``References``), including replies the hub sent.
    """

    provider_message_id: str
    received_at: datetime
    subject: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    references: list[str] = Field(default_factory=list, max_length=50)


class OutboundMessage(_Model):
    """One reply to send, as the hub stored it.

    ``id`` is the hub's message id: stable across attempts, so send it as the
    provider's idempotency key where the provider has one. ``to`` is the
    customer's identity on this channel (phone, email, WeChat openid, web
    visitor). ``ticket_ref`` is the ticket's public reference (subject tags,
    plus-addresses: :func:`~.models.ticket_ref`). ``last_inbound_at`` and
    ``replies_since_inbound`` let a plugin check a provider's reply window and
    budget before calling (WeChat: 48 hours; WhatsApp: 24). ``status_callback_url``
    is this tenant's webhook URL for the channel, where the provider should post
    delivery statuses (``None`` when the hub does not know its public URL).
    """

    id: str
    tenant_id: str
    channel: str
    ticket_id: str
    ticket_ref: str
    customer_id: str
    to: Identity
    text: str = Field(default="", max_length=100_000)
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=10)
    subject: str = ""
    author_name: str | None = None
    replying_to: ReplyContext | None = None
    last_inbound_at: datetime | None = None
    replies_since_inbound: int = Field(default=0, ge=0)
    status_callback_url: str | None = None
    created_at: datetime


SendKind = Literal["sent", "delivered", "retry", "failed", "window_closed"]


class SendOutcome(_Model):
    """A channel plugin's classified result of one send attempt.

    ``sent``: the provider accepted it (``provider_message_id`` is its id; status
    callbacks will name it). ``delivered``: the provider confirmed delivery in its
    answer (a business backend that took the reply). ``retry``: a passing failure
    (429, 5xx, no answer); the hub tries again after a backoff, or after
    ``retry_after_seconds``. ``failed``: permanent (bad number, unsubscribed,
    refused credentials). ``window_closed``: the provider only lets the business
    answer within a time after the customer's last message, and it has passed;
    permanent until the customer writes again.

    ``code`` is the provider's own error code (Twilio ``21610``, WeChat
    ``45015``); ``reason`` is shown to agents, in words ("WeChat: the 48-hour
    reply window has closed"), never with secrets.
    """

    kind: SendKind
    provider_message_id: str | None = Field(default=None, max_length=512)
    code: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=2000)
    status_code: int | None = None
    retry_after_seconds: float | None = Field(default=None, ge=0)

    @classmethod
    def sent(cls, provider_message_id: str, *, delivered: bool = False, status_code: int | None = None
             ) -> SendOutcome:
        return cls(kind="delivered" if delivered else "sent", provider_message_id=provider_message_id,
                   status_code=status_code)

    @classmethod
    def retry(cls, reason: str, *, code: str | None = None, status_code: int | None = None,
              after: float | None = None) -> SendOutcome:
        return cls(kind="retry", reason=reason, code=code, status_code=status_code, retry_after_seconds=after)

    @classmethod
    def failed(cls, reason: str, *, code: str | None = None, status_code: int | None = None) -> SendOutcome:
        return cls(kind="failed", reason=reason, code=code, status_code=status_code)

    @classmethod
    def window_closed(cls, reason: str, *, code: str | None = None) -> SendOutcome:
        return cls(kind="window_closed", reason=reason, code=code)


class StatusUpdate(_Model):
    """A provider's word on a message it accepted: ``provider_message_id`` as it
    answered the send; ``code``/``reason`` as for :class:`SendOutcome` (failures)."""

    provider_message_id: str = Field(min_length=1, max_length=512)
    status: Literal["sent", "delivered", "read", "failed"]
    code: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=2000)
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class IssuedToken:
    """An access token as a provider issued it: its value and lifetime in seconds."""

    value: str
    expires_in: float


class SharedTokens(Protocol):
    """Provider access tokens shared by every container of the deployment.

    Keys are the plugin's own (e.g. the WeChat app id); the hub scopes them to the
    tenant and plugin. The hub keeps each token in its table: a container that
    finds none (or an expired one) claims the refresh in one conditional write and
    calls ``fetch``; the others wait for its result instead of fetching too, so a
    provider that allows few token fetches a day sees one per token lifetime.
    """

    def get(self, key: str, fetch: Callable[[], IssuedToken], *, rejected: str | None = None) -> str:
        """The current token under ``key``; ``fetch`` is called only when there is
        none, it expired, or it equals ``rejected`` (the provider just refused it:
        WeChat ``40001``/``42001``). Raises what ``fetch`` raises."""
        ...


class MemoryTokens:
    """A dict-backed :class:`SharedTokens` for one process (tests, the conformance suite)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.tokens: dict[str, tuple[str, float]] = {}
        self.fetches = 0
        self._clock = clock

    def get(self, key: str, fetch: Callable[[], IssuedToken], *, rejected: str | None = None) -> str:
        import time

        now = self._clock().timestamp() if self._clock else time.time()
        held = self.tokens.get(key)
        if held is not None and held[1] > now and held[0] != rejected:
            return held[0]
        issued = fetch()
        self.fetches += 1
        self.tokens[key] = (issued.value, now + max(0.0, issued.expires_in))
        return issued.value


@dataclass
class SendContext(DeliveryContext):
    """:class:`~.transport.DeliveryContext` plus what sending needs: ``tokens``, the
    deployment's shared token cache, and ``aws``, a factory of the deployment's
    boto3 clients (``context.aws("sesv2")``) for channels that send through AWS
    itself; ``None`` where there is none (the conformance suite)."""

    tokens: SharedTokens = field(default_factory=MemoryTokens)
    aws: Callable[[str], Any] | None = None
