"""The stream handler's delivery jobs: batched across the stream batch (ten per
SendMessageBatch, the customers they name in one read), and on a failed send retried
from the first record whose jobs were not queued — nothing lost, nothing twice.
Parked follow-ups: released when what they wait for is stored, however the two
race, at the cost of one read only for messages a follow-up waits for."""

from __future__ import annotations

import copy
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from switchboard_sdk import Identity, InboundMessage, ThreadHints

from chalicelib.hub import Hub
from chalicelib.pipeline.conversations import ConversationBuilder
from chalicelib.pipeline.dispatch import Dispatcher
from chalicelib.pipeline.stream import StreamProcessor
from chalicelib.storage.conversations import Conversations
from tests.conftest import Pipeline, table_items
from tests.sealed_jobs import opened_body
from tests.test_store import EMAIL, T0, inbound
from tools.local.demo import DemoTenant

BOB = Identity(kind="email", value="bob@example.com")


class CountingSqs:
    """The SQS client, counting SendMessageBatch calls; ``fail_call`` (1-based)
    makes that call raise, or with ``fail_ids`` answer those entries as failed."""

    def __init__(self, sqs: Any, fail_call: int = 0, fail_ids: tuple[str, ...] = ()) -> None:
        self._sqs, self.fail_call, self.fail_ids = sqs, fail_call, fail_ids
        self.batches: list[int] = []

    def send_message_batch(self, **kwargs: Any) -> Any:
        self.batches.append(len(kwargs["Entries"]))
        if len(self.batches) == self.fail_call and not self.fail_ids:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessageBatch")
        if len(self.batches) == self.fail_call:
            kept = [e for e in kwargs["Entries"] if e["Id"] not in self.fail_ids]
            result = self._sqs.send_message_batch(**kwargs | {"Entries": kept})
            return result | {"Failed": [{"Id": i, "Code": "InternalError", "SenderFault": False}
                                        for i in self.fail_ids]}
        return self._sqs.send_message_batch(**kwargs)


def stream_records(hub: Hub, pipeline: Pipeline) -> list[dict[str, Any]]:
    """Every record in the table's stream so far, Lambda-shaped."""
    streams = hub.aws.client("dynamodbstreams")
    [shard] = streams.describe_stream(StreamArn=pipeline.stream._arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=pipeline.stream._arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])


def queued_jobs(hub: Hub) -> list[dict[str, Any]]:
    """Every job in the delivery queue (received and deleted), in receive order, its sealed
    event opened (tests/sealed_jobs.py: a job carrying its event in clear fails)."""
    jobs = []
    while messages := hub.aws.sqs.receive_message(QueueUrl=hub.settings.queue_url, MaxNumberOfMessages=10,
                                                  VisibilityTimeout=0).get("Messages", []):
        jobs += [opened_body(hub, m["Body"]) for m in messages]
        hub.aws.sqs.delete_message_batch(QueueUrl=hub.settings.queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return jobs


def conversation(hub: Hub) -> list[str]:
    """Two customers, one message each, then five more each: 2 tickets + 12 messages."""
    builder = ConversationBuilder(hub.store)
    texts = []
    for n in range(6):
        for who, identity in (("ada", EMAIL), ("bob", BOB)):
            text = f"{who}-{n}"
            builder.absorb(inbound(f"{who}{n}", identity, at=T0 + timedelta(seconds=n), text=text))
            texts.append(text)
    return texts


def processor(hub: Hub, sqs: CountingSqs, conversations: ConversationBuilder | None = None) -> StreamProcessor:
    return StreamProcessor(conversations or ConversationBuilder(hub.store),
                           Dispatcher(hub.tenants, sqs, hub.settings.queue_url, crypto=hub.crypto), hub.set_aside)


class Throttled(ConversationBuilder):
    """Conversation building that DynamoDB throttles for one provider message id."""

    def __init__(self, hub: Hub, provider_id: str) -> None:
        super().__init__(hub.store)
        self.provider_id = provider_id

    def absorb(self, inbound: InboundMessage) -> Any:
        if inbound.provider_message_id == self.provider_id:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                              "UpdateItem")
        return super().absorb(inbound)


def inbound_record(like: dict[str, Any], doc: str, sequence: str) -> dict[str, Any]:
    """A new inbound record with ``doc``, keyed like the stream record ``like``."""
    record = copy.deepcopy(like)
    record["eventName"] = "INSERT"
    record["dynamodb"]["NewImage"] = record["dynamodb"]["Keys"] | {  # an image holds the item's keys too
        "type": {"S": "inbound"}, "tenant_id": {"S": "demo"}, "doc": {"S": doc}}
    record["dynamodb"]["SequenceNumber"] = sequence
    return record


def customer_reads(hub: Hub) -> list[list[str]]:
    """The customer keys of each read call, as they are made."""
    reads: list[list[str]] = []

    def one(params: dict[str, Any], **_: Any) -> None:
        if "#CU#" in params["Key"]["pk"]["S"]:
            reads.append([params["Key"]["pk"]["S"]])

    def batch(params: dict[str, Any], **_: Any) -> None:
        keys = [k["pk"]["S"] for request in params["RequestItems"].values() for k in request["Keys"]]
        if any("#CU#" in k for k in keys):
            reads.append(keys)

    hub.aws.dynamodb.meta.events.register("before-parameter-build.dynamodb.GetItem", one)
    hub.aws.dynamodb.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", batch)
    return reads


def assert_each_job_once_in_order(jobs: list[dict[str, Any]], texts: list[str]) -> None:
    events = [job["event"] for job in jobs]
    assert len({e["id"] for e in events}) == len(events) == len(texts) + 2, "every event once"
    by_ticket: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_ticket[e["ticket_id"]].append(e)
    assert len(by_ticket) == 2
    for mine in by_ticket.values():
        assert mine[0]["type"] == "ticket.created"
        said = [e["data"]["message"]["text"] for e in mine[1:]]
        assert said == [t for t in texts if t[:3] == said[0][:3]], "in order"


def test_a_batchs_jobs_go_out_ten_per_call_with_one_read_for_its_customers(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    texts = conversation(hub)
    sqs, reads = CountingSqs(hub.aws.sqs), customer_reads(hub)
    result = processor(hub, sqs).process(stream_records(hub, pipeline))
    assert result == {"batchItemFailures": []}
    assert sqs.batches == [10, 4], "14 jobs (2 tickets + 12 messages) in two calls"
    [read] = reads
    assert len(read) == len(set(read)) == 2, "both customers in one read, each once"
    assert_each_job_once_in_order(queued_jobs(hub), texts)


@pytest.mark.parametrize("fail_ids", [(), ("9",)], ids=["call-fails", "entry-fails"])
def test_a_failed_send_retries_from_the_first_record_not_queued(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline, fail_ids: tuple[str, ...]
) -> None:
    texts = conversation(hub)
    records = stream_records(hub, pipeline)
    sqs = CountingSqs(hub.aws.sqs, fail_call=1, fail_ids=fail_ids)
    result = processor(hub, sqs).process(records)
    [failure] = result["batchItemFailures"]
    dispatching = [r for r in records if r["eventName"] == "INSERT"
                   and r["dynamodb"]["NewImage"].get("type", {}).get("S") in ("ticket", "message")]
    first_unsent = dispatching[int(fail_ids[0]) if fail_ids else 0]
    assert failure["itemIdentifier"] == first_unsent["dynamodb"]["SequenceNumber"]
    assert sqs.batches == [10], "nothing after a failed send goes out of order"
    start = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == failure["itemIdentifier"])
    retried = processor(hub, CountingSqs(hub.aws.sqs)).process(records[start:])  # what Lambda does
    assert retried == {"batchItemFailures": []}
    assert_each_job_once_in_order(queued_jobs(hub), texts)


def test_a_failing_record_reports_itself_after_queueing_what_came_before(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    texts = conversation(hub)
    records = stream_records(hub, pipeline)
    throttled = inbound_record(records[-1], inbound("slow", EMAIL).model_dump_json(), "9" * 21)
    sqs = CountingSqs(hub.aws.sqs)
    result = processor(hub, sqs, Throttled(hub, "slow")).process([*records, throttled])
    assert result == {"batchItemFailures": [{"itemIdentifier": "9" * 21}]}
    assert sum(sqs.batches) == 14, "the records before it are done: their jobs are queued"
    assert_each_job_once_in_order(queued_jobs(hub), texts)
    assert hub.set_aside.entries("demo") == [], "a passing failure is retried, not set aside"


def test_a_record_that_can_never_be_processed_is_set_aside_and_the_rest_go_on(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    texts = conversation(hub)
    records = stream_records(hub, pipeline)
    broken = inbound_record(records[-1], "not json", "0" * 21)
    sqs = CountingSqs(hub.aws.sqs)
    result = processor(hub, sqs).process([broken, *records])
    assert result == {"batchItemFailures": []}, "nothing is retried: the batch moves on"
    assert sum(sqs.batches) == 14, "every record after it is processed"
    assert_each_job_once_in_order(queued_jobs(hub), texts)
    [entry] = hub.set_aside.entries("demo")
    assert entry["sequence"] == "0" * 21
    assert entry["event_name"] == "INSERT"
    assert entry["reason"].startswith("ValidationError")
    assert entry["record_keys"] == {k: v["S"] for k, v in records[-1]["dynamodb"]["Keys"].items()}


# -- parked follow-ups: released by the awaited message's record, read only when marked


def queries(hub: Hub) -> list[str]:
    made: list[str] = []
    hub.aws.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.Query", lambda params, **_: made.append(params["KeyConditionExpression"]))
    return made


def test_messages_nobody_waits_for_cost_no_release_read(hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> None:
    conversation(hub)
    made = queries(hub)
    assert processor(hub, CountingSqs(hub.aws.sqs)).process(stream_records(hub, pipeline)) == {"batchItemFailures": []}
    assert made == []


def call(pid: str) -> InboundMessage:
    return inbound(pid, EMAIL).model_copy(update={"kind": "call"})


def recording(of: str) -> InboundMessage:
    return inbound(f"{of}:recording", EMAIL).model_copy(
        update={"customer": None, "kind": "voicemail", "thread": ThreadHints(provider_ids=[of])})


@pytest.mark.parametrize("stored", ["before-it-parks", "after-it-parks", "later"])
def test_a_follow_up_is_never_left_behind_however_it_races_what_it_follows(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, stored: str
) -> None:
    """The call is stored after the recording's first look: just before the recording
    parks, just after (before its second look), or once it has parked."""
    builder, park = ConversationBuilder(hub.store), Conversations.park

    def racing_park(store: Conversations, awaited_id: str, follow_up: InboundMessage, **kwargs: Any) -> None:
        if stored == "before-it-parks":
            builder.absorb(call("CA1"))
        park(store, awaited_id, follow_up, **kwargs)
        if stored == "after-it-parks":
            builder.absorb(call("CA1"))

    monkeypatch.setattr(Conversations, "park", racing_park)
    builder.absorb(recording("CA1"))
    if stored == "later":
        builder.absorb(call("CA1"))
    made = queries(hub)
    assert processor(hub, CountingSqs(hub.aws.sqs)).process(stream_records(hub, pipeline)) == {"batchItemFailures": []}
    messages = {m["provider_message_id"]: m for m in table_items(hub, "message")}
    assert set(messages) == {"CA1", "CA1:recording"}
    assert messages["CA1:recording"]["ticket_id"] == messages["CA1"]["ticket_id"]
    assert table_items(hub, "waiting") == []
    assert len(made) == 1, "one release read: the marked call's"
