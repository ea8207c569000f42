"""`make package`: the on-failure queues' consumers are wired to their queues, know
the table, and may do no more than set entries aside (and, for the stream one,
read the table's stream). Packaging runs once for this module (tests/test_packaging.py's fixture)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_packaging import Package, package  # noqa: F401 - the module-scoped fixture

CONSUMERS = {"StreamFailures": "StreamFailureQueue", "ObjectFailures": "ObjectFailureQueue"}


@pytest.mark.parametrize(("function", "queue"), CONSUMERS.items())
def test_each_consumer_reads_its_on_failure_queue(package: Package, function: str, queue: str) -> None:  # noqa: F811
    properties = package.functions()[function]["Properties"]
    [source] = properties["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["Queue"] == {"Fn::Sub": f"${{{queue}.Arn}}"}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["Environment"]["Variables"]["SWITCHBOARD_TABLE"] == {"Ref": "Table"}
    assert properties["Handler"] == f"app.{'stream' if function.startswith('Stream') else 'object'}_failures"


def statements(built: Package, function: str) -> list[dict[str, Any]]:
    [policy] = built.template["Resources"][f"{function}Role"]["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


@pytest.mark.parametrize("function", CONSUMERS)
def test_each_consumer_may_only_write_set_aside_entries(package: Package, function: str) -> None:  # noqa: F811
    granted = {action: statement for statement in statements(package, function) for action in statement["Action"]}
    assert {a for a in granted if a.startswith(("dynamodb:", "s3:", "ssm:", "sqs:"))} == {
        "dynamodb:PutItem", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
    } | ({"dynamodb:GetShardIterator", "dynamodb:GetRecords"} if function == "StreamFailures" else set())
    put = granted["dynamodb:PutItem"]
    assert put["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*#ASIDE"]}}
    assert granted["sqs:ReceiveMessage"]["Resource"] == {"Fn::GetAtt": [CONSUMERS[function], "Arn"]}
    if function == "StreamFailures":
        assert granted["dynamodb:GetRecords"]["Resource"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
