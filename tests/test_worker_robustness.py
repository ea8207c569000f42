"""A job the worker cannot read is dead-lettered with a reason; it never fails the
batch it came in (which would redeliver its neighbours forever)."""

from __future__ import annotations

import json

from switchboard_sdk.testing import StatusServer

from chalicelib.hub import Hub
from chalicelib.local.demo import DemoTenant
from tests.conftest import Pipeline
from tests.helpers import enqueue, event, receive_records


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
