"""Sealed inbound records on the webhook path (docs/encryption.md): nothing personal in
clear in what the webhook writes, one KMS call for many messages, a clear 503 with
nothing written when KMS is out of reach, documents bound to their item, and records
written before encryption still read."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from chalice.test import Client
from switchboard_sdk import InboundMessage

import app as app_module
from chalicelib.crypto.errors import Undecryptable
from chalicelib.hub import Hub
from chalicelib.pipeline.conversations import ConversationBuilder
from chalicelib.storage.store import TicketStore
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.sealed_docs import doc_of, opened, opened_items
from tools.local.demo import DemoTenant

PERSONAL = ("Ada@Example.com", "ada@example.com", "order is late", "shop.example.com", "Ada")
SEALED_KINDS = ("inbound", "inbound_part", "waiting")


@pytest.fixture
def client(demo: DemoTenant) -> Any:
    with Client(app_module.app) as test_client:
        yield test_client


def post(client: Any, demo: DemoTenant, body: bytes) -> Any:
    return client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))


def kms_calls(hub: Hub) -> list[str]:
    calls: list[str] = []
    hub.aws.client("kms").meta.events.register("before-call.kms", lambda model, **_: calls.append(model.name))
    return calls


def in_clear(item: dict[str, Any]) -> list[str]:
    flat = repr(item)
    return [value for value in PERSONAL if value in flat]


def test_the_inbound_record_holds_nothing_personal_in_clear(client: Any, demo: DemoTenant, hub: Hub,
                                                            pipeline: Pipeline) -> None:
    big = web_message("my order is late " + "x" * 90_000, client_id="c-big")  # kept in parts
    for body in (web_message(), big):
        assert post(client, demo, body).status_code == 202
    written = [i for i in table_items(hub) if i.get("type") in SEALED_KINDS]
    assert {i["type"] for i in written} == {"inbound", "inbound_part"}
    assert {i["pk"]: in_clear(i) for i in written} == {i["pk"]: [] for i in written}
    assert all(str(i["doc"]).startswith("sb1.") for i in written if "doc" in i)
    assert all(bytes(i["blob"]).startswith(b"sb1.") for i in written if "blob" in i)
    docs = {doc_of(hub, i)["provider_message_id"]: doc_of(hub, i) for i in table_items(hub, "inbound")}
    assert docs["c-1"]["text"] == "Hello, my order is late"
    pipeline.drain()  # the stream opens them: both become messages, the large one whole
    assert all(str(m["text"]).startswith("sc1.") for m in table_items(hub, "message") if m.get("text"))
    texts = {m["provider_message_id"]: m.get("text") for m in opened_items(hub, table_items(hub, "message"))}
    assert texts["c-1"] == "Hello, my order is late"
    assert hub.store.reads("demo").get_message(*_message_key(hub, "c-big")).text.startswith("my order is late x")


def _message_key(hub: Hub, provider_id: str) -> tuple[str, str, str]:
    [item] = [m for m in table_items(hub, "message") if m["provider_message_id"] == provider_id]
    return str(item["ticket_id"]), str(item["received_at"]), str(item["id"])


def test_many_messages_cost_one_kms_call_and_one_write_each(client: Any, demo: DemoTenant, hub: Hub) -> None:
    assert post(client, demo, web_message(client_id="warm")).status_code == 202  # tenant and plugin cached
    calls, writes = kms_calls(hub), []
    hub.aws.dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: writes.append(model.name))
    for n in range(20):
        assert post(client, demo, web_message(f"message {n}", client_id=f"c-{n}")).status_code == 202
    assert calls == [], "the data key made by the first message serves them all"
    assert writes.count("PutItem") == 20
    assert len(table_items(hub, "inbound")) == 21


def test_an_unreachable_key_service_is_a_503_and_nothing_is_stored(client: Any, demo: DemoTenant,
                                                                   hub: Hub) -> None:
    closed = boto3.client("kms", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                          config=Config(connect_timeout=0.5, retries={"max_attempts": 1}))
    hub.aws.use("kms", closed)
    for part in ("crypto", "store", "ingestor"):  # a fresh container: no data key cached
        hub.__dict__.pop(part, None)
    response = post(client, demo, web_message())
    assert response.status_code == 503
    assert json.loads(response.body)["error"]["code"] == "key_service_unavailable"
    assert "Traceback" not in response.body.decode()
    assert table_items(hub, "inbound") == []
    assert [i["pk"] for i in table_items(hub) if in_clear(i) and "#IN#" in str(i["pk"])] == []


def test_a_document_copied_into_another_record_does_not_open(client: Any, demo: DemoTenant, hub: Hub) -> None:
    for client_id in ("c-1", "c-2"):
        assert post(client, demo, web_message(client_id=client_id)).status_code == 202
    one, two = sorted(table_items(hub, "inbound"), key=lambda i: str(i["pk"]))
    builder = ConversationBuilder(hub.store)  # the stream's reader of inbound images
    assert builder.inbound_of(one).provider_message_id in {"c-1", "c-2"}
    with pytest.raises(Undecryptable):
        builder.inbound_of(two | {"doc": one["doc"]})
    other_tenant = two | {"pk": str(two["pk"]).replace("T#demo#", "T#globex#"), "doc": two["doc"]}
    with pytest.raises(Undecryptable):
        builder.inbound_of(other_tenant)


def test_a_record_written_before_encryption_still_reads(hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> None:
    plain = TicketStore(hub.aws.dynamodb, hub.settings.table_name)  # no crypto: as records were written before
    message = InboundMessage.model_validate_json(web_inbound_json())
    assert plain.inbound("demo").record_inbound(message, raw=b"{}", expires_at=0)
    [record] = table_items(hub, "inbound")
    assert json.loads(str(record["doc"]))["text"] == "written before"
    assert opened(hub, record) == record["doc"]
    pipeline.drain()
    assert [m["text"] for m in opened_items(hub, table_items(hub, "message"))] == ["written before"]


def web_inbound_json() -> str:
    return json.dumps({
        "tenant_id": "demo", "channel": "web", "provider_message_id": "old-1", "text": "written before",
        "received_at": "2025-01-01T00:00:00Z",
        "customer": {"identities": [{"kind": "email", "value": "old@example.com"}]},
    })
