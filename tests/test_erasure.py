"""Erasure of one customer, through the real webhook route, stream, worker, table
and bucket: afterwards nothing in the table or the bucket mentions them, other
customers keep everything, a failed run is finished by the next one."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Identity, InboundMessage, NotFound, ticket_ref

from chalicelib.hub import Hub
from chalicelib.pipeline.jobs import EventOfErasedCustomer
from chalicelib.storage.conventions import ERASED
from chalicelib.storage.payloads import PayloadArchive
from chalicelib.storage.store import TicketStore
from chalicelib.tenancy.erasure import KINDS, CustomerEraser, ErasureReport
from chalicelib.tenancy.purge import BatchIncomplete
from tests.conftest import Pipeline, table_items
from tests.erasure_support import probe_client, send
from tests.probe_plugin import spec
from tests.sealed_docs import binary_text, opened_item, without_ciphertexts
from tests.sealed_jobs import logged
from tools.local.demo import DemoTenant

ZELDA = {"identities": [{"kind": "email", "value": "Zelda.Quux@example.com"},
                        {"kind": "phone", "value": "+1 415 555 0199"}], "display_name": "Zelda Quux"}
BOB = {"identities": [{"kind": "email", "value": "bob.other@example.com"}], "display_name": "Bob Other"}
ZELDA_TRACES = ("zelda", "quux", "4155550199", "ZQ-SECRET", "ZQ-ATTACHMENT")
BOB_TRACES = ("bob.other@example.com", "Bob Other", "BOB-KEEP")
LEAFLET = {"filename": "leaflet.pdf", "type": "application/pdf",  # both send it: two objects
           "b64": base64.b64encode(b"%PDF-1.7 the shop's returns leaflet").decode()}
SCAN = {"filename": "receipt.png", "type": "image/png", "b64": base64.b64encode(b"PNG ZQ-ATTACHMENT").decode()}


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> Iterator[Client]:
    with probe_client(hub) as (client, _clock):
        yield client


def eraser(hub: Hub, store: TicketStore | None = None, s3: Any = None) -> CustomerEraser:
    return CustomerEraser(store or hub.store, PayloadArchive(s3 or hub.aws.s3, hub.settings.bucket), hub.clock,
                          sleep=lambda _: None)


def customer_id(hub: Hub, email: str) -> str:
    return one_identity(hub, f"email:{email}")


def ref_of(hub: Hub, key: str) -> str:
    """An identity's ref (``kind:<blind index>``): what its item's key and the customer's
    ``identity_keys`` hold instead of the address."""
    kind, _, value = key.partition(":")
    return hub.store.personal("demo").ref(Identity(kind=kind, value=value))


def everything(hub: Hub) -> str:
    """Every item (its sealed message text and subjects opened, as the hub reads them) and
    every object (key, body, metadata) as one lower-case text; what is still sealed is left out."""
    texts = [_flat(opened_item(hub, item)) for item in table_items(hub)]
    texts += [json.dumps(opened_log(hub, item)) for item in table_items(hub, "delivery_log")]  # envelopes
    s3, bucket = hub.aws.s3, hub.settings.bucket
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            stored = s3.get_object(Bucket=bucket, Key=obj["Key"])
            texts += [obj["Key"], binary_text(stored["Body"].read()), str(stored.get("Metadata"))]
    return without_ciphertexts("\n".join(texts)).lower()


def opened_log(hub: Hub, item: dict[str, Any]) -> dict[str, Any]:
    """A delivery-log item's envelope opened; nothing when its customer's key is shredded."""
    try:
        return logged(hub, item)
    except EventOfErasedCustomer:
        return {}


def bobs(hub: Hub) -> list[dict[str, Any]]:
    """Bob's items: they name his customer id, or are his message's inbound record."""
    bob = customer_id(hub, "bob.other@example.com")
    items = [i for i in table_items(hub) if bob in _flat(i) or i["pk"].endswith("#IN#probe#b1")]
    return sorted(items, key=lambda i: (i["pk"], i["sk"]))


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list | set | tuple):
        return " ".join(_flat(v) for v in value)
    raw = getattr(value, "value", value)  # boto3's Binary
    return binary_text(raw) if isinstance(raw, bytes) else str(value)


def zelda_everywhere(hub: Hub, probe: Client, pipeline: Pipeline, object_pump: Any) -> None:
    """Zelda: two tickets, an attachment, a raw body in S3, an SES-style object, a
    parked follow-up, delivered events and a failed-attempt counter. Bob: one ticket
    with the same attachment bytes."""
    send(probe, spec("z1", customer=ZELDA, text="ZQ-SECRET-1 where is my parcel", attachments_b64=[LEAFLET, SCAN]),
         spec("b1", customer=BOB, text="BOB-KEEP-1 hello", attachments_b64=[LEAFLET]))  # one body, two customers
    send(probe, spec("z2", customer=ZELDA, text="ZQ-SECRET-2 " + "long story " * 4000))  # > 32 KB: raw in S3
    pipeline.drain()
    zelda = customer_id(hub, "zelda.quux@example.com")
    hub.aws.dynamodb.update_item(  # the first ticket is solved (what ticket status changes will do)
        TableName=hub.settings.table_name, Key=hub.store.conversations("demo").keys.customer(zelda),
        UpdateExpression="REMOVE open_ticket_id")
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key="inbound/demo/probe/ses-1",
                          Body=json.dumps([spec("z3", customer=ZELDA, text="ZQ-SECRET-3 by mail")]).encode())
    object_pump.poll_once()
    pipeline.drain()
    store = hub.store.conversations("demo")
    store.park("z3", InboundMessage.model_validate(spec("z3:rec", email=None, text="ZQ-SECRET-4 recording") | {
        "tenant_id": "demo", "channel": "probe", "received_at": hub.clock(), "thread": {"provider_ids": ["z3"]}}))
    [attempt, *_] = [i for i in table_items(hub, "delivery_log") if "zelda" in json.dumps(logged(hub, i)).lower()]
    hub.store.attempts("demo").count_failed_attempt("webhook", attempt["event_id"], expires_at=2_000_000_000)


def test_nothing_of_the_customer_remains_and_others_keep_theirs(
    hub: Hub, probe: Client, pipeline: Pipeline, object_pump: Any
) -> None:
    zelda_everywhere(hub, probe, pipeline, object_pump)
    zelda = customer_id(hub, "zelda.quux@example.com")
    before = everything(hub)
    assert all(trace.lower() in before for trace in ZELDA_TRACES + BOB_TRACES), "the search can find them"
    bob_before = bobs(hub)

    report = eraser(hub).erase("demo", zelda)

    after = everything(hub)
    assert [trace for trace in ZELDA_TRACES if trace.lower() in after] == []
    assert all(trace.lower() in after for trace in BOB_TRACES)
    assert len(bob_before) >= 8
    assert bobs(hub) == [{k: v for k, v in i.items() if not (i["type"] == "inbound" and k == "raw")}
                         for i in bob_before], "Bob's items untouched but for the body Zelda's message shared"
    counts = report.as_dict()["erased"]
    assert counts == {"customer": 1, "identities": 2, "ticket_links": 2, "tickets_redacted": 2, "messages": 3,
                      "inbound_records": 3, "inbound_record_parts": 0, "provider_message_maps": 3,
                      "parked_follow_ups": 1,
                      "shared_raw_bodies": 1,  # Bob's inbound record held the body both came in
                      # ticket.created twice, message.created thrice, ticket.updated (triaged: new → open) twice
                      "delivery_log_items": 7,
                      "failed_attempt_counters": 1,
                      "objects": 4,  # two attachments, the raw body in S3, the SES object
                      # each ticket: its first save (history entry, backlog place); nothing else of the workflow
                      "ticket_history_entries": 2, "backlog_items": 2, "surveys": 0, "csat_records": 0,
                      "agent_loads_released": 0, "merge_records": 0, "merged_customers": 0,
                      "client_message_claims": 0, "customer_keys_shredded": 1}
    assert table_items(hub, "delivery") == [], "the failed-attempt counter went with the log"
    [bob_message] = table_items(hub, "message")
    [leaflet] = bob_message["attachments"]
    key = leaflet["url"].removeprefix(f"s3://{hub.settings.bucket}/")
    assert hub.aws.s3.get_object(Bucket=hub.settings.bucket, Key=key)["Body"].read().startswith(b"%PDF")


def test_tickets_stay_as_tombstones_outside_the_lists(
    hub: Hub, probe: Client, pipeline: Pipeline, object_pump: Any
) -> None:
    zelda_everywhere(hub, probe, pipeline, object_pump)
    report = eraser(hub).erase("demo", customer_id(hub, "zelda.quux@example.com"))
    store = hub.store.reads("demo")
    for ticket_id in report.ticket_ids:
        ticket, messages = store.get_ticket(ticket_id)
        assert (ticket.customer_id, ticket.subject, ticket.status, messages) == (ERASED, "", "open", [])
    listed, _ = store.list_tickets()
    assert [t.customer_id for t in listed] == [customer_id(hub, "bob.other@example.com")]
    # a bounce naming an erased ticket does not bring it back to life
    tombstone = report.ticket_ids[0]
    send(probe, spec("bounce", email=None, kind="delivery_failure", text="ZQ-SECRET quoted",
                     thread={"ticket_refs": [ticket_ref(tombstone)], "provider_ids": ["z1"]}))
    pipeline.drain()
    assert store.get_ticket(tombstone)[1] == []


def test_a_second_call_finds_nothing_and_changes_nothing(
    hub: Hub, probe: Client, pipeline: Pipeline, object_pump: Any
) -> None:
    zelda_everywhere(hub, probe, pipeline, object_pump)
    zelda = customer_id(hub, "zelda.quux@example.com")
    eraser(hub).erase("demo", zelda)
    before = (table_items(hub), everything(hub))
    with pytest.raises(NotFound):
        eraser(hub).erase("demo", zelda)
    assert (table_items(hub), everything(hub)) == before


class FailingAfter:
    """An AWS client whose ``method`` fails after ``calls`` successful calls."""

    def __init__(self, client: Any, method: str, calls: int) -> None:
        self._client, self._method, self._left = client, method, calls

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name != self._method:
            return attribute

        def call(**kwargs: Any) -> Any:
            self._left -= 1
            if self._left < 0:
                raise ConnectionError("the network went away")
            return attribute(**kwargs)

        return call


@pytest.mark.parametrize(("service", "method", "calls"), [
    ("dynamodb", "batch_write_item", 1), ("dynamodb", "batch_write_item", 4), ("dynamodb", "batch_write_item", 9),
    ("dynamodb", "update_item", 1), ("s3", "delete_objects", 1),
])
def test_a_run_that_failed_part_way_is_finished_by_the_next(
    hub: Hub, probe: Client, pipeline: Pipeline, object_pump: Any, service: str, method: str, calls: int
) -> None:
    zelda_everywhere(hub, probe, pipeline, object_pump)
    zelda = customer_id(hub, "zelda.quux@example.com")
    flaky = FailingAfter(hub.aws.client(service), method, calls)
    if service == "dynamodb":
        broken = eraser(hub, TicketStore(flaky, hub.settings.table_name, crypto=hub.crypto))
    else:
        broken = eraser(hub, s3=flaky)
    with pytest.raises(ConnectionError):
        broken.erase("demo", zelda)
    assert [i for i in table_items(hub, "customer") if i["customer_id"] == zelda], "the first run stopped part-way"
    report = eraser(hub).erase("demo", zelda)
    assert report.counts["customer"] == 1
    assert not any(trace.lower() in everything(hub) for trace in ZELDA_TRACES)


class Unprocessing:
    """BatchWriteItem that leaves everything unprocessed the first ``times`` calls."""

    def __init__(self, client: Any, times: int) -> None:
        self._client, self._times, self.calls = client, times, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.calls += 1
        if self.calls <= self._times:
            return {"UnprocessedItems": RequestItems}
        return dict(self._client.batch_write_item(RequestItems=RequestItems))


def test_unprocessed_items_are_retried_then_given_up_loudly(
    hub: Hub, probe: Client, pipeline: Pipeline, object_pump: Any
) -> None:
    zelda_everywhere(hub, probe, pipeline, object_pump)
    zelda = customer_id(hub, "zelda.quux@example.com")
    stubborn = Unprocessing(hub.aws.dynamodb, times=100)
    with pytest.raises(BatchIncomplete):
        eraser(hub, TicketStore(stubborn, hub.settings.table_name, crypto=hub.crypto)).erase("demo", zelda)
    assert stubborn.calls == 8, "bounded: eight attempts, then the caller hears of it"
    slow = Unprocessing(hub.aws.dynamodb, times=3)
    eraser(hub, TicketStore(slow, hub.settings.table_name, crypto=hub.crypto)).erase("demo", zelda)
    assert "zq-secret" not in everything(hub)


def test_unknown_or_foreign_customers_are_not_found(hub: Hub, probe: Client, pipeline: Pipeline) -> None:
    send(probe, spec("z1", customer=ZELDA, text="ZQ-SECRET-1"))
    pipeline.drain()
    zelda = customer_id(hub, "zelda.quux@example.com")
    before = table_items(hub)
    for tenant, customer in [("demo", "cus_" + "a" * 26), ("demo", "nobody"), ("demo", zelda + "#x"),
                             ("other", zelda)]:
        with pytest.raises(NotFound):
            eraser(hub).erase(tenant, customer)
    assert table_items(hub) == before


def test_the_report_names_every_kind_and_only_ids() -> None:
    report = ErasureReport("cus_x")
    report.add("messages", 3)
    assert report.as_dict() == {"customer_id": "cus_x", "erased": dict.fromkeys(KINDS, 0) | {"messages": 3}}


def test_a_message_after_erasure_starts_afresh(hub: Hub, probe: Client, pipeline: Pipeline) -> None:
    send(probe, spec("z1", customer=ZELDA, text="ZQ-SECRET-1"))
    pipeline.drain()
    report = eraser(hub).erase("demo", customer_id(hub, "zelda.quux@example.com"))
    hub.clock.now += timedelta(minutes=1)  # type: ignore[attr-defined]
    send(probe, spec("z2", customer=ZELDA, text="new conversation"))
    pipeline.drain()
    [message] = table_items(hub, "message")
    assert opened_item(hub, message)["text"] == "new conversation", "sealed under the new customer's new key"
    assert message["ticket_id"] not in report.ticket_ids


def test_an_identity_another_customer_holds_stays_with_them(hub: Hub, probe: Client, pipeline: Pipeline) -> None:
    phone = {"kind": "phone", "value": "+14155550123"}
    send(probe, spec("z1", email="zelda.quux@example.com"))
    send(probe, spec("b1", customer={"identities": [phone]}))
    pipeline.drain()
    send(probe, spec("z2", customer={"identities": [{"kind": "email", "value": "zelda.quux@example.com"}, phone]}))
    pipeline.drain()
    zelda, bob = customer_id(hub, "zelda.quux@example.com"), one_identity(hub, "phone:+14155550123")
    phone_ref = ref_of(hub, "phone:+14155550123")
    assert phone_ref in one_item(hub, "customer", zelda)["identity_keys"], "Zelda's profile names it"
    report = eraser(hub).erase("demo", zelda)
    assert report.counts["identities"] == 1
    assert [(i["pk"], i["customer_id"]) for i in table_items(hub, "identity")] == [(f"T#demo#ID#{phone_ref}", bob)]


def one_identity(hub: Hub, key: str) -> str:
    [item] = [i for i in table_items(hub, "identity") if i["pk"] == f"T#demo#ID#{ref_of(hub, key)}"]
    return str(item["customer_id"])


def one_item(hub: Hub, kind: str, customer: str) -> dict[str, Any]:
    [item] = [i for i in table_items(hub, kind) if i["customer_id"] == customer]
    return item
