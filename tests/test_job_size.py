"""Delivery jobs never carry what can grow without bound: a large event travels as a
reference to its stored item and the worker reads it back before the attempt, so
every SendMessageBatch stays within SQS's classic limits (10 entries, 256 KiB)
and the receiver still gets the whole text. Small events ride inline and cost the
worker no read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from switchboard_sdk import EventEnvelope
from switchboard_sdk.testing import StatusServer, sample_event

from chalicelib.hub import Hub
from chalicelib.pipeline.conversations import ConversationBuilder
from chalicelib.pipeline.dispatch import Dispatcher
from chalicelib.pipeline.jobs import INLINE_JOB_BYTES, Job, decode, dumps, fitting, job_for
from chalicelib.pipeline.replay import Replayer, ReplayFilter
from chalicelib.pipeline.stream import StreamProcessor
from tests.conftest import Pipeline
from tests.helpers import dead_letters, receive_records
from tests.test_store import EMAIL, inbound
from tests.test_stream import BOB, stream_records
from tools.local.demo import DemoTenant

CLASSIC_BATCH_BYTES = 256 * 1024
CJK = "中" * 100_000  # 300 KB in UTF-8, 600 KB JSON-escaped
EMOJI = "😀" * 92_000  # 368 KB in UTF-8, 1.1 MB JSON-escaped


class MeasuredSqs:
    """The SQS client, keeping (entries, body bytes) of every SendMessageBatch."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs
        self.batches: list[tuple[int, int]] = []

    def send_message_batch(self, **kwargs: Any) -> Any:
        entries = kwargs["Entries"]
        self.batches.append((len(entries), sum(len(e["MessageBody"].encode()) for e in entries)))
        return self._sqs.send_message_batch(**kwargs)


def job(body: str) -> Job:
    """A delivery job decoded from its body (not a reply's send job)."""
    decoded = decode(body)
    assert isinstance(decoded, Job), decoded
    return decoded


def delivered_texts(receiver: StatusServer) -> dict[str, str]:
    events = [json.loads(body) for _method, _path, _headers, body in receiver.requests]
    return {e["id"]: e["data"]["message"]["text"] for e in events if e["type"] == "message.created"}


def test_huge_messages_are_queued_within_sqs_limits_and_delivered_whole(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer
) -> None:
    builder = ConversationBuilder(hub.store)
    sent = []
    for pid, who, text in (("cjk-1", EMAIL, CJK), ("cjk-2", BOB, CJK), ("emoji", EMAIL, EMOJI)):
        assert builder.absorb(inbound(pid, who, text=text)) is not None
        sent.append(text)
    sqs = MeasuredSqs(hub.aws.sqs)
    processor = StreamProcessor(ConversationBuilder(hub.store),
                                Dispatcher(hub.tenants, sqs, hub.settings.queue_url, crypto=hub.crypto), hub.set_aside)

    assert processor.process(stream_records(hub, pipeline)) == {"batchItemFailures": []}
    assert sqs.batches == [(5, sqs.batches[0][1])], "2 tickets + 3 messages, one call"
    assert all(n <= 10 and size <= CLASSIC_BATCH_BYTES for n, size in sqs.batches)

    records = receive_records(hub)
    assert sum(not job(r["body"]).inline for r in records) == 3, "the three messages go by reference"
    assert hub.worker.process(records) == {"batchItemFailures": []}
    assert dead_letters(hub) == []
    texts = delivered_texts(receiver)
    assert sorted(texts.values()) == sorted(sent), "every character arrives"


def test_a_large_event_is_replayed_whole_from_the_dead_letters_and_from_the_log(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer
) -> None:
    assert ConversationBuilder(hub.store).absorb(inbound("emoji", EMAIL, text=EMOJI)) is not None
    receiver.status = 404  # a removed endpoint: dead-lettered at once
    pipeline.drain()
    letters = dead_letters(hub)
    # the new ticket, its message and the workflow's triage of the ticket (a ticket.updated)
    assert sorted((letter.get("ref") or letter["event"])["type"] for letter in letters) == [
        "message.created", "ticket.created", "ticket.updated"]
    assert [letter["ref"]["type"] for letter in letters if "event" not in letter] == ["message.created"]
    logged = hub.delivery_log.by_connector_raw("demo", "webhook")[0]
    assert max(len(item["event"]) for item in logged) < INLINE_JOB_BYTES, "the log keeps the reference"

    receiver.status, receiver.requests[:] = 200, []
    replayer = Replayer(hub.aws.sqs, hub.settings.queue_url, hub.settings.dlq_url, hub.store, hub.delivery_log)
    assert len(replayer.from_dead_letters("demo", ReplayFilter()).requeued) == len(letters)
    pipeline.drain()
    assert list(delivered_texts(receiver).values()) == [EMOJI]

    receiver.requests[:] = []
    replayer.from_log("demo", "webhook", ReplayFilter(event_ids=frozenset(logged_message_events(hub))))
    pipeline.drain()
    assert list(delivered_texts(receiver).values()) == [EMOJI]


def logged_message_events(hub: Hub) -> list[str]:
    """Event ids of the logged message.created attempts."""
    items = hub.delivery_log.by_connector_raw("demo", "webhook")[0]
    return [item["event_id"] for item in items if item["event_type"] == "message.created"]


def test_a_small_event_rides_inline_and_costs_the_worker_no_table_read(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    event = sample_event(demo.tenant_id)
    Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url, crypto=hub.crypto).enqueue([event])
    [record] = receive_records(hub)
    assert job(record["body"]).opened(hub.crypto).event == event
    reads: list[str] = []  # partitions read (the breaker's state is read too, and cached)
    hub.aws.dynamodb.meta.events.register("before-parameter-build.dynamodb.GetItem",
                                          lambda params, **_: reads.append(params["Key"]["pk"]["S"]))
    hub.aws.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.Query",
        lambda params, **_: reads.append(params["ExpressionAttributeValues"][":p"]["S"]))
    assert hub.worker.process([record]) == {"batchItemFailures": []}
    assert not [pk for pk in reads if "#TK#" in pk or "#CU#" in pk], "neither the message nor its customer is read"
    assert [json.loads(body)["id"] for *_, body in receiver.requests] == [event.id]


def large(event: EventEnvelope, text: str) -> EventEnvelope:
    message = event.data["message"] | {"text": text}
    return event.model_copy(update={"data": event.data | {"message": message}})


def test_the_job_is_inline_up_to_its_bound_then_a_reference_of_ids_only() -> None:
    event = sample_event("demo")
    inline = job_for("webhook", event)
    assert inline.event == event
    assert decode(inline.body) == inline
    referenced = job_for("webhook", large(event, CJK))
    assert referenced.event is None
    assert referenced.ref.message_id == event.data["message"]["id"]
    assert len(referenced.body.encode()) < 1024
    assert decode(referenced.body) == referenced
    near = job_for("webhook", large(event, "中" * ((INLINE_JOB_BYTES - 2000) // 3)))
    assert near.event is not None, "non-ASCII text is measured in UTF-8 bytes, not escaped"


def test_a_job_from_before_references_still_decodes() -> None:
    event = sample_event("demo")
    old = json.dumps({"connector": "webhook", "event": event.model_dump(mode="json")})
    assert job(old).event == event
    letter = json.dumps(json.loads(old) | {"dead_letter": {"reason": "x", "status_code": 500, "attempts": 8}})
    assert job(letter).ref.id == event.id


def test_characters_sqs_refuses_are_escaped_and_come_back_unchanged() -> None:
    text = "ok \ud800 \ufffe \uffff 中"
    body = dumps({"text": text})
    assert not {"\ud800", "\ufffe", "\uffff"} & set(body)
    assert "中" in body, "non-ASCII text is kept as it is"
    body.encode()  # valid UTF-8: nothing unpaired left
    assert json.loads(body)["text"] == text


@pytest.mark.parametrize(("sizes", "count"), [
    ([100] * 12, 10),
    ([100_000, 100_000, 100_000], 2),
    ([300_000, 10], 1),  # too large alone: sent alone (and refused by SQS), never held
])
def test_a_batch_takes_ten_entries_and_256_kib_at_most(sizes: list[int], count: int) -> None:
    assert fitting(sizes) == count
