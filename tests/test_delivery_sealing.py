"""The event envelopes the hub delivers to connectors are sealed wherever they wait: in
the delivery queue's jobs, in the dead letters and in the delivery log (issue 15 §5: no
personal value in clear in a table item or an SQS body). The connector still gets the
whole envelope in clear, replay from the dead letters and from the log still works, jobs
and log items written in clear before still go through, and when KMS is out of reach the
stream record is retried, the job waits, and nothing is lost."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from chalice.test import Client
from switchboard_sdk.testing import StatusServer, sample_event

import app as app_module
from chalicelib.crypto.errors import Undecryptable
from chalicelib.crypto.service import Crypto
from chalicelib.hub import Hub
from chalicelib.pipeline.conversations import ConversationBuilder
from chalicelib.pipeline.dispatch import Dispatcher
from chalicelib.pipeline.jobs import EventOfErasedCustomer, Job, customer_of, decode
from chalicelib.pipeline.jobs import logged as logged_form
from chalicelib.pipeline.replay import Replayer, ReplayFilter
from chalicelib.pipeline.stream import StreamProcessor
from chalicelib.storage.sealing import CUSTOMER_PREFIX
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.helpers import dead_letters, receive_records
from tests.sealed_docs import without_ciphertexts
from tests.sealed_jobs import logged, opened_body
from tests.test_store import EMAIL, inbound
from tests.test_stream import stream_records
from tools.local.demo import DemoTenant

NAME, MAIL, PHONE = "Zelda Quux", "zelda.quux@example.com", "+14155550177"
TEXT = "ZQ-PRIVATE my parcel to 12 Quux Lane never came"
PERSONAL = ("zelda", "quux", "4155550177", "zq-private")


@pytest.fixture
def client(demo: DemoTenant) -> Any:
    with Client(app_module.app) as test_client:
        yield test_client


class SentBodies:
    """Every SQS body the hub sends (the delivery queue's jobs, dead letters, replays)."""

    def __init__(self, hub: Hub) -> None:
        self.bodies: list[str] = []
        events = hub.aws.sqs.meta.events
        events.register("before-parameter-build.sqs.SendMessage", self._one)
        events.register("before-parameter-build.sqs.SendMessageBatch", self._batch)

    def _one(self, params: dict[str, Any], **_: Any) -> None:
        self.bodies.append(params["MessageBody"])

    def _batch(self, params: dict[str, Any], **_: Any) -> None:
        self.bodies += [entry["MessageBody"] for entry in params["Entries"]]


def in_clear(texts: list[str]) -> list[str]:
    """The personal values found in ``texts`` (lower-cased, ciphertexts left out)."""
    joined = without_ciphertexts("\n".join(texts)).lower()
    return [value for value in PERSONAL if value in joined]


def stored_texts(hub: Hub) -> list[str]:
    """The delivery log's items and the failed-attempt counters, every attribute."""
    items = table_items(hub, "delivery_log") + table_items(hub, "delivery")
    return [json.dumps(item, default=str, ensure_ascii=False) for item in items]


def send(client: Any, demo: DemoTenant) -> None:
    body = web_message(TEXT, name=NAME, email=MAIL, phone=PHONE)
    answer = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
    assert answer.status_code == 202


def received(receiver: StatusServer) -> list[dict[str, Any]]:
    return [json.loads(body) for *_, body in receiver.requests]


def message_created(receiver: StatusServer) -> list[dict[str, Any]]:
    return [e for e in received(receiver) if e["type"] == "message.created"]


def replay(client: Any, demo: DemoTenant, source: str) -> dict[str, Any]:
    answer = client.http.post("/v1/deliveries/replay", body=json.dumps({"source": source, "connector": "webhook"}),
                              headers={"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"})
    assert answer.status_code == 200, answer.body
    return dict(json.loads(answer.body))


def test_no_personal_value_in_clear_in_jobs_dead_letters_or_the_log_and_the_connector_gets_it_all(
    client: Any, hub: Hub, demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer
) -> None:
    sent = SentBodies(hub)
    receiver.status = 404  # a removed endpoint: every event is dead-lettered at once
    send(client, demo)
    pipeline.drain()

    letters = dead_letters(hub)  # opened: each carried its event sealed (tests/sealed_jobs.py)
    assert sorted(letter["event"]["type"] for letter in letters) == [
        "message.created", "ticket.created", "ticket.updated"]
    [created] = message_created(receiver)
    assert created["data"]["message"]["text"] == TEXT, "the connector gets the envelope in clear"
    assert created["data"]["customer"]["display_name"] == NAME
    assert {(i["kind"], i["value"]) for i in created["data"]["customer"]["identities"]} >= {
        ("email", MAIL), ("phone", PHONE)}
    assert [e for e in (letter["event"] for letter in letters) if e["type"] == "message.created"] == [created]
    assert len(sent.bodies) == 6, "three jobs and three dead letters"
    assert in_clear(sent.bodies) == [], "no SQS body holds a personal value in clear"
    assert in_clear(stored_texts(hub)) == [], "no delivery-log item or counter holds one"
    logged_events = [logged(hub, item) for item in table_items(hub, "delivery_log")]
    assert [e for e in logged_events if e["type"] == "message.created"] == [created], "the log keeps it, sealed"

    receiver.status, receiver.requests[:] = 200, []
    assert replay(client, demo, "dlq")["requeued"] == 3
    pipeline.drain()
    assert message_created(receiver) == [created], "replayed from the dead letters, whole"
    assert dead_letters(hub) == []

    receiver.requests[:] = []
    assert replay(client, demo, "log")["requeued"] == 3
    pipeline.drain()
    assert message_created(receiver) == [created], "replayed from the log, whole"
    assert in_clear(sent.bodies) == []
    assert in_clear(stored_texts(hub)) == []


def test_a_sealed_event_serves_every_connector_and_opens_only_as_its_own_event(hub: Hub, demo: DemoTenant) -> None:
    event = sample_event(demo.tenant_id)
    other = event.model_copy(update={"id": "evt_other"})
    dispatcher = Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url, crypto=hub.crypto)
    [entry] = dispatcher.jobs([event])
    job = decode(entry["MessageBody"])
    assert isinstance(job, Job)
    assert job.sealed is not None
    assert job.event is None
    assert (job.ref.id, job.ref.tenant_id) == (event.id, "demo"), "ids stay in clear for routing and retries"
    assert job.opened(hub.crypto).event == event
    moved = Job("webhook", job.ref.model_copy(update={"id": other.id}), sealed=job.sealed)
    with pytest.raises(Undecryptable):
        moved.opened(hub.crypto)  # bound to its event id: a copy under another event does not open
    foreign = Job("webhook", job.ref.model_copy(update={"tenant_id": "other-co"}), sealed=job.sealed)
    with pytest.raises((Undecryptable, EventOfErasedCustomer)):  # that tenant holds no key of this customer
        foreign.opened(hub.crypto)
    stranger = Job("webhook", job.ref.model_copy(update={"customer_id": "cus_" + "a" * 26}), sealed=job.sealed)
    with pytest.raises((Undecryptable, EventOfErasedCustomer)):
        stranger.opened(hub.crypto)


def test_an_erased_customers_events_no_longer_open_anywhere_and_are_not_delivered(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    event = sample_event(demo.tenant_id)
    customer = customer_of(event)
    assert customer is not None
    dispatcher = Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url, crypto=hub.crypto)
    dispatcher.enqueue([event])
    [record] = receive_records(hub)
    job = decode(record["body"])
    assert isinstance(job, Job)
    assert job.sealed is not None
    assert job.ref.customer_id == customer
    assert job.sealed.startswith(CUSTOMER_PREFIX), "under the customer's own key"
    assert job.opened(hub.crypto).event == event

    hub.store.personal(demo.tenant_id).shred(customer)  # what erasure does first
    with pytest.raises(EventOfErasedCustomer):
        job.opened(hub.crypto)
    receiver.requests[:] = []
    assert hub.worker.process([record]) == {"batchItemFailures": []}
    assert receiver.requests == [], "nothing of the erased customer is sent"
    assert dead_letters(hub) == [], "nor kept"


def test_jobs_and_log_items_written_in_clear_before_are_still_delivered_and_sealed_on_their_way(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    event = sample_event(demo.tenant_id)
    clear = Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url)  # no crypto: the jobs of before
    clear.enqueue([event])
    receiver.status = 400
    assert hub.worker.process(receive_records(hub)) == {"batchItemFailures": []}
    assert json.loads(receiver.requests[0][3])["id"] == event.id, "the old clear job is delivered"
    [letter] = dead_letters(hub)  # sealed on its way: a clear one would fail here
    assert letter["event"]["id"] == event.id
    [item] = [i for i in table_items(hub, "delivery_log") if i["connector"] == "webhook"]
    assert logged(hub, item)["id"] == event.id, "the log keeps it sealed"

    # a log item written in clear (before sealing) still replays, sealed
    hub.aws.dynamodb.update_item(TableName=hub.settings.table_name, Key={"pk": {"S": item["pk"]},
                                 "sk": {"S": item["sk"]}}, UpdateExpression="SET #e = :e",
                                 ExpressionAttributeNames={"#e": "event"},
                                 ExpressionAttributeValues={":e": {"S": event.model_dump_json()}})
    replayer = Replayer(hub.aws.sqs, hub.settings.queue_url, hub.settings.dlq_url, hub.store, hub.delivery_log)
    assert replayer.from_log(demo.tenant_id, "webhook", ReplayFilter()).requeued == [event.id]
    # the queue still holds the clear job (the worker does not delete: Lambda does), and now its replay
    [replayed] = [r["body"] for r in receive_records(hub) if "sealed" in json.loads(r["body"])]
    assert opened_body(hub, replayed)["event"]["id"] == event.id


class OutOfReachKms:
    """A KMS client that cannot be reached while ``down`` (then the real one)."""

    def __init__(self, client: Any) -> None:
        self.client, self.down, self.calls = client, True, 0

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls += 1
            if self.down:
                raise EndpointConnectionError(endpoint_url="https://kms.us-east-1.amazonaws.com/")
            return getattr(self.client, name)(**kwargs)

        return call


def test_kms_out_of_reach_while_queueing_retries_the_stream_record_and_sets_nothing_aside(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    assert ConversationBuilder(hub.store).absorb(inbound("m-1", EMAIL, text=TEXT)) is not None
    records = stream_records(hub, pipeline)
    kms = OutOfReachKms(hub.aws.client("kms"))
    crypto = Crypto(kms, hub.aws.dynamodb, hub.settings.table_name, hub.settings.kms_key_id, lambda _: None,
                    hub.clock, key_table_name=hub.settings.key_table_name)
    processor = StreamProcessor(ConversationBuilder(hub.store),
                                Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url, crypto=crypto),
                                hub.set_aside)

    result = processor.process(records)

    [failed] = result["batchItemFailures"]
    first_dispatched = next(r for r in records if r["dynamodb"]["NewImage"].get("type", {}).get("S") == "ticket")
    assert failed["itemIdentifier"] == first_dispatched["dynamodb"]["SequenceNumber"], "retried from that record"
    assert kms.calls >= 1
    assert hub.set_aside.entries("demo") == [], "a passing failure sets nothing aside"
    assert receive_records(hub) == [], "nothing queued half-sealed or in clear"

    kms.down = False  # KMS answers again: Lambda retries the batch from the failed record
    retried = records[records.index(first_dispatched):]
    assert processor.process(retried) == {"batchItemFailures": []}
    jobs = [opened_body(hub, r["body"]) for r in receive_records(hub)]
    assert sorted(job["event"]["type"] for job in jobs) == ["message.created", "ticket.created"]
    assert in_clear([r for r in (json.dumps(j["sealed"]) for j in jobs)]) == []


def test_kms_out_of_reach_in_the_worker_delays_the_job_without_spending_an_attempt(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    event = sample_event(demo.tenant_id)
    Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url, crypto=hub.crypto).enqueue([event])
    kms = OutOfReachKms(hub.aws.client("kms"))
    store = copy.copy(hub.store)
    store.crypto = Crypto(kms, hub.aws.dynamodb, hub.settings.table_name, hub.settings.kms_key_id, lambda _: None,
                          hub.clock, key_table_name=hub.settings.key_table_name)
    worker = dataclasses.replace(hub.worker, store=store)
    [record] = receive_records(hub)

    result = worker.process([record])

    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}, "tried again later"
    assert receiver.requests == []
    assert dead_letters(hub) == []
    assert hub.store.attempts(demo.tenant_id).failed_attempts("webhook", event.id) == 0, "no attempt counted"
    kms.down = False
    assert worker.process([record]) == {"batchItemFailures": []}
    assert [json.loads(body)["id"] for *_, body in receiver.requests] == [event.id]


def test_a_sealed_event_that_does_not_open_goes_to_the_dead_letters_as_it_is(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    event = sample_event(demo.tenant_id)
    [entry] = Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url, crypto=hub.crypto).jobs([event])
    wire = json.loads(entry["MessageBody"])
    wire["ref"]["id"] = "evt_someone_else"  # the sealed text moved under another event's id
    hub.aws.sqs.send_message(QueueUrl=hub.settings.queue_url, MessageBody=json.dumps(wire),
                             MessageGroupId="g", MessageDeduplicationId="d")

    assert hub.worker.process(receive_records(hub)) == {"batchItemFailures": []}
    assert receiver.requests == [], "nothing reaches the connector"
    messages = hub.aws.sqs.receive_message(QueueUrl=hub.settings.dlq_url).get("Messages", [])
    [letter] = [json.loads(m["Body"]) for m in messages]
    assert letter["sealed"] == wire["sealed"]
    assert "event" not in letter
    assert "undecryptable" in letter["dead_letter"]["reason"].lower()


def test_the_log_keeps_the_sealed_text_the_job_carried(hub: Hub, demo: DemoTenant) -> None:
    event = sample_event(demo.tenant_id)
    [entry] = Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url, crypto=hub.crypto).jobs([event])
    job = decode(entry["MessageBody"])
    assert isinstance(job, Job)
    assert job.sealed is not None
    assert logged_form(job.opened(hub.crypto), event) == job.sealed, "the same sealed text, no second seal"
