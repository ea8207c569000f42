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
order, and the customers they name are read in one call per tenant. Before
reporting a failure the handler queues what earlier records produced; if that
fails too, it reports the first record whose jobs were not all queued.
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
    """What one stream batch shares: its delivery jobs, and whom its new tickets and
    messages belong to (tenant → customer ids), read once per tenant when first needed."""

    outbox: Outbox
    wanted: dict[str, set[str]]
    customers: dict[tuple[str, str], Customer] = field(default_factory=dict)


class StreamProcessor:
    def __init__(self, conversations: ConversationBuilder, dispatcher: Dispatcher) -> None:
        self._conversations = conversations
        self._dispatcher = dispatcher

    def process(self, records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        """Handle Lambda-shaped stream records; returns the partial-failure report."""
        changes = [(record, from_item(record.get("dynamodb", {}).get("NewImage") or {})) for record in records]
        batch = _Batch(self._dispatcher.outbox(), _customers_wanted(changes))
        for record, image in changes:
            sequence = record.get("dynamodb", {}).get("SequenceNumber", "")
            try:
                self._one(record, image, sequence, batch)
            except NotQueued as err:
                log.exception("delivery jobs not queued; retrying from record %s", err.owner)
                return _retry_from(err.owner)
            except Exception:
                log.exception("stream record %s failed; retrying from it", sequence)
                unsent = _flush(batch.outbox)
                return _retry_from(sequence if unsent is None else unsent)
        unsent = _flush(batch.outbox)
        return _retry_from(unsent) if unsent is not None else {"batchItemFailures": []}

    def _one(self, record: dict[str, Any], image: dict[str, Any], sequence: str, batch: _Batch) -> None:
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
        if _dispatched(record, image):
            customer = self._customer(batch, image["tenant_id"], image["customer_id"])
            batch.outbox.add(sequence, self._dispatcher.jobs(events_for(image, customer)))

    def _customer(self, batch: _Batch, tenant_id: str, customer_id: str) -> Customer | None:
        """Who a ticket or message belongs to: the first time a tenant's customer is
        needed, all of that tenant's customers in the batch are read in one call."""
        wanted = batch.wanted.pop(tenant_id, set())
        if wanted:
            found = self._conversations.customers(tenant_id, wanted)
            batch.customers |= {(tenant_id, cid): customer for cid, customer in found.items()}
        return batch.customers.get((tenant_id, customer_id))


def _dispatched(record: dict[str, Any], image: dict[str, Any]) -> bool:
    """A new ticket or message: it announces an event."""
    return record.get("eventName") == "INSERT" and image.get("type") in ("ticket", "message")


def _customers_wanted(changes: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for record, image in changes:
        if _dispatched(record, image):
            wanted.setdefault(image["tenant_id"], set()).add(image["customer_id"])
    return wanted


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
