"""The table's stream handler: inbound records → conversations; new tickets and
messages → delivery jobs.

Records arrive at least once and in order per item. On a failure the handler
reports the failed record's sequence number (``batchItemFailures``) so Lambda
retries from there; everything before it is not redone, and anything redone is
idempotent anyway.

Parked follow-ups are released when the message they wait for is stored, read
from that message's provider-message record: only one that a parked follow-up
marked (``TenantStore.park``) costs a read; every other message costs none.

Delivery jobs are batched across the stream batch: they wait in an
:class:`~chalicelib.dispatch.Outbox` that sends them ten at a time in record
order, and each customer is read once per batch. Before reporting a failure the
handler queues what earlier records produced; if that fails too, it reports the
first record whose jobs were not all queued.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from switchboard_sdk import Customer, InboundMessage

from .conversations import ConversationBuilder
from .dispatch import Dispatcher, NotQueued, Outbox, events_for
from .items import from_item
from .store import has_parked_follow_ups

log = logging.getLogger(__name__)


@dataclass
class _Batch:
    """What one stream batch shares: its delivery jobs and the customers read."""

    outbox: Outbox
    customers: dict[tuple[str, str], Customer | None] = field(default_factory=dict)


class StreamProcessor:
    def __init__(self, conversations: ConversationBuilder, dispatcher: Dispatcher) -> None:
        self._conversations = conversations
        self._dispatcher = dispatcher

    def process(self, records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        """Handle Lambda-shaped stream records; returns the partial-failure report."""
        batch = _Batch(self._dispatcher.outbox())
        for record in records:
            sequence = record.get("dynamodb", {}).get("SequenceNumber", "")
            try:
                self._one(record, sequence, batch)
            except NotQueued as err:
                log.exception("delivery jobs not queued; retrying from record %s", err.owner)
                return _retry_from(err.owner)
            except Exception:
                log.exception("stream record %s failed; retrying from it", sequence)
                unsent = _flush(batch.outbox)
                return _retry_from(sequence if unsent is None else unsent)
        unsent = _flush(batch.outbox)
        return _retry_from(unsent) if unsent is not None else {"batchItemFailures": []}

    def _one(self, record: dict[str, Any], sequence: str, batch: _Batch) -> None:
        image = from_item(record["dynamodb"].get("NewImage") or {})
        if has_parked_follow_ups(image):  # stored and marked (INSERT or MODIFY, whichever came last)
            tenant_id, (channel, provider_id) = image["tenant_id"], _provider_key(image["pk"])
            self._conversations.release(tenant_id, channel, provider_id)
            return
        if record.get("eventName") != "INSERT":
            return
        if image.get("type") == "inbound":
            inbound = InboundMessage.model_validate_json(image["doc"])
            message = self._conversations.absorb(inbound)
            if message is not None:
                log.info(json.dumps({"event": "conversation.absorbed", "tenant": inbound.tenant_id,
                                     "ticket": message.ticket_id, "message": message.id}))
            return
        if image.get("type") in ("ticket", "message"):
            customer = self._customer(batch, image["tenant_id"], image["customer_id"])
            batch.outbox.add(sequence, self._dispatcher.jobs(events_for(image, customer)))

    def _customer(self, batch: _Batch, tenant_id: str, customer_id: str) -> Customer | None:
        """Who a ticket or message belongs to, read once per batch."""
        key = (tenant_id, customer_id)
        if key not in batch.customers:
            batch.customers[key] = self._conversations.customer(tenant_id, customer_id)
        return batch.customers[key]


def _flush(outbox: Outbox) -> str | None:
    """Queue the jobs held; the first record not fully queued, or ``None``."""
    try:
        outbox.flush()
    except NotQueued as err:
        log.exception("delivery jobs not queued; retrying from record %s", err.owner)
        return err.owner
    return None


def _retry_from(sequence: str) -> dict[str, list[dict[str, str]]]:
    return {"batchItemFailures": [{"itemIdentifier": sequence}]}


def _provider_key(pk: str) -> tuple[str, str]:
    """``(channel, provider message id)`` from ``T#<t>#PM#<channel>#<id>``."""
    _, _, rest = pk.partition("#PM#")
    channel, _, provider_id = rest.partition("#")
    return channel, provider_id
