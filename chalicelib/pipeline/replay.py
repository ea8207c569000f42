"""Replay: put events back on the delivery queue, from the dead-letter queue or
from the delivery log.

Replaying an event that was already delivered is harmless: receivers
de-duplicate on the event id (``webhook-id``, CRM external ids). A replayed job
starts with a fresh attempt budget. Only the calling tenant's events are ever
touched: dead letters of other tenants are left in place, untouched.

Dead letters hold their job as it was queued (:mod:`chalicelib.pipeline.jobs`): with its
event inline and sealed, or with a reference to the stored item for a large event;
either goes back as it is (no key needed: the ids the filter reads are in clear), and
the worker opens or reads the event when it delivers. A dead letter or a logged event
from before sealing (in clear) goes back sealed. The log keeps events sealed: replay
from it opens each (the tenant's data key, cached) to filter on its time, and queues
the same sealed text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from switchboard_sdk import EventEnvelope, Unavailable

from ..storage.aws import SQS_BATCH
from ..storage.sealing import is_sealed
from ..storage.store import TicketStore
from .delivery_log import DeliveryLog
from .jobs import BadJob, EventOfErasedCustomer, EventRef, Job, batches, decode, job_from_log, logged_event, seal_event

SCAN_LIMIT = 10_000  # dead letters looked at in one replay, at most
DLQ_HOLD_SECONDS = 60  # how long a scanned dead letter stays hidden from a concurrent replay


@dataclass(frozen=True)
class ReplayFilter:
    connector: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    event_ids: frozenset[str] = frozenset()

    def matches(self, connector: str, event: EventRef) -> bool:
        return (
            (self.connector is None or connector == self.connector)
            and (self.since is None or event.occurred_at >= self.since)
            and (self.until is None or event.occurred_at < self.until)
            and (not self.event_ids or event.id in self.event_ids)
        )


@dataclass
class ReplayReport:
    requeued: list[str] = field(default_factory=list)
    scanned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"requeued": len(self.requeued), "event_ids": self.requeued, "scanned": self.scanned}


class Replayer:
    def __init__(self, sqs: Any, queue_url: str, dlq_url: str, store: TicketStore, log: DeliveryLog) -> None:
        self._sqs, self._queue_url, self._dlq_url = sqs, queue_url, dlq_url
        self._store, self._log = store, log

    def from_dead_letters(self, tenant_id: str, wanted: ReplayFilter) -> ReplayReport:
        """Move the tenant's matching dead letters back onto the delivery queue.
        Dead letters whose job cannot be read (``unreadable``) belong to no one we
        can tell: they stay where they are."""
        report, others = ReplayReport(), []
        while report.scanned < SCAN_LIMIT:
            messages = self._sqs.receive_message(QueueUrl=self._dlq_url, MaxNumberOfMessages=10,
                                                 VisibilityTimeout=DLQ_HOLD_SECONDS, WaitTimeSeconds=0,
                                                 AttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            chosen = []
            for message in messages:
                report.scanned += 1
                job = _decoded(message["Body"])
                if job is None or job.ref.tenant_id != tenant_id or not wanted.matches(job.connector, job.ref):
                    others.append(message["ReceiptHandle"])
                else:
                    chosen.append((job, message["ReceiptHandle"]))
            self._requeue_batch([job for job, _ in chosen])
            if chosen:  # only once they are safely back on the delivery queue
                self._sqs.delete_message_batch(QueueUrl=self._dlq_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": r} for i, (_, r) in enumerate(chosen)])
            report.requeued += [job.ref.id for job, _ in chosen]
        self._release(others)
        return report

    def from_log(self, tenant_id: str, connector: str, wanted: ReplayFilter, *, limit: int = 1000) -> ReplayReport:
        """Re-queue the distinct events of a connector's logged attempts (newest first)."""
        report, seen, cursor = ReplayReport(), set(), None
        while report.scanned < limit:
            page, cursor = self._log.by_connector_raw(tenant_id, connector, before=cursor)
            for item in page:
                report.scanned += 1
                if str(item["event_id"]) in seen:
                    continue
                try:
                    event = logged_event(self._store.crypto, item)
                except EventOfErasedCustomer:
                    continue  # nothing left to send (erasure deletes such items; a restored table has them)
                if wanted.matches(connector, EventRef.of(event)):
                    seen.add(event.id)
                    self._requeue_batch([self._job_from_log(connector, event, str(item["event"]))])
                    report.requeued.append(event.id)
            if cursor is None:
                break
        return report

    def _job_from_log(self, connector: str, event: EventEnvelope, stored: str) -> Job:
        """The job replaying a logged event, with the sealed text the log kept (sealed now
        when it was logged in clear, before sealing)."""
        crypto = self._store.crypto
        sealed = stored if is_sealed(stored) else None if crypto is None else seal_event(crypto, event)
        return job_from_log(connector, event, sealed)

    def _requeue_batch(self, jobs: list[Job]) -> None:
        """Up to ten jobs back on the delivery queue, each with a fresh attempt budget
        (a job in clear, from before sealing, sealed on its way)."""
        if not jobs:
            return
        jobs = [job.sealing(self._store.crypto) for job in jobs]
        for job in jobs:
            self._store.attempts(job.ref.tenant_id).reset_failed_attempts(job.connector, job.ref.id)
        # fresh de-duplication ids: the originals may still be inside SQS's 5-minute window
        entries = [job.entry(salt=str(uuid.uuid4())) for job in jobs]
        for positions in batches(entries):
            chunk = [entries[p] | {"Id": str(i)} for i, p in enumerate(positions)]
            failed = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=chunk).get("Failed") or []
            if failed:  # nothing is deleted from the DLQ unless it is back on the queue
                raise Unavailable(f"{len(failed)} jobs could not be re-queued: {failed[0].get('Code')}")

    def _release(self, receipts: list[str]) -> None:
        for start in range(0, len(receipts), SQS_BATCH):
            entries = [{"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0}
                       for i, r in enumerate(receipts[start : start + SQS_BATCH])]
            self._sqs.change_message_visibility_batch(QueueUrl=self._dlq_url, Entries=entries)


def _decoded(body: str) -> Job | None:
    """A connector job; ``None`` for what replay does not re-queue (unreadable bodies;
    replies, which agents send again with the retry route)."""
    try:
        job = decode(body)
    except BadJob:
        return None
    return job if isinstance(job, Job) else None
