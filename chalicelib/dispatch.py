"""Store changes → event envelopes → one delivery job per enabled connector.

Event ids derive from the changed record, so a redelivered stream record yields
the same ids, and the FIFO queue's de-duplication id (event id + connector)
drops the repeat. Jobs of one ticket and connector share a message group, so
they are delivered in order and a failing connector never blocks another.
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


class Dispatcher:
    def __init__(self, tenants: TenantDirectory, sqs: Any, queue_url: str) -> None:
        self._tenants = tenants
        self._sqs = sqs
        self._queue_url = queue_url

    def enqueue(self, events: Iterable[EventEnvelope]) -> int:
        """Queue one job per (event, enabled connector); returns the job count."""
        entries: list[dict[str, str]] = []
        for event in events:
            try:
                tenant = self._tenants.get(event.tenant_id)
            except NotFound:  # tenant removed since: nobody to deliver to
                log.warning("no tenant %s for event %s; not queued", event.tenant_id, event.id)
                continue
            for name in self._tenants.enabled_of_kind(tenant, "connector"):
                entries.append(_entry(len(entries), name, event))
        for start in range(0, len(entries), SQS_BATCH):
            self._send(entries[start : start + SQS_BATCH])
        return len(entries)

    def _send(self, entries: list[dict[str, str]]) -> None:
        result = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        failed = result.get("Failed") or []
        if failed:  # raise so the stream batch is retried; de-duplication ids make it safe
            raise RuntimeError(f"{len(failed)} delivery jobs were not queued: {failed[0].get('Code')}")


def _entry(index: int, connector: str, event: EventEnvelope) -> dict[str, str]:
    dedup = hashlib.sha256(f"{event.id}|{connector}".encode()).hexdigest()
    return {
        "Id": str(index),
        "MessageBody": job_body(connector, event),
        "MessageGroupId": f"{event.tenant_id}:{event.ticket_id}:{connector}",
        "MessageDeduplicationId": dedup,
    }
