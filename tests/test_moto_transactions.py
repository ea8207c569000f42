"""tools/local/moto_transactions: a cancelled transaction leaves nothing behind, items or
stream records, and a stream reader keeps reading the same shard; a committed one is whole."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.local import moto_transactions

TABLE = "t"


@pytest.fixture
def table() -> Any:
    moto_transactions.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})
        yield client


def items(client: Any) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def stream_records(client: Any, iterator: str) -> tuple[list[dict[str, Any]], str]:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    answer = streams.get_records(ShardIterator=iterator)
    return answer["Records"], answer["NextShardIterator"]


def first_iterator(client: Any) -> str:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return str(streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"])


def transaction(version: str) -> list[dict[str, Any]]:
    """A new item, a change to an existing one and a new partition, then a condition on ``a/1``."""
    return [
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET n = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
        {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "a"}, "sk": {"S": "0"}},
                            "ConditionExpression": "attribute_not_exists(pk) OR v = :v",
                            "ExpressionAttributeValues": {":v": {"S": version}}}},
    ]


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(table: Any) -> None:
    table.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "0"}, "v": {"S": "old"}})
    before = items(table)
    records, iterator = stream_records(table, first_iterator(table))
    assert len(records) == 2

    with pytest.raises(ClientError) as refused:
        table.transact_write_items(TransactItems=transaction("new"))

    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert items(table) == before
    later, iterator = stream_records(table, iterator)
    assert later == []
    table.put_item(TableName=TABLE, Item={"pk": {"S": "c"}, "sk": {"S": "1"}})
    later, _ = stream_records(table, iterator)  # the same shard: the reader sees what follows
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in later] == ["c"]


def test_a_committed_transaction_is_written_whole(table: Any) -> None:
    table.transact_write_items(TransactItems=transaction("any"))

    assert [(item["pk"]["S"], item["sk"]["S"], item.get("n", {}).get("N")) for item in items(table)] == [
        ("a", "1", "2"), ("a", "2", None), ("b", "1", None)]
    records, _ = stream_records(table, first_iterator(table))
    assert len(records) == 4
