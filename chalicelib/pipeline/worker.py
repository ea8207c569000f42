"""The delivery worker: one SQS FIFO job → one connector attempt → act on the outcome.

* delivered: the job is acknowledged.
* retry: the job's visibility is pushed out by an exponential backoff with
  jitter (or the receiver's Retry-After) and it is reported as a batch item
  failure, so SQS redelivers it later. Later jobs of the same message group
  (tenant, ticket, connector) are reported failed without an attempt and made
  visible again at once: FIFO holds them until the retried job is done, so
  order per ticket is kept without waiting out the queue's visibility timeout.
* failed, or out of attempts: the job moves to the dead-letter queue with the
  reason, then is acknowledged. Nothing is dropped.

Attempts are counted in the table, not taken from SQS's receive count: a job
held back behind a retried one is received (and counted by SQS) without being
attempted. The count is only read when SQS has seen the job before, so a
first-time delivery costs no table call.

A job carries its event, or, when the event is too large to ride in a job, a
reference to the stored item (:mod:`chalicelib.pipeline.jobs`): the worker then reads the
event back from the table (two reads) before the attempt. Typical jobs carry
their event and cost no read. A carried event is sealed: the worker opens it (the
tenant's data key, cached per container) to hand the connector the envelope in clear,
and the delivery log and the dead letter keep it sealed as it came. A job queued
before sealing carries it in clear: the worker seals it for the log and the dead
letter. When KMS does not answer the job waits (no attempt counted); an event that
does not open goes to the dead-letter queue as it is.

A batch's delivery-log entries, visibility changes and dead letters are
written together at its end (one BatchWriteItem; ten per
ChangeMessageVisibilityBatch / SendMessageBatch, dead letters also within
SQS's 256 KiB per batch). If the log cannot be
written the batch fails as a whole, as an attempt's log write failing did
before. A dead letter that could not be sent leaves its job unfinished
(reported as a failure, tried again); a visibility change that failed only
means the job waits out the queue's visibility timeout instead.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from switchboard_sdk import (
    DeliveryContext,
    DeliveryOutcome,
    EventEnvelope,
    HttpTransport,
    NotFound,
    PluginConfigError,
    PluginRegistry,
)

from ..logs import log_context, log_event
from ..outbound.sender import ReplySender
from ..settings import Settings
from ..storage.attempts import DeliveryAttempts
from ..storage.aws import SQS_BATCH
from ..storage.store import TicketStore
from ..tenancy.tenants import TenantDirectory
from .breaker import CircuitBreakers
from .delivery_log import Attempt, DeliveryLog
from .dispatch import StoredEvents
from .jobs import BadJob, EventOfErasedCustomer, Job, SendJob, batches, decode, logged, unreadable_dead_letter
from .setaside import describe, is_transient

log = logging.getLogger(__name__)

ATTEMPT_RECORD_SECONDS = 14 * 24 * 3600  # the queue's retention: no job outlives it
BASE_DELAY_SECONDS = 2.0
MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's limit
MAX_DELAY_SECONDS = 900.0  # 15 min keeps a stuck ticket's queue moving within the hour


def backoff_seconds(
    attempt: int, retry_after: float | None, rng: Callable[[], float] = random.random,
    base: float = BASE_DELAY_SECONDS, ceiling: float = MAX_DELAY_SECONDS,
) -> int:
    """Full-jitter exponential backoff, never sooner than the receiver asked."""
    top = min(ceiling, base * 2.0 ** max(0, attempt - 1))
    delay = top / 2 + rng() * top / 2
    if retry_after is not None:
        delay = max(delay, min(retry_after, ceiling))
    return max(1, math.ceil(delay))


@dataclass
class DeliveryWorker:
    settings: Settings
    registry: PluginRegistry
    tenants: TenantDirectory
    store: TicketStore
    sqs: Any
    transport: HttpTransport
    clock: Callable[[], datetime]  # also the connectors' (DeliveryContext.clock): Retry-After dates against it
    delivery_log: DeliveryLog
    breakers: CircuitBreakers
    events: StoredEvents | None = None  # reads referenced events back; built from ``store`` unless given
    sender: ReplySender | None = None  # sends replies (send jobs); the hub always gives one

    def process(self, records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        """Handle Lambda-shaped SQS records; returns the partial-failure report."""
        failures: list[dict[str, Any]] = []
        settle = _Settlement()
        blocked_groups: set[str] = set()
        for record in records:
            group = record.get("attributes", {}).get("MessageGroupId", "")
            if group in blocked_groups:  # must not overtake the job being retried: visible again at once,
                settle.visibility.append((record, 0))  # FIFO still serves it after the retried one
            elif (delay := self._handle(record, settle)) is None:
                continue
            else:
                settle.visibility.append((record, delay))
            blocked_groups.add(group)
            failures.append(record)
        self.delivery_log.record_all(settle.attempts)  # before any job is finished: a failure here fails the batch
        failures += self._settle(settle)
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failures]}

    def _handle(self, record: dict[str, Any], settle: _Settlement) -> int | None:
        """``None`` when the job is finished (delivered or dead-lettered), else the
        seconds until it may be tried again."""
        try:
            job = decode(record["body"])
        except BadJob as err:  # never a poison pill for the batch
            log.error("unreadable delivery job %s: %s", record.get("messageId"), err.message)
            settle.dead_letter(record, unreadable_dead_letter(record.get("body", ""), err.message))
            return None
        if isinstance(job, SendJob):
            return self._send(record, job)
        with log_context(tenant=job.ref.tenant_id, plugin=job.connector, event_id=job.ref.id):
            return self._deliver(record, job, settle)

    def _send(self, record: dict[str, Any], job: SendJob) -> int | None:
        """A reply (chalicelib.outbound.sender); a table that does not answer only delays it."""
        if self.sender is None:
            raise RuntimeError("this worker was built without a reply sender")
        with log_context(tenant=job.tenant_id, plugin=job.channel, message=job.message_id):
            try:
                return self.sender.handle(record, job)
            except Exception as err:
                if not is_transient(err):
                    raise
                log.warning("reply %s not sent (%s); trying again", job.message_id, describe(err))
                return backoff_seconds(1, None, base=self.settings.retry_base_seconds,
                                       ceiling=self.settings.retry_max_seconds)

    def _deliver(self, record: dict[str, Any], job: Job, settle: _Settlement) -> int | None:
        connector, ref = job.connector, job.ref
        wait = self.breakers.wait_seconds(ref.tenant_id, connector)
        if wait > 0:  # the endpoint is resting: wait without spending an attempt
            return math.ceil(wait)
        if job.inline:
            opened = self._opened(record, job, settle)
            if opened is None or isinstance(opened, int):
                return opened
            job = opened
        event = job.event or self._rebuilt(record, job, settle)
        if event is None or isinstance(event, int):
            return event
        attempt = self._attempt_number(record, connector, event)
        outcome = self._logged_attempt(connector, event, attempt, settle, logged(job, event))
        if outcome.kind == "delivered":
            return None
        limit = self._attempt_limit(connector, event.tenant_id)
        if outcome.kind == "retry" and self._count_failure(connector, event) < limit:
            return backoff_seconds(attempt, outcome.retry_after_seconds, base=self.settings.retry_base_seconds,
                                   ceiling=self.settings.retry_max_seconds)
        settle.dead_letter(record, job.dead_letter(outcome.reason, outcome.status_code, attempt))
        return None

    def _opened(self, record: dict[str, Any], job: Job, settle: _Settlement) -> Job | int | None:
        """The job with its event opened (a sealed job) or sealed (a clear one, queued
        before sealing: the log and the dead letter keep it sealed); ``None`` when it is
        dead-lettered, seconds to wait when KMS did not answer."""
        try:
            return job.opened(self.store.crypto).sealing(self.store.crypto)
        except EventOfErasedCustomer:  # nothing left to deliver, nothing to keep
            log_event(log, "delivery.dropped", tenant=job.ref.tenant_id, event_id=job.ref.id,
                      connector=job.connector, reason="customer erased")
            return None
        except Exception as err:
            if is_transient(err):  # no attempt was made: none is counted
                log.warning("event %s not opened (%s); trying again", job.ref.id, describe(err))
                return backoff_seconds(1, None, base=self.settings.retry_base_seconds,
                                       ceiling=self.settings.retry_max_seconds)
            log.error("event %s cannot be opened: %s", job.ref.id, describe(err))
            settle.dead_letter(record, job.dead_letter(f"event not readable: {describe(err)}", None, 0))
            return None

    def _rebuilt(self, record: dict[str, Any], job: Job, settle: _Settlement) -> EventEnvelope | int | None:
        """A referenced event, read back from the table (only jobs too large to carry
        it); ``None`` when it is dead-lettered, seconds to wait when the table did not answer."""
        try:
            if self.events is None:
                self.events = StoredEvents(self.store)
            return self.events.rebuild(job.ref)
        except Exception as err:
            if is_transient(err):  # no attempt was made: none is counted
                log.warning("event %s not read back (%s); trying again", job.ref.id, describe(err))
                return backoff_seconds(1, None, base=self.settings.retry_base_seconds,
                                       ceiling=self.settings.retry_max_seconds)
            log.error("event %s cannot be rebuilt: %s", job.ref.id, describe(err))
            settle.dead_letter(record, job.dead_letter(f"event not available: {describe(err)}", None, 0))
            return None

    def _logged_attempt(self, connector: str, event: EventEnvelope, attempt: int,
                        settle: _Settlement, log_as: str) -> DeliveryOutcome:
        """One attempt, recorded in the endpoint's breaker and (at the batch's end) the
        delivery log, which keeps ``log_as`` (the event sealed, or a large event's reference:
        :func:`~chalicelib.pipeline.jobs.logged`)."""
        started, clock_started = time.perf_counter(), self.clock()
        outcome = self._attempt(connector, event, attempt)
        latency_ms = round((time.perf_counter() - started) * 1000)
        settle.attempts.append(Attempt(connector, event, attempt, outcome, clock_started, latency_ms, log_as))
        self.breakers.record(event.tenant_id, connector, transient_failure=outcome.kind == "retry")
        _log_attempt(connector, event, attempt, outcome)
        return outcome

    def _attempt_limit(self, connector: str, tenant_id: str) -> int:
        """The tenant's limit for this connector, else the connector's own, else the hub's."""
        try:
            setting = self.tenants.get(tenant_id).plugins.get(connector)
        except NotFound:
            setting = None
        if setting is not None and setting.max_delivery_attempts:
            return setting.max_delivery_attempts
        info = self.registry.info(connector, "connector")
        declared = info.max_delivery_attempts if info else None
        return declared or self.settings.max_delivery_attempts

    def _attempt_number(self, record: dict[str, Any], connector: str, event: EventEnvelope) -> int:
        if record.get("attributes", {}).get("ApproximateReceiveCount", "1") == "1":
            return 1  # never received before: nothing to look up
        return 1 + self.store.attempts(event.tenant_id).failed_attempts(connector, event.id)

    def _count_failure(self, connector: str, event: EventEnvelope) -> int:
        expires = self.clock() + timedelta(seconds=ATTEMPT_RECORD_SECONDS)
        return self.store.attempts(event.tenant_id).count_failed_attempt(
            connector, event.id, expires_at=int(expires.timestamp())
        )

    def _settle(self, settle: _Settlement) -> list[dict[str, Any]]:
        """Send the dead letters, then change visibilities; returns the records whose
        dead letter was not sent (unfinished: they are tried again)."""
        unsent = []
        letters = [entry for _, entry in settle.dead]
        for positions in batches(letters):  # ten, and within SQS's size limit, per call
            chunk: list[dict[str, Any]] = [letters[p] | {"Id": str(i)} for i, p in enumerate(positions)]
            failed = self._batch_call(self.sqs.send_message_batch, self.settings.dlq_url, chunk)
            unsent += [settle.dead[positions[i]][0] for i in failed]
        for start in range(0, len(settle.visibility), SQS_BATCH):
            changes: list[dict[str, Any]] = [
                {"Id": str(i), "ReceiptHandle": record["receiptHandle"],
                 "VisibilityTimeout": min(seconds, MAX_VISIBILITY_SECONDS)}
                for i, (record, seconds) in enumerate(settle.visibility[start : start + SQS_BATCH])
            ]
            self._batch_call(self.sqs.change_message_visibility_batch, self.settings.queue_url, changes)
        return unsent

    def _batch_call(self, call: Callable[..., Any], queue_url: str, entries: list[dict[str, Any]]) -> list[int]:
        """One SQS batch call; returns the positions of the entries that failed."""
        try:
            result = call(QueueUrl=queue_url, Entries=entries)
        except Exception:
            log.exception("SQS batch call failed for %d entries", len(entries))
            return list(range(len(entries)))
        failed = [int(f["Id"]) for f in result.get("Failed") or []]
        if failed:
            log.error("SQS batch call: %d of %d entries failed (%s)", len(failed), len(entries),
                      (result["Failed"][0].get("Code")))
        return failed

    def _attempt(self, connector: str, event: EventEnvelope, attempt: int) -> DeliveryOutcome:
        try:
            tenant = self.tenants.get(event.tenant_id)
            if not tenant.enabled(connector) or self.registry.info(connector, "connector") is None:
                return DeliveryOutcome.failed(f"connector {connector!r} is not enabled for this tenant")
            config = self.tenants.plugin_config(tenant, connector)
        except (NotFound, PluginConfigError) as err:
            return DeliveryOutcome.failed(err.message)
        context = DeliveryContext(
            attempt=attempt, max_attempts=self._attempt_limit(connector, event.tenant_id), http=self.transport,
            clock=self.clock, timeout_seconds=self.settings.delivery_timeout_seconds,
            external_ids=StoredExternalIds(self.store.attempts(event.tenant_id), connector),
        )
        try:
            return self.registry.deliver(connector, event, config, context)
        except Exception as err:  # a connector bug must not lose the event: retry, then DLQ
            log.exception("connector %s raised", connector)
            return DeliveryOutcome.retry(f"connector error: {type(err).__name__}")

@dataclass
class _Settlement:
    """What a batch leaves for its end: its attempts (for the delivery log),
    visibility changes (record, seconds) and dead letters (record,
    SendMessageBatch entry without ``Id``)."""

    visibility: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    dead: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)  # for the delivery log

    def dead_letter(self, record: dict[str, Any], body: str) -> None:
        """``body``: the job's dead letter (:mod:`chalicelib.pipeline.jobs`)."""
        attributes = record.get("attributes", {})
        self.dead.append((record, {
            "MessageBody": body, "MessageGroupId": attributes.get("MessageGroupId") or "dead-letters",
            "MessageDeduplicationId": attributes.get("MessageDeduplicationId") or record["messageId"],
        }))


@dataclass
class StoredExternalIds:
    """A connector's receiver-side ids, in the table (read only when asked)."""

    store: DeliveryAttempts
    connector: str

    def get(self, kind: str, local_id: str) -> str | None:
        return self.store.external_id(self.connector, kind, local_id)

    def put(self, kind: str, local_id: str, external_id: str) -> None:
        self.store.remember_external_id(self.connector, kind, local_id, external_id)


def _log_attempt(connector: str, event: EventEnvelope, attempt: int, outcome: DeliveryOutcome) -> None:
    log_event(log, "delivery.attempt", tenant=event.tenant_id, plugin=connector, event_id=event.id,
              ticket=event.ticket_id, attempt=attempt, outcome=outcome.kind, status_code=outcome.status_code,
              reason=outcome.reason)
