"""Replay: put events back on the delivery queue, from the dead-letter queue or
from the delivery log.

Replaying an event that was already delivered is harmless: receivers
de-duplicate on the event id (``webhook-id``, CRM external ids). A replayed job
starts with a fresh attempt budget. Only the calling tenant's events are ever
touched: dead letters of other tenants are left in place, untouched.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from switchboard_sdk import EventEnvelope

from .deliveries import DeliveryLog
from .dispatch import job_body
from .store import TicketStore

SCAN_LIMIT = 10_000  # dead letters looked at in one replay, at most
DLQ_HOLD_SECONDS = 60  # how long a scanned dead letter stays hidden from a concurrent replay


@dataclass(frozen=True)
class ReplayFilter:
    connector: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    event_ids: frozenset[str] = frozenset()

    def matches(self, connector: str, event: EventEnvelope) -> bool:
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
        """Move the tenant's matching dead letters back onto the delivery queue."""
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
                job = json.loads(message["Body"])
                connector, event = job["connector"], EventEnvelope.model_validate(job["event"])
                if event.tenant_id != tenant_id or not wanted.matches(connector, event):
                    others.append(message["ReceiptHandle"])
                else:
                    chosen.append((connector, event, message["ReceiptHandle"]))
            self._requeue_batch([(c, e) for c, e, _ in chosen])
            if chosen:  # only once they are safely back on the delivery queue
                self._sqs.delete_message_batch(QueueUrl=self._dlq_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": r} for i, (_, _, r) in enumerate(chosen)])
            report.requeued += [e.id for _, e, _ in chosen]
        self._release(others)
        return report

    def from_log(self, tenant_id: str, connector: str, wanted: ReplayFilter, *, limit: int = 1000) -> ReplayReport:
        """Re-queue the distinct events of a connector's logged attempts (newest first)."""
        report, seen, cursor = ReplayReport(), set(), None
        while report.scanned < limit:
            page, cursor = self._log.by_connector_raw(tenant_id, connector, before=cursor)
            for item in page:
                report.scanned += 1
                event = EventEnvelope.model_validate_json(item["event"])
                if event.id not in seen and wanted.matches(connector, event):
                    seen.add(event.id)
                    self._requeue(connector, event)
                    report.requeued.append(event.id)
            if cursor is None:
                break
        return report

    def _requeue(self, connector: str, event: EventEnvelope) -> None:
        self._requeue_batch([(connector, event)])

    def _requeue_batch(self, jobs: list[tuple[str, EventEnvelope]]) -> None:
        """Up to ten jobs back on the delivery queue, each with a fresh attempt budget."""
        if not jobs:
            return
        for connector, event in jobs:
            self._store.tenant(event.tenant_id).reset_failed_attempts(connector, event.id)
        # fresh de-duplication ids: the originals may still be inside SQS's 5-minute window
        entries = [{
            "Id": str(i), "MessageBody": job_body(connector, event),
            "MessageGroupId": f"{event.tenant_id}:{event.ticket_id}:{connector}",
            "MessageDeduplicationId": hashlib.sha256(f"{event.id}|{connector}|{uuid.uuid4()}".encode()).hexdigest(),
        } for i, (connector, event) in enumerate(jobs)]
        failed = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries).get("Failed") or []
        if failed:  # nothing is deleted from the DLQ unless it is back on the queue
            raise RuntimeError(f"{len(failed)} jobs could not be re-queued: {failed[0].get('Code')}")

    def _release(self, receipts: list[str]) -> None:
        for start in range(0, len(receipts), 10):
            entries = [{"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0}
                       for i, r in enumerate(receipts[start : start + 10])]
            self._sqs.change_message_visibility_batch(QueueUrl=self._dlq_url, Entries=entries)
