"""Play Lambda's event-source mappings, which ``chalice local`` does not run.

:class:`StreamPump` reads the table's stream and :class:`QueuePump` the delivery
queue, and both call the same handler functions Lambda would, with
Lambda-shaped events, honouring ``batchItemFailures`` the way Lambda does.
Used in threads by the local runtime and synchronously (``drain``) by tests.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The parts of Lambda's context object handlers may touch."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _failures(result: Any) -> list[str]:
    if not isinstance(result, dict):
        return []
    return [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]


@dataclass
class OnFailureQueue:
    """An event source mapping's on-failure destination: an SQS queue that gets a
    description of each record given up on (never the record itself)."""

    sqs: Any
    url: str

    def __call__(self, failure: dict[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(failure))


class StreamPump:
    """Plays the table's stream event source mapping (infra/template.json):
    ``batchItemFailures`` retry from the first failed record; a handler that
    raises has its batch halved before the next try (BisectBatchOnFunctionError),
    so a bad record ends up alone; a failing record is retried after a pause
    doubling from ``retry_base_seconds`` (up to 8 s, so a passing hiccup is
    ridden out), and one that still fails after ``max_retries`` retries is given
    up on, described to ``on_failure`` (the mapping's OnFailure destination;
    logged when there is none), and the pump goes on after it (MaximumRetryAttempts).

    Each poll asks for a fresh shard iterator at the position it reached: moto undoes
    a cancelled ``TransactWriteItems`` by putting back a copy of the whole table, its
    stream included, and an iterator taken before that reads the discarded copy —
    the workflow's conditional transactions are cancelled routinely (a stale
    version), and the pump must not go blind after one."""

    def __init__(self, streams: Any, stream_arn: str, handler: Handler, *, batch_size: int = 100,
                 refresh_seconds: float = 10.0, monotonic: Callable[[], float] = time.monotonic,
                 max_retries: int = 5, on_failure: Callable[[dict[str, Any]], None] | None = None,
                 retry_base_seconds: float = 0.5) -> None:
        self._streams = streams
        self._arn = stream_arn
        self._handler = handler
        self._batch = batch_size
        self._positions: dict[str, tuple[str, str] | None] = {}  # shard → (iterator type, sequence number)
        self._context = LambdaContext("store_changes")
        self._refresh_seconds, self._monotonic = refresh_seconds, monotonic
        self._refreshed_at: float | None = None
        self._max_retries, self._on_failure = max_retries, on_failure
        self._limits: dict[str, int] = {}  # shard → batch size while bisecting
        self._retries: dict[str, tuple[str, int]] = {}  # shard → (failing sequence number, failures)
        self._retry_base = retry_base_seconds
        self._resume_at: dict[str, float] = {}  # shard → when its failed record may be retried

    def _refresh_shards(self) -> None:
        """Look for new shards now and then (like Lambda), not on every poll."""
        now = self._monotonic()
        if self._refreshed_at is not None and now - self._refreshed_at < self._refresh_seconds:
            return
        self._refreshed_at = now
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            self._positions.setdefault(shard["ShardId"], ("TRIM_HORIZON", ""))

    def poll_once(self) -> int:
        """One GetRecords per shard, each batch handed to the handler; returns records seen
        (a batch that failed and will be retried counts: work remains)."""
        self._refresh_shards()
        handled = 0
        for shard_id, position in list(self._positions.items()):
            if position is None:
                continue
            if self._monotonic() < self._resume_at.get(shard_id, 0.0):
                handled += 1  # a failed record waits for its retry: work remains
                continue
            iterator = self._iterator(shard_id, *position)
            result = self._streams.get_records(ShardIterator=iterator, Limit=self._limits.get(shard_id, self._batch))
            records = result.get("Records", [])
            if result.get("NextShardIterator") is None:  # the shard closed: nothing more will come
                self._positions[shard_id] = None
            if records:
                for record in records:
                    record.setdefault("eventSourceARN", self._arn)  # moto leaves it out
                failed, raised = self._invoke(records)
                next_position = ("AFTER_SEQUENCE_NUMBER", records[-1]["dynamodb"]["SequenceNumber"])
                if failed:  # like Lambda: retry from the first failed record
                    next_position = self._after_failure(shard_id, records, failed[0], raised)
                else:
                    for state in (self._limits, self._retries, self._resume_at):
                        state.pop(shard_id, None)
                handled += len(records)
                if self._positions[shard_id] is not None:
                    self._positions[shard_id] = next_position
        return handled

    def _invoke(self, records: list[dict[str, Any]]) -> tuple[list[str], bool]:
        """The sequence numbers the handler reports failed, and whether it raised
        (then the whole batch failed, from its first record)."""
        try:
            return _failures(self._handler({"Records": records}, self._context)), False
        except Exception:
            log.exception("store_changes raised on a batch of %d records", len(records))
            return [records[0]["dynamodb"]["SequenceNumber"]], True

    def _after_failure(self, shard_id: str, records: list[dict[str, Any]], first: str,
                       raised: bool) -> tuple[str, str]:
        """The position to go on from: at ``first`` to retry it, or after it once given up."""
        if raised and len(records) > 1:  # bisect; a split is not a retry (as Lambda counts)
            self._limits[shard_id] = max(1, len(records) // 2)
            return "AT_SEQUENCE_NUMBER", first
        failing, count = self._retries.get(shard_id, ("", 0))
        count = count + 1 if failing == first else 1
        if count <= self._max_retries:
            self._retries[shard_id] = (first, count)
            self._resume_at[shard_id] = self._monotonic() + min(8.0, self._retry_base * 2.0 ** (count - 1))
            return "AT_SEQUENCE_NUMBER", first
        record = next(r for r in records if r["dynamodb"]["SequenceNumber"] == first)
        self._give_up(shard_id, record, count)
        for state in (self._limits, self._retries, self._resume_at):
            state.pop(shard_id, None)
        return "AFTER_SEQUENCE_NUMBER", first

    def _give_up(self, shard_id: str, record: dict[str, Any], invocations: int) -> None:
        """Describe the record as Lambda's on-failure record does (where to find it, not what it holds)."""
        sequence, at = record["dynamodb"]["SequenceNumber"], record["dynamodb"].get("ApproximateCreationDateTime")
        arrival = at.isoformat() if hasattr(at, "isoformat") else str(at or "")
        failure = {
            "requestContext": {"requestId": self._context.aws_request_id, "functionArn": self._context.function_name,
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": invocations},
            "version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {"shardId": shard_id, "startSequenceNumber": sequence,
                                   "endSequenceNumber": sequence, "approximateArrivalOfFirstRecord": arrival,
                                   "approximateArrivalOfLastRecord": arrival, "batchSize": 1,
                                   "streamArn": self._arn},
        }
        log.error("stream record %s failed %d times; given up on: %s", sequence, invocations, json.dumps(failure))
        if self._on_failure is not None:
            self._on_failure(failure)

    def _iterator(self, shard_id: str, kind: str, sequence: str) -> str:
        at = {"SequenceNumber": sequence} if sequence else {}
        result = self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id, ShardIteratorType=kind, **at)
        return str(result["ShardIterator"])


class QueuePump:
    def __init__(self, sqs: Any, queue_url: str, queue_arn: str, handler: Handler, *, batch_size: int = 10) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._arn = queue_arn
        self._handler = handler
        self._batch = batch_size
        self._context = LambdaContext("deliveries")
        # SQS hands a FIFO group to one consumer at a time; moto's server checks
        # and marks groups without a lock, so concurrent receives could split a
        # group between two workers. Receives go one at a time; handling does not.
        self._receiving = threading.Lock()

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch, run the handler, delete what it finished; returns jobs finished."""
        with self._receiving:
            messages = self._sqs.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=self._batch, WaitTimeSeconds=wait_seconds,
                AttributeNames=["All"], MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
        if not messages:
            return 0
        records = [self._record(m) for m in messages]
        failed = set(_failures(self._handler({"Records": records}, self._context)))
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ])
        return len(done)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"], "attributes": message.get("Attributes", {}),
            "messageAttributes": {}, "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs", "eventSourceARN": self._arn, "awsRegion": "us-east-1",
        }


class ObjectPump:
    """Plays S3 → EventBridge → Lambda (an asynchronous invocation) for new objects
    under a prefix.

    Lists the bucket and hands each key it has not seen to the handler as an
    EventBridge "Object Created" event. Like Lambda's asynchronous invocation
    (infra/template.json ``StoredObjectsInvokeConfig``), an object whose handler
    raises is tried again on later polls, ``max_retries`` times, then described
    to ``on_failure`` (the OnFailure destination) and left: one object never holds
    back the ones after it. A restarted runtime sees every object again; the
    handler is idempotent, so that only costs time.
    """

    def __init__(self, s3: Any, bucket: str, handler: Handler, *, prefix: str = "inbound/",
                 max_retries: int = 2, on_failure: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._handler = handler
        self._prefix = prefix
        self._max_retries = max_retries
        self._on_failure = on_failure
        self._seen: set[str] = set()
        self._failures: dict[str, int] = {}
        self._context = LambdaContext("stored_objects")

    def poll_once(self) -> int:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=self._prefix)
        fresh = [o for page in pages for o in page.get("Contents", []) if o["Key"] not in self._seen]
        for obj in fresh:
            self._invoke(obj)
        return len(fresh)

    def _invoke(self, obj: dict[str, Any]) -> None:
        event = self._event(obj)
        try:
            self._handler(event, self._context)
        except Exception as err:
            failures = self._failures[obj["Key"]] = self._failures.get(obj["Key"], 0) + 1
            if failures <= self._max_retries:
                log.warning("object %s failed (%s); tried again on the next poll", obj["Key"], type(err).__name__)
                return
            log.exception("object %s failed %d times; sent to the on-failure destination", obj["Key"], failures)
            self._give_up(event, err)
        self._failures.pop(obj["Key"], None)
        self._seen.add(obj["Key"])

    def _give_up(self, event: dict[str, Any], err: Exception) -> None:
        """What Lambda sends an asynchronous invocation's OnFailure destination."""
        failure = {"version": "1.0", "requestContext": {"condition": "RetriesExhausted",
                                                        "approximateInvokeCount": self._max_retries + 1},
                   "requestPayload": event, "responsePayload": {"errorType": type(err).__name__}}
        if self._on_failure is not None:
            self._on_failure(failure)

    def _event(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Object Created", "source": "aws.s3",
            "account": "000000000000", "time": obj["LastModified"].isoformat(), "region": "us-east-1",
            "resources": [f"arn:aws:s3:::{self._bucket}"],
            "detail": {"version": "0", "bucket": {"name": self._bucket},
                       "object": {"key": obj["Key"], "size": obj["Size"], "etag": obj.get("ETag", "")},
                       "reason": "PutObject"},
        }


class SchedulePump:
    """Plays EventBridge's schedule (``rate(1 minute)``) for a scheduled handler
    (app.py ``workflow_timers``). Each poll is one invocation with a Scheduled Event;
    the local runtime invokes it every few seconds (``runtime.SCHEDULE_SECONDS``):
    more often than AWS, so a demo does not wait a minute; the handler does only
    what has come due."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._context = LambdaContext("workflow_timers")

    def poll_once(self) -> int:
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "000000000000", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:000000000000:rule/workflow-timers"],
                 "detail": {}}
        report = self._handler(event, self._context)
        return int((report or {}).get("fired", 0)) if isinstance(report, dict) else 0


def idle_wait(idle_polls: int, *, first: float = 0.05, most: float = 0.5) -> float:
    """How long a pump rests after ``idle_polls`` empty polls in a row: doubling from
    ``first`` up to ``most``, so an idle runtime stops hammering the emulator while a
    busy one never waits."""
    # The pump's idle count grows without bound and 2.0 ** n overflows a float past
    # n = 1023, so no power is taken: the wait doubles only until it reaches the
    # ceiling, a handful of steps whatever the count.
    wait, doublings = max(0.0, first), idle_polls - 1
    while doublings > 0 and 0 < wait < most:
        wait, doublings = wait * 2, doublings - 1
    return min(wait, most)


def drain(pumps: list[Any], *, idle_rounds: int = 2, timeout: float = 30.0) -> None:
    """Poll until every pump came back empty ``idle_rounds`` times in a row (tests)."""
    deadline, idle = time.monotonic() + timeout, 0
    while idle < idle_rounds:
        if time.monotonic() > deadline:
            raise TimeoutError("pumps did not drain in time")
        idle = 0 if sum(p.poll_once() for p in pumps) else idle + 1
