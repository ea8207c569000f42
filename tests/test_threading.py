"""Threading: hints followed only for the ticket's own customer, follow-ups
without a sender, messages that may not open tickets, attachments and replay
keys (``switchboard_channel_replay_key``) — through the real webhook route,
stream and store."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import ticket_ref

import app as app_module
from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import PluginSetting
from tests.conftest import Pipeline, bucket_keys, table_items
from tests.probe_plugin import PROBE_TOKEN, ProbeChannel, spec
from tests.sealed_docs import doc_of, opened_items
from tools.local.demo import DemoTenant


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> Any:
    hub.registry.add(ProbeChannel())
    tenant = hub.tenants.get("demo")
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"probe": PluginSetting()}}))
    with Client(app_module.app) as client:
        yield client


def send(client: Any, *specs: dict[str, Any], **headers: str) -> Any:
    return client.http.post("/hooks/demo/probe", body=json.dumps(list(specs)),
                            headers={"content-type": "application/json", "x-probe-token": PROBE_TOKEN} | headers)


def messages(hub: Hub) -> dict[str, dict[str, Any]]:
    return {m["provider_message_id"]: m for m in opened_items(hub, table_items(hub, "message"))}


def test_a_ticket_reference_threads_only_for_the_tickets_customer(probe: Any, hub: Hub, pipeline: Pipeline) -> None:
    send(probe, spec("m1", subject="Broken kettle"))
    pipeline.drain()
    ticket = messages(hub)["m1"]["ticket_id"]
    hub.tenants.get("demo")  # solve nothing: a reply must join by its hint alone
    send(probe, spec("m2", email="ada@example.com", thread={"ticket_refs": [ticket_ref(ticket)]}),
         spec("m3", email="mallory@example.com", subject="Re: Broken kettle",
              thread={"ticket_refs": [ticket_ref(ticket)], "provider_ids": ["m1"]}))
    pipeline.drain()
    stored = messages(hub)
    assert stored["m2"]["ticket_id"] == ticket
    assert stored["m3"]["ticket_id"] != ticket, "a stranger quoting the reference gets a ticket of their own"
    assert stored["m3"]["customer_id"] != stored["m1"]["customer_id"]


def test_an_earlier_provider_message_threads_the_same_customer(probe: Any, hub: Hub, pipeline: Pipeline) -> None:
    send(probe, spec("m1"))
    pipeline.drain()
    first = messages(hub)["m1"]
    # a customer may have another open ticket; the reply still joins the one it answers
    send(probe, spec("m2", thread={"provider_ids": ["unknown", "m1"]}))
    pipeline.drain()
    assert messages(hub)["m2"]["ticket_id"] == first["ticket_id"]


def test_a_follow_up_without_a_sender_joins_what_it_follows(probe: Any, hub: Hub, pipeline: Pipeline) -> None:
    send(probe, spec("CA1", kind="call", email="caller@example.com"))
    pipeline.drain()
    send(probe, spec("CA1:recording", kind="voicemail", email=None, thread={"provider_ids": ["CA1"]}))
    pipeline.drain()
    stored = messages(hub)
    assert stored["CA1:recording"]["ticket_id"] == stored["CA1"]["ticket_id"]
    assert stored["CA1:recording"]["customer_id"] == stored["CA1"]["customer_id"]
    assert stored["CA1:recording"]["kind"] == "voicemail"


def test_a_follow_up_that_arrives_first_waits_parked_without_holding_the_stream(
    probe: Any, hub: Hub, pipeline: Pipeline
) -> None:
    send(probe, spec("CA2:recording", kind="voicemail", email=None, thread={"provider_ids": ["CA2"]}))
    send(probe, spec("other", email="someone@example.com"))
    pipeline.drain()  # nothing is stuck: the unrelated message went through
    assert set(messages(hub)) == {"other"}
    assert len(table_items(hub, "waiting")) == 1
    send(probe, spec("CA2", kind="call", email="caller@example.com"))
    pipeline.drain()
    stored = messages(hub)
    assert stored["CA2:recording"]["ticket_id"] == stored["CA2"]["ticket_id"]
    assert table_items(hub, "waiting") == []


def test_messages_that_may_not_open_tickets(probe: Any, hub: Hub, pipeline: Pipeline) -> None:
    send(probe, spec("auto1", email="nobody@example.com", opens_ticket=False))
    pipeline.drain()
    assert "auto1" not in messages(hub)
    assert len(table_items(hub, "inbound")) == 1, "kept in its inbound record, not lost"
    send(probe, spec("m1", email="nobody@example.com"), spec("auto2", email="nobody@example.com",
                                                             opens_ticket=False, kind="event"))
    pipeline.drain()
    stored = messages(hub)
    assert stored["auto2"]["ticket_id"] == stored["m1"]["ticket_id"], "joins the open ticket"
    assert len(table_items(hub, "ticket")) == 1


def test_attachment_bytes_go_to_s3_and_only_the_reference_is_stored(probe: Any, hub: Hub) -> None:
    content = b"%PDF-1.7 invoice"
    attachment = {"filename": "invoice.pdf", "type": "application/pdf", "b64": base64.b64encode(content).decode()}
    assert send(probe, spec("m1", attachments_b64=[attachment])).status_code == 202
    [inbound] = table_items(hub, "inbound")
    [stored] = doc_of(hub, inbound)["attachments"]
    assert stored["url"].startswith(f"s3://{hub.settings.bucket}/attachments/demo/probe/")
    assert stored["size_bytes"] == len(content)
    assert "content" not in stored
    [key] = bucket_keys(hub, "attachments/")
    assert hub.aws.s3.get_object(Bucket=hub.settings.bucket, Key=key)["Body"].read() == content


def test_a_replayed_one_time_token_is_refused(probe: Any, hub: Hub) -> None:
    assert send(probe, spec("m1"), **{"x-probe-once": "tok-1"}).status_code == 202
    again = send(probe, spec("m2"), **{"x-probe-once": "tok-1"})
    assert again.status_code == 401
    assert json.loads(again.body)["error"]["code"] == "verification_failed"
    assert send(probe, spec("m3"), **{"x-probe-once": "tok-2"}).status_code == 202
    assert {doc_of(hub, i)["provider_message_id"] for i in table_items(hub, "inbound")} == {"m1", "m3"}


def test_a_token_is_remembered_only_after_the_request_was_kept(probe: Any, hub: Hub) -> None:
    # unparseable: quarantined, which is kept too, so the token counts as used
    assert send(probe, {"bad": "spec"}, **{"x-probe-once": "tok-q"}).status_code == 202
    assert send(probe, spec("m1"), **{"x-probe-once": "tok-q"}).status_code == 401


def test_an_unauthenticated_sender_never_joins_an_existing_ticket(probe: Any, hub: Hub, pipeline: Pipeline) -> None:
    # Zammad #5064: the sender check trusts From, which anyone can write; a message
    # whose provider failed SPF/DKIM/DMARC must not reach the customer's ticket
    send(probe, spec("m1", subject="Refund for order 1042", sender_authenticated=True))
    pipeline.drain()
    ticket = messages(hub)["m1"]["ticket_id"]
    spoof = spec("spoof", subject="Re: Refund for order 1042", sender_authenticated=False,
                 thread={"ticket_refs": [ticket_ref(ticket)], "provider_ids": ["m1"]})
    send(probe, spoof)
    pipeline.drain()
    stored = messages(hub)
    assert stored["spoof"]["ticket_id"] != ticket, "neither the hinted ticket nor the customer's open one"
    assert stored["spoof"]["customer_id"] == stored["m1"]["customer_id"], "kept under the identity it claims"
    assert stored["spoof"]["metadata"]["sender_unverified"] == "true"
    assert "sender_unverified" not in stored["m1"]["metadata"]
    assert len(table_items(hub, "ticket")) == 2


def test_an_unauthenticated_ticket_does_not_become_the_customers_open_ticket(
    probe: Any, hub: Hub, pipeline: Pipeline
) -> None:
    send(probe, spec("spoof", sender_authenticated=False))
    pipeline.drain()
    send(probe, spec("real"))  # the customer writes for real: a ticket of their own, not the forger's
    pipeline.drain()
    stored = messages(hub)
    assert stored["real"]["ticket_id"] != stored["spoof"]["ticket_id"]
    send(probe, spec("again", sender_authenticated=None))  # a channel that cannot say threads as before
    pipeline.drain()
    assert messages(hub)["again"]["ticket_id"] == stored["real"]["ticket_id"]


def test_an_unauthenticated_auto_reply_opens_nothing_and_joins_nothing(
    probe: Any, hub: Hub, pipeline: Pipeline
) -> None:
    send(probe, spec("m1"))
    pipeline.drain()
    send(probe, spec("auto", sender_authenticated=False, opens_ticket=False, thread={"provider_ids": ["m1"]}))
    pipeline.drain()
    assert "auto" not in messages(hub)
    assert len(table_items(hub, "ticket")) == 1
