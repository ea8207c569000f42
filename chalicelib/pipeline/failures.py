"""Consumers of the two on-failure queues: what ran out of retries is set aside.

The table's stream event source mapping gives a batch up after its retries
(``MaximumRetryAttempts``; infra/template.json) and sends ``StreamFailureQueue`` a
description of it — never the records themselves::

    {"requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6, ...},
     "version": "1.0", "timestamp": "...",
     "DDBStreamBatchInfo": {"shardId": "...", "startSequenceNumber": "...", "endSequenceNumber": "...",
                            "batchSize": 1, "streamArn": "...", ...}}

:class:`StreamFailures` reads the described records back from the stream
(``GetShardIterator AT_SEQUENCE_NUMBER`` the start, ``GetRecords`` up to the end,
at most ``batchSize`` records and :data:`MAX_READS` calls) and sets each aside for
the tenant whose key space holds its item, with the reason
``retries exhausted: <condition>``; a record no tenant owns is only logged.
Stream records are kept 24 hours: a description read later finds them trimmed,
and that is logged as lost.

The stored-object handler is invoked asynchronously (EventBridge); after its
retries Lambda sends ``ObjectFailureQueue`` the invocation record, with the
EventBridge event as ``requestPayload`` and the error's type in
``responsePayload``. :class:`ObjectFailures` sets aside an entry naming the
object's key for the tenant its key is addressed to (``inbound/<tenant>/...``).

Both consumers report a message failed (``batchItemFailures``: SQS hands it out
again later) only when the failure may pass by itself (throttling, a service
unavailable); a message that can never be handled is logged and consumed.
Setting something aside twice overwrites one entry, so a redelivered message
changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ..storage.aws import error_code
from ..storage.keys import TenantKeys
from ..storage.payloads import target_of
from .setaside import ERROR_TYPE, SetAside, describe, is_transient, tenant_of

log = logging.getLogger(__name__)

MAX_READS = 20  # GetRecords calls for one described batch, at most
MAX_BATCH = 10_000  # records one description may name (Lambda's largest stream batch)
LOST_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})  # past the stream's 24 h
Report = dict[str, list[dict[str, str]]]


class Unusable(ValueError):
    """A failure message that can never be acted on (malformed, or naming what is gone)."""


def consume(records: Iterable[dict[str, Any]], handle: Callable[[dict[str, Any]], None], kind: str) -> Report:
    """Run ``handle`` on each SQS message's body; a message whose failure may pass is
    reported failed (SQS hands it out again later), any other is logged and consumed."""
    failed: list[dict[str, str]] = []
    for record in records:
        try:
            handle(json.loads(record["body"]))
        except Exception as err:
            if is_transient(err):
                log.warning("%s message %s not handled (%s); SQS hands it out again", kind,
                            record.get("messageId"), describe(err))
                failed.append({"itemIdentifier": record["messageId"]})
            else:
                log.error("%s message %s cannot be handled and is dropped: %s", kind, record.get("messageId"),
                          err if isinstance(err, Unusable) else describe(err))
    return {"batchItemFailures": failed}


class StreamFailures:
    """``StreamFailureQueue``: the stream records of each described batch, set aside."""

    def __init__(self, streams: Any, shelf: SetAside) -> None:
        self._streams = streams
        self._shelf = shelf

    def process(self, records: Iterable[dict[str, Any]]) -> Report:
        """An SQS batch of the queue's messages (the Lambda handler's work)."""
        return consume(records, self.handle, "stream failure")

    def handle(self, failure: dict[str, Any]) -> None:
        info = failure.get("DDBStreamBatchInfo")
        if not isinstance(info, dict):
            raise Unusable("no DDBStreamBatchInfo")
        condition = _condition(failure)
        records = self.read(info)
        log.warning("stream batch given up on (%s): %d record(s) from %s", condition, len(records),
                    info.get("startSequenceNumber"))
        for record in records:
            if _is_shelf(record):  # an entry's own write: nothing for the stream handler to do
                continue
            self._shelf.put(record, _image(record), f"retries exhausted: {condition}", error="")

    def read(self, info: dict[str, Any]) -> list[dict[str, Any]]:
        """The records ``info`` describes, from the stream (bounded)."""
        arn, shard = str(info.get("streamArn") or ""), str(info.get("shardId") or "")
        start, end = str(info.get("startSequenceNumber") or ""), str(info.get("endSequenceNumber") or "")
        if not (arn and shard and start.isdigit() and end.isdigit()):
            raise Unusable(f"no stream, shard or sequence numbers in {json.dumps(info)[:300]}")
        wanted = max(1, min(int(info.get("batchSize") or 1), MAX_BATCH))
        last = max(int(start), int(end))  # a description may name them in either order
        try:
            iterator = self._streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                        ShardIteratorType="AT_SEQUENCE_NUMBER",
                                                        SequenceNumber=start)["ShardIterator"]
            return self._records_up_to(arn, iterator, last, wanted)
        except Exception as err:
            if error_code(err) in LOST_CODES:
                raise Unusable(f"records {start}..{end} of {shard} are no longer in the stream "
                               f"({error_code(err)}): lost") from err
            raise

    def _records_up_to(self, arn: str, iterator: str | None, last: int, wanted: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _ in range(MAX_READS):
            if iterator is None or len(found) >= wanted:
                break
            result = self._streams.get_records(ShardIterator=iterator, Limit=min(1000, wanted - len(found)))
            records = result.get("Records", [])
            for record in records:
                sequence = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
                if not sequence.isdigit() or int(sequence) > last:
                    return found
                record.setdefault("eventSourceARN", arn)  # the stream handler's records carry it
                found.append(record)
            if not records and found:  # the described batch ended with the shard's newest record
                break
            iterator = result.get("NextShardIterator")
        return found[:wanted]


class ObjectFailures:
    """``ObjectFailureQueue``: each stored object given up on, set aside for its tenant."""

    def __init__(self, shelf: SetAside) -> None:
        self._shelf = shelf

    def process(self, records: Iterable[dict[str, Any]]) -> Report:
        """An SQS batch of the queue's messages (the Lambda handler's work)."""
        return consume(records, self.handle, "object failure")

    def handle(self, failure: dict[str, Any]) -> None:
        event = failure.get("requestPayload")
        detail = event.get("detail") if isinstance(event, dict) else None
        if not isinstance(detail, dict):
            raise Unusable("no requestPayload with the EventBridge event (dropped by Lambda when too large?)")
        bucket = str((detail.get("bucket") or {}).get("name") or "")
        key = str((detail.get("object") or {}).get("key") or "")
        target = target_of(key)
        if not bucket or target is None:
            log.error("object %s of bucket %s given up on belongs to no tenant: not set aside", key, bucket)
            return
        response = failure.get("responsePayload")
        raised = str(response.get("errorType") or "") if isinstance(response, dict) else ""
        self._shelf.put_object(target[0], bucket, key, f"retries exhausted: {_condition(failure)}",
                               error=raised if ERROR_TYPE.fullmatch(raised) else "")


def _condition(failure: dict[str, Any]) -> str:
    """Why Lambda gave up (``RetryAttemptsExhausted``, ``RetriesExhausted``, ``EventAgeExceeded``, ...)."""
    context = failure.get("requestContext")
    condition = str(context.get("condition") or "") if isinstance(context, dict) else ""
    return condition if ERROR_TYPE.fullmatch(condition) else "unknown"


def _is_shelf(record: dict[str, Any]) -> bool:
    pk = str(record.get("dynamodb", {}).get("Keys", {}).get("pk", {}).get("S", ""))
    tenant_id = tenant_of(record)
    return tenant_id is not None and pk == TenantKeys(tenant_id).set_aside_partition()


def _image(record: dict[str, Any]) -> dict[str, Any]:
    from ..storage.items import from_item

    try:
        return from_item(record.get("dynamodb", {}).get("NewImage") or {})
    except (TypeError, ValueError, ArithmeticError):  # unreadable: perhaps why it failed
        return {}
