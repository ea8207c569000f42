"""A stream record that can never be processed is set aside in its tenant's
partition (with its reason, replayable) and holds back no one; replay runs the
stream handler again on the item as it is now. The local stream pump plays the
event source mapping's bounded retries: bisect, give up, tell the on-failure queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError
from switchboard_sdk import BadPayload, RateLimited
from switchboard_sdk.testing import StatusServer

from chalicelib.hub import Hub
from chalicelib.pipeline.conversations import ConversationBuilder
from chalicelib.pipeline.dispatch import Dispatcher, NotQueued
from chalicelib.pipeline.setaside import is_transient
from chalicelib.pipeline.stream import StreamProcessor
from chalicelib.storage.items import to_item
from chalicelib.storage.keys import TenantKeys
from tests.conftest import Pipeline, table_items
from tests.sealed_docs import opened_items
from tests.sealed_jobs import opened_body
from tests.test_store import EMAIL, inbound
from tests.test_stream import conversation, queued_jobs, stream_records
from tools.local.demo import DemoTenant
from tools.local.pumps import OnFailureQueue, StreamPump, drain


def aws_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Operation")


@pytest.mark.parametrize(("err", "transient"), [
    (aws_error("ProvisionedThroughputExceededException"), True),
    (aws_error("ThrottlingException"), True),
    (aws_error("InternalServerError"), True),
    (aws_error("AccessDeniedException"), True),  # would fail every record alike: not set aside
    (aws_error("ValidationException"), False),  # e.g. an item over 400 KB
    (aws_error("AWS.SimpleQueueService.BatchRequestTooLong"), False),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True),
    (ConnectionResetError(), True),
    (NotQueued("1", "ServiceUnavailable"), True),
    (RateLimited(), True),
    (ParamValidationError(report="bad"), False),
    (BadPayload("unreadable"), False),
    (ValueError("does not validate"), False),
    (KeyError("tenant_id"), False),
    (PermissionError("another tenant's record"), False),
])
def test_what_is_retried_and_what_is_set_aside(err: BaseException, transient: bool) -> None:
    assert is_transient(err) is transient


def write_inbound(hub: Hub, tenant_id: str, provider_id: str, doc: str) -> None:
    """An inbound item put straight into the table: what a corrupted or future-format record looks like."""
    item = TenantKeys(tenant_id).inbound("web", provider_id) | to_item(
        {"type": "inbound", "tenant_id": tenant_id, "doc": doc})
    hub.aws.dynamodb.put_item(TableName=hub.settings.table_name, Item=item)


def delivered_texts(receiver: StatusServer) -> list[str]:
    events = [json.loads(body) for *_, body in receiver.requests]
    return [e["data"]["message"]["text"] for e in events if e["type"] == "message.created"]


def test_a_set_aside_record_is_replayed_once_its_item_is_repaired(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer
) -> None:
    write_inbound(hub, "demo", "poison-1", '{"not": "a message"}')
    pipeline.drain()
    [entry] = hub.set_aside.entries("demo")
    assert entry["reason"].startswith("ValidationError")

    still = hub.set_aside.replay("demo", hub.stream.process)
    assert list(still.still_failing) == [entry["id"]], "still broken: kept, with its reason"
    assert still.still_failing[entry["id"]].startswith("ValidationError")
    assert [e["id"] for e in hub.set_aside.entries("demo")] == [entry["id"]]

    write_inbound(hub, "demo", "poison-1", inbound("poison-1", EMAIL, text="repaired").model_dump_json())
    pipeline.drain()  # the repair is a MODIFY: the stream handler does not take it up by itself
    assert delivered_texts(receiver) == []
    report = hub.set_aside.replay("demo", hub.stream.process)
    assert report.replayed == [entry["id"]]
    assert hub.set_aside.entries("demo") == []
    pipeline.drain()
    assert delivered_texts(receiver) == ["repaired"]


def test_a_record_naming_another_tenant_is_set_aside_in_its_own_and_writes_nothing(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    write_inbound(hub, "tenant-a", "p-1", inbound("p-1", EMAIL).model_dump_json())  # its document says "demo"
    pipeline.drain()
    [entry] = hub.set_aside.entries("tenant-a")
    assert entry["reason"].startswith("PermissionError")
    assert table_items(hub, "message") == []
    assert hub.set_aside.entries("demo") == []


class RefusingSqs:
    """The SQS client, refusing (SenderFault) jobs whose event (opened: it is sealed) contains ``marker``."""

    def __init__(self, sqs: Any, marker: str, hub: Hub) -> None:
        self._sqs, self._marker, self._hub = sqs, marker, hub

    def _refused(self, body: str) -> bool:
        return self._marker in json.dumps(opened_body(self._hub, body), ensure_ascii=False, separators=(",", ":"))

    def send_message_batch(self, **kwargs: Any) -> Any:
        refused = [e for e in kwargs["Entries"] if self._refused(e["MessageBody"])]
        kept = [e for e in kwargs["Entries"] if e not in refused]
        result = self._sqs.send_message_batch(**kwargs | {"Entries": kept}) if kept else {}
        return result | {"Failed": [{"Id": e["Id"], "Code": "InvalidMessageContents", "SenderFault": True}
                                    for e in refused]}


def test_a_record_whose_jobs_sqs_refuses_is_set_aside_and_the_rest_are_queued(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    texts = conversation(hub)  # 2 tickets + 12 messages, "ada-0" .. "bob-5"
    sqs = RefusingSqs(hub.aws.sqs, '"text":"bob-2"', hub)
    processor = StreamProcessor(ConversationBuilder(hub.store),
                                Dispatcher(hub.tenants, sqs, hub.settings.queue_url, crypto=hub.crypto), hub.set_aside)
    assert processor.process(stream_records(hub, pipeline)) == {"batchItemFailures": []}
    queued = [job["event"]["data"]["message"]["text"] for job in queued_jobs(hub) if "message" in job["event"]["data"]]
    assert sorted(queued) == sorted(t for t in texts if t != "bob-2")
    [entry] = hub.set_aside.entries("demo")
    assert "InvalidMessageContents" in entry["reason"]
    [refused] = [m for m in opened_items(hub, table_items(hub, "message")) if m["text"] == "bob-2"]
    assert entry["record_keys"]["sk"].endswith(refused["id"]), "the message's own record"


# -- the local stream pump: Lambda's MaximumRetryAttempts, bisect and on-failure destination


def put_marker(hub: Hub, name: str) -> None:
    item = {"pk": {"S": f"T#demo#TEST#{name}"}, "sk": {"S": "TEST"}, "type": {"S": "test"}}
    hub.aws.dynamodb.put_item(TableName=hub.settings.table_name, Item=item)


class Handler:
    """A stream handler that fails on the ``poison`` item (reported, or raised) and records the rest."""

    def __init__(self, poison: str, *, raises: bool) -> None:
        self.poison, self.raises = f"T#demo#TEST#{poison}", raises
        self.done: list[str] = []
        self.poison_tries = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
        if self.poison in keys:
            self.poison_tries += 1
            if self.raises:
                raise RuntimeError("cannot handle it")
            at = keys.index(self.poison)
            self.done += keys[:at]
            return {"batchItemFailures": [{"itemIdentifier": records[at]["dynamodb"]["SequenceNumber"]}]}
        self.done += keys
        return {"batchItemFailures": []}


def failures_sent(hub: Hub, url: str) -> list[dict[str, Any]]:
    messages = hub.aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def run_pump(hub: Hub, pipeline: Pipeline, outputs: dict[str, str], handler: Handler) -> None:
    for name in ("a", "b", "poison", "c", "d"):
        put_marker(hub, name)
    now = [0.0]  # the pump's clock: each poll moves it on a second, so retries come without waiting

    def tick() -> float:
        now[0] += 1.0
        return now[0]

    pump = StreamPump(hub.aws.client("dynamodbstreams"), pipeline.stream._arn, handler, max_retries=2,
                      on_failure=OnFailureQueue(hub.aws.sqs, outputs["StreamFailureQueueUrl"]), monotonic=tick)
    drain([pump])


def test_the_stream_pump_gives_up_on_a_record_after_its_retries_and_goes_on(
    hub: Hub, pipeline: Pipeline, outputs: dict[str, str]
) -> None:
    handler = Handler("poison", raises=False)
    run_pump(hub, pipeline, outputs, handler)
    assert handler.poison_tries == 3, "tried once, retried twice"
    assert [k for k in handler.done if "#TEST#" in k] == [f"T#demo#TEST#{n}" for n in ("a", "b", "c", "d")]
    [failure] = failures_sent(hub, outputs["StreamFailureQueueUrl"])
    info = failure["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_raising_handler_has_its_batch_bisected_down_to_the_bad_record(
    hub: Hub, pipeline: Pipeline, outputs: dict[str, str]
) -> None:
    handler = Handler("poison", raises=True)
    run_pump(hub, pipeline, outputs, handler)
    assert [k for k in handler.done if "#TEST#" in k] == [f"T#demo#TEST#{n}" for n in ("a", "b", "c", "d")]
    [failure] = failures_sent(hub, outputs["StreamFailureQueueUrl"])
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
