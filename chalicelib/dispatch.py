"""Store changes → event envelopes → one delivery job per enabled connector.

Event ids derive from the changed record, so a redelivered stream record yields
the same ids, and the FIFO queue's de-duplication id (event id + connector)
drops the repeat. Jobs of one ticket and connector share a message group, so
they are delivered in order and a failing connector never blocks another.

The stream handler collects the jobs of a whole stream batch in an
:class:`Outbox`, which sends them ten per ``SendMessageBatch`` in record order;
when a send fails it names the first record whose jobs were not all queued, and
the batch is retried from there (the repeats it sends again are dropped by
their de-duplication ids).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from switchboard_sdk import Customer, EventEnvelope, Message, NotFound, Ticket

from .ids import stable_id
from .tenants import TenantDirectory

SQS_BATCH = 10
log = logging.getLogger(__name__)


def events_for(item: dict[str, Any], customer: Customer | None = None) -> list[EventEnvelope]:
    """Events announced by a newly inserted store item (deserialised); ``customer``
    (who the ticket belongs to) rides along so connectors can match CRM contacts
    by email or phone."""
    kind = item.get("type")
    extra = {"customer": customer.model_dump(mode="json")} if customer else {}
    if kind == "ticket":
        ticket = Ticket.model_validate(
            {k: v for k, v in item.items() if k in Ticket.model_fields} | {"id": item["ticket_id"]}
        )
        return [_envelope("ticket.created", ticket.tenant_id, ticket.id, ticket.created_at,
                          {"ticket": ticket.model_dump(mode="json")} | extra)]
    if kind == "message":
        message = Message.model_validate({k: v for k, v in item.items() if k in Message.model_fields})
        return [_envelope("message.created", message.tenant_id, message.ticket_id, message.received_at,
                          {"message": message.model_dump(mode="json")} | extra, object_id=message.id)]
    return []


def _envelope(
    kind: str, tenant_id: str, ticket_id: str, at: Any, data: dict[str, Any], object_id: str = ""
) -> EventEnvelope:
    event_id = stable_id("evt", kind, tenant_id, object_id or ticket_id)
    return EventEnvelope.model_validate(
        {"id": event_id, "type": kind, "tenant_id": tenant_id, "ticket_id": ticket_id,
         "occurred_at": at, "data": data}
    )


def job_body(connector: str, event: EventEnvelope) -> str:
    return json.dumps({"connector": connector, "event": event.model_dump(mode="json")})


class NotQueued(RuntimeError):
    """Some delivery jobs were not queued; ``owner`` added the first of them."""

    def __init__(self, owner: str, detail: str) -> None:
        super().__init__(f"delivery jobs of {owner or 'a record'} were not queued: {detail}")
        self.owner = owner


class Outbox:
    """Delivery jobs waiting to be queued, sent ten per ``SendMessageBatch`` in the
    order they were added; each job remembers who added it (a stream record)."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._pending: list[tuple[str, dict[str, str]]] = []
        self.queued = 0

    def add(self, owner: str, entries: Iterable[dict[str, str]]) -> None:
        """Hold ``entries`` for ``owner``; full batches go out at once."""
        self._pending += [(owner, entry) for entry in entries]
        while len(self._pending) >= SQS_BATCH:
            self._send()

    def flush(self) -> None:
        """Queue everything held; :class:`NotQueued` names the first owner not fully queued."""
        while self._pending:
            self._send()

    def _send(self) -> None:
        chunk = self._pending[:SQS_BATCH]
        entries = [entry | {"Id": str(i)} for i, (_, entry) in enumerate(chunk)]
        try:
            result = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except Exception as err:
            raise NotQueued(chunk[0][0], type(err).__name__) from err
        failed = result.get("Failed") or []
        if failed:  # the batch is retried from the first of them; de-duplication ids make it safe
            first = min(int(f["Id"]) for f in failed)
            raise NotQueued(chunk[first][0], f"{len(failed)} failed, e.g. {failed[0].get('Code')}")
        del self._pending[: len(chunk)]
        self.queued += len(chunk)


class Dispatcher:
    def __init__(self, tenants: TenantDirectory, sqs: Any, queue_url: str) -> None:
        self._tenants = tenants
        self._sqs = sqs
        self._queue_url = queue_url

    def outbox(self) -> Outbox:
        return Outbox(self._sqs, self._queue_url)

    def jobs(self, events: Iterable[EventEnvelope]) -> list[dict[str, str]]:
        """``SendMessageBatch`` entries (without ``Id``): one per (event, enabled connector)."""
        entries: list[dict[str, str]] = []
        for event in events:
            try:
                tenant = self._tenants.get(event.tenant_id)
            except NotFound:  # tenant removed since: nobody to deliver to
                log.warning("no tenant %s for event %s; not queued", event.tenant_id, event.id)
                continue
            entries += [_entry(name, event) for name in self._tenants.enabled_of_kind(tenant, "connector")]
        return entries

    def enqueue(self, events: Iterable[EventEnvelope]) -> int:
        """Queue the jobs of ``events`` now; returns the job count."""
        outbox = self.outbox()
        outbox.add("", self.jobs(events))
        outbox.flush()
        return outbox.queued


def _entry(connector: str, event: EventEnvelope) -> dict[str, str]:
    dedup = hashlib.sha256(f"{event.id}|{connector}".encode()).hexdigest()
    return {
        "MessageBody": job_body(connector, event),
        "MessageGroupId": f"{event.tenant_id}:{event.ticket_id}:{connector}",
        "MessageDeduplicationId": dedup,
    }
