"""The worker's side of replies: one send job → one attempt through the channel plugin.

A job sends only while its reply is ``queued`` at the job's generation: a job
delivered twice, or overtaken by an agent's retry, finds the reply sent (or
re-queued under a newer generation) and is acknowledged without a call. The
one window in which a customer can get a reply twice: the provider accepted it
and the worker stopped before recording ``sent`` (a crash, a timeout of the
table write); the job comes back and sends again. Providers without an
idempotency key (Twilio, WeChat, Mailgun, SES) cannot close it; the window is
the time between the provider's answer and one UpdateItem.

Outcomes: ``sent``/``delivered`` record the provider's id; ``retry`` waits out a
backoff (the job's visibility, like connector jobs) until the attempts run out;
``failed``, ``window_closed`` and the last ``retry`` mark the reply ``failed``
with the provider's code and reason, which the ticket shows and a
``message.failed`` event carries to connectors. The failed reply is the dead
letter: an agent's retry (``POST …/messages/{id}/retry``) sends it again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from switchboard_sdk import (
    HttpTransport,
    Message,
    NotFound,
    PluginConfigError,
    PluginRegistry,
    SendContext,
    SendOutcome,
    SharedTokens,
)

from ..logs import log_event
from ..settings import Settings
from ..storage.store import TicketStore
from ..tenancy.tenants import TenantDirectory
from .compose import Conversation, outbound_message

log = logging.getLogger(__name__)
ATTEMPT_RECORD_SECONDS = 14 * 24 * 3600  # the queue's retention


class Breakers(Protocol):
    """The endpoints' circuit breakers (chalicelib.pipeline.breaker.CircuitBreakers)."""

    def wait_seconds(self, tenant_id: str, connector: str) -> float: ...
    def record(self, tenant_id: str, connector: str, *, transient_failure: bool) -> None: ...


class SendOrder(Protocol):
    """What a send job names (chalicelib.pipeline.jobs.SendJob)."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def ticket_id(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def received_at(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def generation(self) -> int: ...


@dataclass
class ReplySender:
    settings: Settings
    registry: PluginRegistry
    tenants: TenantDirectory
    store: TicketStore
    clock: Callable[[], datetime]
    transport: HttpTransport
    breakers: Breakers  # per (tenant, "send:<channel>")
    backoff: Callable[[int, float | None], int]  # (attempt, retry-after) → seconds
    tokens: Callable[[str, str], SharedTokens]  # (tenant, channel) → that channel's shared tokens
    aws: Callable[[str], Any] | None = None

    def handle(self, record: dict[str, Any], job: SendOrder) -> int | None:
        """``None`` when the job is finished, else seconds until it may be tried again."""
        replies = self.store.replies(job.tenant_id)
        item = replies.get_item(job.ticket_id, job.received_at, job.message_id)
        if item is None or item.get("status") != "queued" or int(item.get("send_generation", 0)) != job.generation:
            log.info("reply %s is not waiting to be sent (generation %s): nothing to do", job.message_id,
                     job.generation)
            return None
        endpoint = f"send:{job.channel}"
        wait = self.breakers.wait_seconds(job.tenant_id, endpoint)
        if wait > 0:  # the provider is resting: wait without spending an attempt
            return math.ceil(wait)
        reply = Message.model_validate({k: v for k, v in item.items() if k in Message.model_fields})
        attempt = self._attempt_number(record, job)
        outcome = self._send(reply, job, attempt)
        self.breakers.record(job.tenant_id, endpoint, transient_failure=outcome.kind == "retry")
        log_event(log, "reply.attempt", tenant=job.tenant_id, plugin=job.channel, ticket=job.ticket_id,
                  message=job.message_id, attempt=attempt, outcome=outcome.kind, code=outcome.code,
                  reason=outcome.reason)
        return self._settle(reply, job, attempt, outcome, item.get("expires_at"))

    def _settle(self, reply: Message, job: SendOrder, attempt: int, outcome: SendOutcome, expires: Any) -> int | None:
        replies, now = self.store.replies(job.tenant_id), self.clock()
        if outcome.kind in ("sent", "delivered"):
            replies.mark_sent(reply, job.generation, outcome.provider_message_id or reply.id,
                              delivered=outcome.kind == "delivered", at=now,
                              expires_at=None if expires is None else int(expires))
            return None
        if outcome.kind == "retry":
            if self._count_failure(job) < self.settings.max_delivery_attempts:
                return self.backoff(attempt, outcome.retry_after_seconds)
            reason = f"gave up after {attempt} attempts; last: {outcome.reason}"
        else:
            reason = outcome.reason or f"the provider refused the message ({outcome.kind})"
        code = outcome.code or ("window_closed" if outcome.kind == "window_closed" else None)
        replies.mark_failed(reply, job.generation, code, reason, at=now)
        return None

    def _send(self, reply: Message, job: SendOrder, attempt: int) -> SendOutcome:
        try:
            tenant = self.tenants.get(job.tenant_id)
            if not tenant.enabled(job.channel):
                return SendOutcome.failed(f"the {job.channel} channel is not enabled", code="channel_disabled")
            if not self.registry.sends(job.channel):
                return SendOutcome.failed(f"the {job.channel} channel cannot send replies", code="not_supported")
            config = self.tenants.plugin_config(tenant, job.channel)
            base = tenant.settings.public_base_url or self.settings.public_url
            message = outbound_message(reply, self._conversation(job), sends_to=self._sends_to(job.channel),
                                       callback_url=f"{base.rstrip('/')}/hooks/{job.tenant_id}/{job.channel}"
                                       if base else None)
        except (NotFound, PluginConfigError) as err:
            return SendOutcome.failed(err.message, code="not_sendable")
        context = SendContext(
            attempt=attempt, max_attempts=self.settings.max_delivery_attempts, http=self.transport,
            clock=self.clock, timeout_seconds=self.settings.delivery_timeout_seconds,
            tokens=self.tokens(job.tenant_id, job.channel), aws=self.aws,
        )
        try:
            return self.registry.send(job.channel, message, config, context)
        except Exception as err:  # a plugin bug must not lose the reply: retried, then failed with this reason
            log.exception("channel %s raised while sending", job.channel)
            return SendOutcome.retry(f"{job.channel} channel error: {type(err).__name__}")

    def _conversation(self, job: SendOrder) -> Conversation:
        reads = self.store.reads(job.tenant_id)
        ticket, messages = reads.get_ticket(job.ticket_id)
        return Conversation(ticket, messages, reads.get_customer(ticket.customer_id))

    def _sends_to(self, channel: str) -> tuple[str, ...]:
        info = self.registry.info(channel, "channel")
        return info.sends_to if info is not None else ()

    def _attempt_number(self, record: dict[str, Any], job: SendOrder) -> int:
        if record.get("attributes", {}).get("ApproximateReceiveCount", "1") == "1":
            return 1
        return 1 + self.store.attempts(job.tenant_id).failed_attempts(f"send:{job.channel}", _attempt_key(job))

    def _count_failure(self, job: SendOrder) -> int:
        expires = self.clock() + timedelta(seconds=ATTEMPT_RECORD_SECONDS)
        return self.store.attempts(job.tenant_id).count_failed_attempt(
            f"send:{job.channel}", _attempt_key(job), expires_at=int(expires.timestamp()))


def _attempt_key(job: SendOrder) -> str:
    return f"{job.message_id}#{job.generation}"
