"""A job the worker cannot read is dead-lettered with a reason; it never fails the
batch it came in (which would redeliver its neighbours forever). SQS calls that
fail at a batch's end leave unfinished only the jobs they concern; a batch's
attempts reach the delivery log in one write."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError
from switchboard_sdk.testing import StatusServer

from chalicelib.hub import Hub
from tests.conftest import Pipeline
from tests.helpers import enqueue, event, nothing_receivable, receive_records
from tools.local.demo import DemoTenant


def test_an_unreadable_job_is_dead_lettered_and_its_neighbours_delivered(
    hub: Hub, demo: DemoTenant, receiver: StatusServer, pipeline: Pipeline
) -> None:
    enqueue(hub, event(demo.tenant_id, 1, ticket_id="tkt_a"))
    hub.aws.sqs.send_message(QueueUrl=hub.settings.queue_url, MessageBody="{not json",
                             MessageGroupId="demo:tkt_b:webhook", MessageDeduplicationId="broken-1")
    result = hub.worker.process(receive_records(hub))
    assert result == {"batchItemFailures": []}
    assert len(receiver.requests) == 1
    [letter] = pipeline.dead_letters()
    assert letter["dead_letter"]["reason"] == "unreadable job: JSONDecodeError"
    assert json.dumps(letter).count("not json") == 1


def test_a_connector_may_declare_its_own_attempt_limit(hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> None:
    from dataclasses import replace

    from tests.helpers import closed_port_url

    hub.registry.infos["webhook"] = replace(hub.registry.infos["webhook"], max_delivery_attempts=1)
    tenant = hub.tenants.get("demo")
    webhook = tenant.plugins["webhook"].model_copy(
        update={"config": tenant.plugins["webhook"].config | {"url": closed_port_url()}})
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"webhook": webhook}}))
    enqueue(hub, event(demo.tenant_id, 1))
    assert hub.worker.process(receive_records(hub)) == {"batchItemFailures": []}, "one try, then the DLQ"
    [letter] = pipeline.dead_letters()
    assert letter["dead_letter"]["attempts"] == 1  # the hub default here is 3


def test_a_tenant_may_set_its_own_attempt_limit_above_the_connectors(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    from dataclasses import replace

    from tests.helpers import closed_port_url

    hub.registry.infos["webhook"] = replace(hub.registry.infos["webhook"], max_delivery_attempts=1)
    tenant = hub.tenants.get("demo")
    webhook = tenant.plugins["webhook"].model_copy(update={
        "config": tenant.plugins["webhook"].config | {"url": closed_port_url()}, "max_delivery_attempts": 2})
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"webhook": webhook}}))
    enqueue(hub, event(demo.tenant_id, 1))
    records = receive_records(hub)
    assert len(hub.worker.process(records)["batchItemFailures"]) == 1, "the tenant allows a second try"
    hub.aws.sqs.change_message_visibility(QueueUrl=hub.settings.queue_url,
                                          ReceiptHandle=records[0]["receiptHandle"], VisibilityTimeout=0)
    assert hub.worker.process(receive_records(hub)) == {"batchItemFailures": []}
    [letter] = pipeline.dead_letters()
    assert letter["dead_letter"]["attempts"] == 2


class FlakySqs:
    """The SQS client with call counts; ``broken`` operations raise."""

    def __init__(self, sqs: Any, *broken: str) -> None:
        self._sqs, self.broken, self.calls = sqs, set(broken), Counter[str]()

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            if name in self.broken:
                raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, name)
            return getattr(self._sqs, name)(**kwargs)

        return call


def test_a_dead_letter_that_could_not_be_sent_leaves_its_job_unfinished(
    hub: Hub, demo: DemoTenant, receiver: StatusServer, pipeline: Pipeline
) -> None:
    enqueue(hub, event(demo.tenant_id, 1, ticket_id="tkt_a"))
    hub.aws.sqs.send_message(QueueUrl=hub.settings.queue_url, MessageBody="{not json",
                             MessageGroupId="demo:tkt_b:webhook", MessageDeduplicationId="broken-1")
    records = receive_records(hub)
    hub.worker.sqs = FlakySqs(hub.aws.sqs, "send_message_batch")
    result = hub.worker.process(records)
    unreadable = next(r["messageId"] for r in records if r["body"] == "{not json")
    assert result == {"batchItemFailures": [{"itemIdentifier": unreadable}]}, "tried again, not dropped"
    assert len(receiver.requests) == 1, "its neighbour is delivered all the same"
    assert pipeline.dead_letters() == []
    hub.worker.sqs = hub.aws.sqs
    assert hub.worker.process([r for r in records if r["messageId"] == unreadable]) == {"batchItemFailures": []}
    assert len(pipeline.dead_letters()) == 1


def test_a_batchs_retries_and_held_back_jobs_change_visibility_in_one_call(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    enqueue(hub, *[event(demo.tenant_id, n, ticket_id=f"tkt_{n % 3}") for n in range(9)])
    receiver.status = 503
    hub.worker.sqs = sqs = FlakySqs(hub.aws.sqs)
    result = hub.worker.process(receive_records(hub))
    assert len(result["batchItemFailures"]) == 9, "3 retried, 6 held back behind them"
    assert sqs.calls == Counter({"change_message_visibility_batch": 1})
    assert nothing_receivable(hub), "each group waits for its retried job"


def test_a_failed_visibility_change_fails_nothing_else(hub: Hub, demo: DemoTenant, receiver: StatusServer) -> None:
    enqueue(hub, event(demo.tenant_id, 1, ticket_id="tkt_a"), event(demo.tenant_id, 1, ticket_id="tkt_b"))
    records = receive_records(hub)
    receiver.status = 503
    hub.worker.sqs = FlakySqs(hub.aws.sqs, "change_message_visibility_batch")
    result = hub.worker.process(records[:1])
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [records[0]["messageId"]], (
        "retried after the queue's visibility timeout instead")
    receiver.status = 200
    assert hub.worker.process(records[1:]) == {"batchItemFailures": []}


class CountingDb:
    """The DynamoDB client, counting calls; ``unprocessed`` BatchWriteItem answers
    first leave their last item unprocessed (as DynamoDB may under load)."""

    def __init__(self, db: Any, unprocessed: int = 0) -> None:
        self._db, self.unprocessed, self.calls = db, unprocessed, Counter[str]()

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == "batch_write_item" and self.unprocessed:
                self.unprocessed -= 1
                (table, puts), = kwargs["RequestItems"].items()
                if puts[:-1]:
                    self._db.batch_write_item(RequestItems={table: puts[:-1]})
                return {"UnprocessedItems": {table: puts[-1:]}}
            return getattr(self._db, name)(**kwargs)

        return call


@pytest.mark.parametrize("unprocessed", [0, 2])
def test_a_batchs_attempts_are_logged_in_one_write(
    hub: Hub, demo: DemoTenant, receiver: StatusServer, unprocessed: int
) -> None:
    enqueue(hub, *[event(demo.tenant_id, n, ticket_id=f"tkt_{n}") for n in range(6)])
    hub.delivery_log._db = db = CountingDb(hub.aws.dynamodb, unprocessed)
    hub.delivery_log._sleep = lambda seconds: None
    assert hub.worker.process(receive_records(hub)) == {"batchItemFailures": []}
    assert db.calls == Counter({"batch_write_item": 1 + unprocessed}), "what DynamoDB left is sent again"
    logged, _ = hub.delivery_log.by_connector(demo.tenant_id, "webhook")
    assert len(logged) == 6
