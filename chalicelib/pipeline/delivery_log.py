"""The delivery log: every attempt of every connector, per tenant, for a while.

One item per attempt under its ticket (``T#<t>#DLOG#TK#<ticket>``), also
indexed by connector in GSI1 (sharded like the ticket index), with the event
envelope so a delivered event can be replayed from the log. The envelope is kept
sealed as its job carried it (the tenant's data key, bound to the tenant, the event id
and ``"envelope"``: :func:`~chalicelib.pipeline.jobs.seal_event`); ids, types, the
connector and the outcome stay in clear for the API's listing, which shows no envelope.
Items expire after ``Settings.delivery_log_days`` through TTL, or sooner when the tenant
keeps messages for less (the envelope carries the message and the customer); erasure
deletes a customer's tickets' items.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from switchboard_sdk import DeliveryOutcome, EventEnvelope

from ..storage.conventions import ACTIVITY_INDEX, MAX_PAGE, iso
from ..storage.items import from_item, to_item
from ..storage.keys import TenantKeys, delivery_log_sort_key, shard_of
from ..tenancy.retention import RetentionSource
from .jobs import customer_of

WRITE_BATCH = 25  # BatchWriteItem's limit
UNPROCESSED_TRIES = 5
UNPROCESSED_PAUSE_SECONDS = 0.05  # doubling


@dataclass(frozen=True)
class Attempt:
    """One attempt; ``event`` names it (ids), ``stored`` is what the log keeps of it
    (:func:`~chalicelib.pipeline.jobs.logged`: sealed, or a large event's reference)."""

    connector: str
    event: EventEnvelope
    attempt: int
    outcome: DeliveryOutcome
    at: datetime
    latency_ms: int
    stored: str


class DeliveryLog:
    def __init__(self, client: Any, table_name: str, *, retention_days: int, shards: int = 4,
                 retention: RetentionSource | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._db = client
        self._sleep = sleep
        self._table = table_name
        self._days = retention_days
        self._shards = shards
        self._tenant_retention = retention

    def _kept_for(self, tenant_id: str) -> timedelta:
        """The log's own retention, shortened to the tenant's message retention."""
        days = self._days
        if self._tenant_retention is not None:
            days = min(days, self._tenant_retention.for_tenant(tenant_id).message_days)
        return timedelta(days=days)

    def record_all(self, attempts: Sequence[Attempt]) -> None:
        """A worker batch's attempts, 25 per BatchWriteItem (keys are unique per attempt:
        a repeat overwrites); what DynamoDB leaves unprocessed is sent again after a
        short pause, a few times, then this raises."""
        items = {(i["pk"]["S"], i["sk"]["S"]): i for i in map(self._item, attempts)}  # a repeat overwrites
        puts = [{"PutRequest": {"Item": item}} for item in items.values()]
        for start in range(0, len(puts), WRITE_BATCH):
            request: dict[str, Any] = {self._table: puts[start : start + WRITE_BATCH]}
            for tries in range(UNPROCESSED_TRIES):
                request = self._db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    break
                self._sleep(UNPROCESSED_PAUSE_SECONDS * 2**tries)
            else:
                raise RuntimeError("DynamoDB left delivery-log items unprocessed")

    def _item(self, attempt: Attempt) -> dict[str, Any]:
        keys, event = TenantKeys(attempt.event.tenant_id), attempt.event
        sort_key = delivery_log_sort_key(iso(attempt.at), attempt.connector, event.id, attempt.attempt)
        return keys.delivery_log(event.ticket_id, sort_key) | to_item({
            "type": "delivery_log", "tenant_id": event.tenant_id, "connector": attempt.connector,
            "event_id": event.id, "event_type": event.type, "ticket_id": event.ticket_id,
            "attempt": attempt.attempt, "outcome": attempt.outcome.kind,
            "status_code": attempt.outcome.status_code, "reason": attempt.outcome.reason,
            "latency_ms": attempt.latency_ms, "at": iso(attempt.at), "event": attempt.stored,
            "customer_id": customer_of(event),  # whose key seals ``event`` (None: the tenant's)
            "gsi1pk": keys.connector_log_index(attempt.connector, shard_of(event.id, self._shards)),
            "gsi1sk": sort_key, "expires_at": int((attempt.at + self._kept_for(event.tenant_id)).timestamp()),
        })

    def by_ticket(self, tenant_id: str, ticket_id: str, *, limit: int = 50,
                  before: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """A ticket's attempts, newest first; returns ``(page, cursor)``."""
        partition = TenantKeys(tenant_id).delivery_log_partition(ticket_id)
        limit = min(limit, MAX_PAGE)
        items = self._query(None, "pk", "sk", partition, limit + 1, before)
        page = items[:limit]
        return [_public(item) for item in page], page[-1]["sk"] if page and len(items) > limit else None

    def by_connector(self, tenant_id: str, connector: str, *, limit: int = 50,
                     before: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """A connector's attempts across the index shards, newest first."""
        items, cursor = self.by_connector_raw(tenant_id, connector, limit=limit, before=before)
        return [_public(item) for item in items], cursor

    def by_connector_raw(self, tenant_id: str, connector: str, *, limit: int = MAX_PAGE,
                         before: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """Like :meth:`by_connector`, whole items (with the event), for replay."""
        keys, limit = TenantKeys(tenant_id), min(limit, MAX_PAGE)
        pages = [self._query(ACTIVITY_INDEX, "gsi1pk", "gsi1sk", keys.connector_log_index(connector, shard),
                             limit + 1, before) for shard in range(self._shards)]
        items = list(heapq.merge(*pages, key=lambda i: i["gsi1sk"], reverse=True))
        page = items[:limit]
        return page, page[-1]["gsi1sk"] if page and len(items) > limit else None

    def _query(self, index: str | None, pk: str, sk: str, partition: str, limit: int,
               before: str | None) -> list[dict[str, Any]]:
        condition = f"{pk} = :p" + (f" AND {sk} < :before" if before else "")
        values: dict[str, Any] = {":p": partition} | ({":before": before} if before else {})
        kwargs: dict[str, Any] = {"IndexName": index} if index else {}
        result = self._db.query(TableName=self._table, KeyConditionExpression=condition, Limit=limit,
                                ExpressionAttributeValues=to_item(values), ScanIndexForward=False, **kwargs)
        return [from_item(item) for item in result.get("Items", [])]


_PUBLIC = ("connector", "event_id", "event_type", "ticket_id", "attempt", "outcome", "status_code",
           "reason", "latency_ms", "at")


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item.get(k) for k in _PUBLIC}
