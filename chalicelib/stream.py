"""The table's stream handler: inbound records → conversations; new tickets and
messages → delivery jobs.

Records arrive at least once and in order per item. On a failure the handler
reports the failed record's sequence number (``batchItemFailures``) so Lambda
retries from there; everything before it is not redone, and anything redone is
idempotent anyway.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from switchboard_sdk import InboundMessage

from .conversations import ConversationBuilder
from .dispatch import Dispatcher, events_for
from .items import from_item

log = logging.getLogger(__name__)


class StreamProcessor:
    def __init__(self, conversations: ConversationBuilder, dispatcher: Dispatcher) -> None:
        self._conversations = conversations
        self._dispatcher = dispatcher

    def process(self, records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        """Handle Lambda-shaped stream records; returns the partial-failure report."""
        for record in records:
            sequence = record.get("dynamodb", {}).get("SequenceNumber", "")
            try:
                self._one(record)
            except Exception:
                log.exception("stream record %s failed; retrying from it", sequence)
                return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        return {"batchItemFailures": []}

    def _one(self, record: dict[str, Any]) -> None:
        if record.get("eventName") != "INSERT":
            return
        image = from_item(record["dynamodb"].get("NewImage") or {})
        if image.get("type") == "inbound":
            inbound = InboundMessage.model_validate_json(image["doc"])
            message = self._conversations.absorb(inbound)
            if message is not None:
                log.info(json.dumps({"event": "conversation.absorbed", "tenant": inbound.tenant_id,
                                     "ticket": message.ticket_id, "message": message.id}))
            return
        if image.get("type") == "provider_message":  # a message others may be waiting for
            tenant_id, (channel, provider_id) = image["tenant_id"], _provider_key(image["pk"])
            self._conversations.release(tenant_id, channel, provider_id)
            return
        if image.get("type") in ("ticket", "message"):
            customer = self._conversations.customer(image["tenant_id"], image["customer_id"])
            self._dispatcher.enqueue(events_for(image, customer))


def _provider_key(pk: str) -> tuple[str, str]:
    """``(channel, provider message id)`` from ``T#<t>#PM#<channel>#<id>``."""
    _, _, rest = pk.partition("#PM#")
    channel, _, provider_id = rest.partition("#")
    return channel, provider_id
