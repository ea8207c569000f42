"""What ran out of retries is set aside per tenant and becomes replayable.

The stream mapping's on-failure queue describes batches Lambda gave up on; its
consumer reads those records back from the stream and sets each aside for the
tenant whose key space holds it. The stored-object handler's on-failure queue
carries the EventBridge event; its consumer sets aside an entry naming the
object. Entries hold no personal data: keys (an identity's withheld), sequence
numbers, exception types and reasons that quote no input — before a customer's
erasure and after it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

import app as app_module
from chalicelib.hub import Hub
from chalicelib.pipeline.failures import ObjectFailures, StreamFailures
from chalicelib.pipeline.setaside import describe
from chalicelib.storage.items import to_item
from chalicelib.storage.keys import TenantKeys
from chalicelib.tenancy.tenants import PluginSetting
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.probe_plugin import ProbeChannel, spec
from tests.sealed_docs import opened_items
from tests.test_poison import Handler, put_marker, write_inbound
from tests.test_store import EMAIL, inbound
from tools.local.demo import DemoTenant
from tools.local.pumps import ObjectPump, OnFailureQueue, QueuePump, StreamPump, drain


def queue_arn(hub: Hub, url: str) -> str:
    return str(hub.aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def failure_pump(hub: Hub, outputs: dict[str, str], which: str) -> QueuePump:
    """app.py's consumer of an on-failure queue, fed as Lambda's SQS event source would."""
    url = outputs[f"{which}FailureQueueUrl"]
    handler = app_module.stream_failures if which == "Stream" else app_module.object_failures
    return QueuePump(hub.aws.sqs, url, queue_arn(hub, url), handler)


def shard_records(hub: Hub, stream_arn: str) -> tuple[str, list[dict[str, Any]]]:
    streams = hub.aws.client("dynamodbstreams")
    [shard] = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return shard["ShardId"], list(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])


def describe_batch(stream_arn: str, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """What Lambda sends the mapping's on-failure destination for ``records`` (AWS's documented shape)."""
    first, last = records[0]["dynamodb"]["SequenceNumber"], records[-1]["dynamodb"]["SequenceNumber"]
    return {
        "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:us-east-1:0:function:store_changes",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-25T00:00:00.000Z",
        "DDBStreamBatchInfo": {"shardId": shard_id, "startSequenceNumber": first, "endSequenceNumber": last,
                               "approximateArrivalOfFirstRecord": "2026-11-25T00:00:00Z",
                               "approximateArrivalOfLastRecord": "2026-11-25T00:00:00Z",
                               "batchSize": len(records), "streamArn": stream_arn},
    }


def send(hub: Hub, url: str, body: dict[str, Any]) -> None:
    hub.aws.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


def aside_items(hub: Hub) -> list[dict[str, Any]]:
    return table_items(hub, "set_aside")


# -- the stream failure queue --------------------------------------------------------------


def test_a_stream_record_lambda_gave_up_on_is_set_aside_for_its_tenant(
    hub: Hub, pipeline: Pipeline, outputs: dict[str, str]
) -> None:
    """The whole path: the stream pump's retries run out, the on-failure queue gets the
    description, its consumer reads the record back and sets it aside."""
    for name in ("a", "poison", "b"):
        put_marker(hub, name)
    handler = Handler("poison", raises=False)  # a failure the handler takes for a passing one, every time
    now = [0.0]

    def tick() -> float:
        now[0] += 1.0
        return now[0]

    stream = StreamPump(hub.aws.client("dynamodbstreams"), pipeline.stream._arn, handler, max_retries=1,
                        on_failure=OnFailureQueue(hub.aws.sqs, outputs["StreamFailureQueueUrl"]), monotonic=tick)
    drain([stream, failure_pump(hub, outputs, "Stream")])

    [entry] = hub.set_aside.entries("demo")
    assert entry["kind"] == "stream"
    assert entry["record_keys"] == {"pk": "T#demo#TEST#poison", "sk": "TEST"}
    assert entry["reason"] == "retries exhausted: RetryAttemptsExhausted"
    assert entry["event_name"] == "INSERT"
    assert entry["sequence"].isdigit()
    assert entry["error"] == "", "Lambda gave up: no exception of ours to name"


def test_every_record_a_description_names_is_set_aside_for_its_own_tenant(
    hub: Hub, pipeline: Pipeline, outputs: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    for tenant, name in (("demo", "one"), ("tenant-a", "two"), ("demo", "three"), ("tenant-a", "four")):
        item = {"pk": {"S": f"T#{tenant}#TEST#{name}"}, "sk": {"S": "TEST"}, "type": {"S": "test"}}
        hub.aws.dynamodb.put_item(TableName=hub.settings.table_name, Item=item)
    hub.aws.dynamodb.put_item(TableName=hub.settings.table_name,
                              Item={"pk": {"S": "NOBODY#x"}, "sk": {"S": "X"}, "type": {"S": "test"}})
    put_marker(hub, "after")  # past the described range: not set aside
    shard, records = shard_records(hub, pipeline.stream._arn)
    send(hub, outputs["StreamFailureQueueUrl"], describe_batch(pipeline.stream._arn, shard, records[:5]))

    with caplog.at_level(logging.ERROR, logger="chalicelib.pipeline.setaside"):
        drain([failure_pump(hub, outputs, "Stream")])

    assert sorted(e["record_keys"]["pk"] for e in hub.set_aside.entries("demo")) == [
        "T#demo#TEST#one", "T#demo#TEST#three"]
    assert sorted(e["record_keys"]["pk"] for e in hub.set_aside.entries("tenant-a")) == [
        "T#tenant-a#TEST#four", "T#tenant-a#TEST#two"]
    assert "belongs to no tenant" in caplog.text
    assert "NOBODY#x" in caplog.text
    assert not any(i["pk"].startswith("NOBODY") for i in aside_items(hub))

    # the same description again (SQS delivers at least once): the same entries, overwritten
    send(hub, outputs["StreamFailureQueueUrl"], describe_batch(pipeline.stream._arn, shard, records[:5]))
    drain([failure_pump(hub, outputs, "Stream")])
    assert len(aside_items(hub)) == 4


def test_a_set_aside_stream_failure_is_replayed_through_the_stream_handler(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline, outputs: dict[str, str]
) -> None:
    write_inbound(hub, "demo", "given-up", inbound("given-up", EMAIL, text="late but whole").model_dump_json())
    shard, records = shard_records(hub, pipeline.stream._arn)  # Lambda gave up on it: nothing processed it
    send(hub, outputs["StreamFailureQueueUrl"], describe_batch(pipeline.stream._arn, shard, records[-1:]))
    drain([failure_pump(hub, outputs, "Stream")])
    [entry] = hub.set_aside.entries("demo")

    report = hub.set_aside.replay("demo", hub.stream.process)
    assert (report.replayed, report.still_failing, report.gone) == ([entry["id"]], {}, [])
    assert hub.set_aside.entries("demo") == []
    [message] = opened_items(hub, table_items(hub, "message"))
    assert message["text"] == "late but whole"


class Streams:
    """A DynamoDB Streams client whose GetShardIterator fails with ``code``."""

    def __init__(self, code: str) -> None:
        self.code = code

    def get_shard_iterator(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": self.code, "Message": self.code}}, "GetShardIterator")


def sqs_record(body: dict[str, Any] | str, message_id: str = "m-1") -> dict[str, Any]:
    return {"messageId": message_id, "body": body if isinstance(body, str) else json.dumps(body)}


BATCH = describe_batch("arn:aws:dynamodb:us-east-1:0:table/t/stream/x", "shardId-1",
                       [{"dynamodb": {"SequenceNumber": "100000000000000000001"}}])


def test_a_description_read_too_late_is_logged_as_lost_and_consumed(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = StreamFailures(Streams("TrimmedDataAccessException"), hub.set_aside)
    with caplog.at_level(logging.ERROR, logger="chalicelib.pipeline.failures"):
        assert consumer.process([sqs_record(BATCH)]) == {"batchItemFailures": []}
    assert "no longer in the stream" in caplog.text
    assert aside_items(hub) == []


def test_a_stream_that_does_not_answer_now_has_the_message_handed_out_again(hub: Hub) -> None:
    consumer = StreamFailures(Streams("ProvisionedThroughputExceededException"), hub.set_aside)
    assert consumer.process([sqs_record(BATCH, "m-7")]) == {"batchItemFailures": [{"itemIdentifier": "m-7"}]}


@pytest.mark.parametrize("body", ["not json", {"version": "1.0"}, {"DDBStreamBatchInfo": {"shardId": "x"}}])
def test_a_message_that_describes_nothing_usable_is_logged_and_consumed(
    hub: Hub, body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = StreamFailures(Streams("Unused"), hub.set_aside)
    with caplog.at_level(logging.ERROR, logger="chalicelib.pipeline.failures"):
        assert consumer.process([sqs_record(body)]) == {"batchItemFailures": []}
    assert "cannot be handled" in caplog.text


# -- the object failure queue -------------------------------------------------------------------


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> None:
    hub.registry.add(ProbeChannel())
    tenant = hub.tenants.get("demo")
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"probe": PluginSetting()}}))


def failing_objects(event: dict[str, Any], context: Any) -> None:
    """A stored-object handler that cannot take anything (a bug, say)."""
    raise LookupError(f"cannot handle {event['detail']['object']['key']}")


def give_up_on_objects(hub: Hub, outputs: dict[str, str]) -> None:
    """The object pump plays Lambda's async retries with a handler that always fails, then
    its on-failure queue's consumer runs."""
    objects = ObjectPump(hub.aws.s3, hub.settings.bucket, failing_objects, max_retries=1,
                         on_failure=OnFailureQueue(hub.aws.sqs, outputs["ObjectFailureQueueUrl"]))
    drain([objects, failure_pump(hub, outputs, "Object")])


@pytest.mark.usefixtures("probe")
def test_an_object_lambda_gave_up_on_is_set_aside_naming_its_key_and_replayed(
    hub: Hub, pipeline: Pipeline, outputs: dict[str, str]
) -> None:
    key = "inbound/demo/probe/0001"
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=key,
                          Body=json.dumps([spec("mail-1", subject="Invoice")]).encode())
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key="inbound/not a tenant!/probe/x", Body=b"[]")
    give_up_on_objects(hub, outputs)

    [entry] = hub.set_aside.entries("demo")
    assert (entry["kind"], entry["object_key"]) == ("object", key)
    assert entry["reason"] == "retries exhausted: RetriesExhausted"
    assert entry["error"] == "LookupError"
    assert entry["record_keys"] is None
    assert len(aside_items(hub)) == 1, "an object addressed to no tenant is only logged"

    report = hub.set_aside.replay("demo", hub.stream.process, objects=hub.stored_objects.process)
    assert report.replayed == [entry["id"]]
    assert hub.set_aside.entries("demo") == []
    pipeline.drain()
    [message] = opened_items(hub, table_items(hub, "message"))
    assert message["subject"] == "Invoice"


@pytest.mark.usefixtures("probe")
def test_an_object_still_failing_stays_and_one_deleted_meanwhile_is_gone(
    hub: Hub, outputs: dict[str, str]
) -> None:
    for name in ("stays", "deleted"):
        hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=f"inbound/demo/probe/{name}", Body=b"[]")
    give_up_on_objects(hub, outputs)
    ids = {e["object_key"].rsplit("/", 1)[1]: e["id"] for e in hub.set_aside.entries("demo")}
    hub.aws.s3.delete_object(Bucket=hub.settings.bucket, Key="inbound/demo/probe/deleted")

    def still_broken(event: dict[str, Any]) -> None:
        raise ValueError("the input 'ada@example.com' is not what I expected")

    report = hub.set_aside.replay("demo", hub.stream.process, objects=still_broken, only=[ids["stays"]])
    assert report.still_failing == {ids["stays"]: "ValueError"}, "the reason quotes nothing of the input"
    assert report.gone == []
    report = hub.set_aside.replay("demo", hub.stream.process, objects=hub.stored_objects.process)
    assert report.gone == [ids["deleted"]]
    assert report.replayed == [ids["stays"]]
    assert hub.set_aside.entries("demo") == []


def test_an_object_failure_without_the_event_is_logged_and_consumed(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="chalicelib.pipeline.failures"):
        result = ObjectFailures(hub.set_aside).process([sqs_record({"version": "1.0", "requestContext": {}})])
    assert result == {"batchItemFailures": []}
    assert "no requestPayload" in caplog.text


# -- what entries hold: never personal data ------------------------------------------------------


class Strict(BaseModel):
    count: int
    names: list[str]


def test_a_reason_keeps_locations_and_types_never_the_input() -> None:
    with pytest.raises(ValidationError) as raised:
        Strict.model_validate({"count": "ada@example.com", "names": "Ada Lovelace"})
    assert describe(raised.value) == "ValidationError: 2 validation error(s): count: int_parsing; names: list_type"
    error = ClientError({"Error": {"Code": "ValidationException", "Message": "bad value ada@example.com"}},
                        "PutItem")
    assert describe(error) == "ClientError: ValidationException in PutItem"
    assert describe(KeyError("ada@example.com")) == "KeyError"


PERSONAL = ("grace.hopper@example.com", "Grace Hopper", "+14155550199", "my secret diagnosis")


def test_entries_hold_no_personal_data_before_or_after_the_customers_erasure(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline, outputs: dict[str, str]
) -> None:
    from chalice.test import Client

    body = web_message("my secret diagnosis", client_id="pii-1", email="grace.hopper@example.com",
                       name="Grace Hopper", phone="+14155550199")
    with Client(app_module.app) as client:
        response = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
    assert response.status_code == 202
    pipeline.drain()
    # a record whose document does not validate, quoting her address where a list belongs
    write_inbound(hub, "demo", "broken", json.dumps({"tenant_id": "demo", "channel": "web",
                                                     "customer": {"identities": "grace.hopper@example.com"}}))
    pipeline.drain()
    [invalid] = hub.set_aside.entries("demo")
    assert invalid["reason"].startswith("ValidationError: ")
    assert "customer.identities: list_type" in invalid["reason"]
    assert_no_personal_data(aside_items(hub))
    # and Lambda giving up on every record the stream holds: identities, customer, ticket, message, ...
    shard, records = shard_records(hub, pipeline.stream._arn)
    send(hub, outputs["StreamFailureQueueUrl"], describe_batch(pipeline.stream._arn, shard, records))
    drain([failure_pump(hub, outputs, "Stream")])

    entries = aside_items(hub)
    assert {i["record_keys"]["pk"].split("#")[2] for i in entries} >= {"ID", "CU", "TK", "IN", "PM"}
    assert not [i for i in entries if i["record_keys"]["pk"] == "T#demo#ASIDE"], "the shelf's own writes are not"
    identities = [i for i in entries if i["record_keys"]["pk"].split("#")[2] == "ID"]
    assert identities
    assert all(i["record_keys"]["pk"] == "T#demo#ID#(withheld)" for i in identities)
    assert_no_personal_data(entries)

    [ticket] = hub.store.reads("demo").list_tickets(status=None, limit=5, before=None)[0]
    hub.erase_customer("demo", ticket.customer_id)
    assert_no_personal_data(aside_items(hub))
    report = hub.set_aside.replay("demo", hub.stream.process)
    assert report.replayed or report.gone, "replay after erasure finds erased items gone"
    assert_no_personal_data(table_items(hub, "audit") + aside_items(hub))


def assert_no_personal_data(items: list[dict[str, Any]]) -> None:
    text = json.dumps(items, default=str).lower()
    for value in PERSONAL:
        assert value.lower() not in text, f"an entry holds {value!r}"


def test_an_entry_names_the_item_by_key_and_an_identity_by_kind_only(hub: Hub) -> None:
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "7" * 21, "Keys": to_item(
        {"pk": "T#demo#ID#email:grace.hopper@example.com", "sk": "ID"})}}
    assert hub.set_aside.put(record, {}, "BadPayload: bad_payload")
    ticket = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "8" * 21,
                                                  "Keys": TenantKeys("demo").ticket("tkt_1")}}
    soon = int(hub.clock().timestamp()) + 10 * 86400  # the ticket expires before the entry would
    assert hub.set_aside.put(ticket, {"expires_at": soon}, "BadPayload: bad_payload")
    by_pk = {e["record_keys"]["pk"]: e for e in hub.set_aside.entries("demo")}
    assert set(by_pk) == {"T#demo#ID#(withheld)", "T#demo#TK#tkt_1"}
    assert by_pk["T#demo#TK#tkt_1"]["error"] == "BadPayload"
    [ticket_item] = [i for i in aside_items(hub) if i["record_keys"]["pk"] == "T#demo#TK#tkt_1"]
    assert ticket_item["expires_at"] == soon, "an entry expires with the item it names"
    assert_no_personal_data(aside_items(hub))
