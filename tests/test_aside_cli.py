"""Through the local runtime (moto's server, the real pumps, the HTTP app): a stream
batch Lambda gave up on reaches the on-failure queue's consumer and is set aside
for its tenant; `switchboard aside list` shows it and the handler's own set-aside
record, `switchboard aside replay` runs them again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.hub import Hub
from chalicelib.storage.items import to_item
from chalicelib.storage.keys import TenantKeys
from tests.helpers import local_runtime, wait_for
from tests.test_admin_cli import cli, ok
from tests.test_store import EMAIL, inbound
from tools.local.demo import DemoTenant

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, DemoTenant, Path]]:
    state = tmp_path_factory.mktemp("state")
    with local_runtime(state, queue_workers=1) as (hub, demo):
        yield hub, demo, state



def put_inbound(hub: Hub, provider_id: str, doc: str) -> None:
    item = TenantKeys("demo").inbound("web", provider_id) | to_item({"type": "inbound", "tenant_id": "demo",
                                                                      "doc": doc})
    hub.aws.dynamodb.put_item(TableName=hub.settings.table_name, Item=item)


def latest_record(hub: Hub, pk: str) -> dict[str, Any]:
    """The stream record of ``pk``'s item, as the mapping would have handed it over."""
    streams = hub.aws.client("dynamodbstreams")
    arn = hub.aws.dynamodb.describe_table(TableName=hub.settings.table_name)["Table"]["LatestStreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    record = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"] == pk][-1]
    return record | {"shard": shard["ShardId"], "arn": arn}


def test_what_ran_out_of_retries_is_listed_and_replayed_with_the_cli(
    runtime: tuple[Hub, DemoTenant, Path],
) -> None:
    hub, demo, state = runtime
    put_inbound(hub, "poison", '{"schema": "from the future"}')  # the stream handler sets it aside itself
    # one Lambda gave up on (the local pump retries too fast to play that: its description is sent as AWS would)
    put_inbound(hub, "given-up", inbound("given-up", EMAIL, text="given up on").model_dump_json())
    record = latest_record(hub, TenantKeys("demo").inbound("web", "given-up")["pk"]["S"])
    sequence = record["dynamodb"]["SequenceNumber"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in hub.aws.client("cloudformation").describe_stacks()[
        "Stacks"][0]["Outputs"]}
    hub.aws.sqs.send_message(QueueUrl=outputs["StreamFailureQueueUrl"], MessageBody=json.dumps({
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6}, "version": "1.0",
        "DDBStreamBatchInfo": {"shardId": record["shard"], "startSequenceNumber": sequence,
                               "endSequenceNumber": sequence, "batchSize": 1, "streamArn": record["arn"]}}))

    def both_set_aside() -> list[dict[str, Any]] | None:
        entries = hub.set_aside.entries("demo")
        return entries if {e["reason"].split(":")[0] for e in entries} >= {"ValidationError",
                                                                         "retries exhausted"} else None

    wait_for(both_set_aside, "both records on the shelf")
    reader = hub.api_keys.create("demo", ["read-only"], name="reader")[1]
    table = ok(cli(state, "aside", "list", key=reader))
    assert table.splitlines()[0].split() == ["ID", "KIND", "AT", "ERROR", "REASON", "NAMES"]
    assert "pk=T#demo#IN#web#poison" in table
    listed = json.loads(ok(cli(state, "aside", "list", "--json", key=reader)))
    ids = {e["record_keys"]["pk"].rsplit("#", 1)[1]: e["id"] for e in listed}
    assert set(ids) == {"poison", "given-up"}

    refused = cli(state, "aside", "replay", key=reader)
    assert refused.returncode == 1
    assert "403 forbidden" in refused.stderr

    replayed = ok(cli(state, "aside", "replay", "--id", ids["given-up"], key=demo.api_key))
    assert replayed.splitlines()[0] == "replayed 1, still failing 0, gone 0"
    report = json.loads(ok(cli(state, "aside", "replay", "--json", key=demo.api_key)))
    assert (report["replayed"], report["still_failing"], report["gone"]) == (0, 1, 0)
    assert report["results"][0]["id"] == ids["poison"]
    assert [e["id"] for e in hub.set_aside.entries("demo")] == [ids["poison"]]
