"""Everything the channel docs allow is stored, whatever DynamoDB's limits: long
texts, long provider ids and long thread hints, through the real route, the
stream and the API. Every DynamoDB request the hub makes is checked against
AWS's limits (moto does not enforce all of them), and what the hub cannot store
is refused with a JSON error before anything is written."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import CustomerProfile, Identity, InboundMessage

import app as app_module
from chalicelib.hub import Hub
from chalicelib.storage.documents import INLINE_DOCUMENT_BYTES
from chalicelib.storage.keys import HASHED, MAX_COMPONENT_BYTES, TenantKeys, component
from chalicelib.storage.store import TicketStore
from tests.conftest import Pipeline, bucket_keys, signed_web_headers, table_items, web_message
from tests.helpers import limit_webhook_rate
from tests.sealed_docs import doc_of
from tools.local import samples
from tools.local.demo import DemoTenant
from tools.local.pumps import drain

PARTITION_KEY_BYTES, SORT_KEY_BYTES, ITEM_BYTES = 2048, 1024, 400 * 1024
FAR_BELOW = ITEM_BYTES // 2  # what "far below the item limit" means here
EMOJI_ID = "\U0001f600" * 512  # 512 characters, 2,048 bytes of UTF-8


# -- AWS's limits, checked on every request the hub makes ---------------------------


def _value_bytes(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (close enough: names + UTF-8 + bytes)."""
    [(kind, inner)] = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind in ("B", "N"):
        return len(inner)
    if kind in ("SS", "NS", "BS"):
        return sum(len(v.encode("utf-8")) if isinstance(v, str) else len(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + _value_bytes(v) for k, v in inner.items())
    return 1


def item_bytes(item: dict[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + _value_bytes(value) for name, value in item.items())


@dataclass
class AwsLimits:
    """Records every key over DynamoDB's limits and the largest item written."""

    violations: list[str] = field(default_factory=list)
    largest_item: int = 0

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        for key in self._keys(operation, params):
            pk, sk = key.get("pk", {}).get("S", ""), key.get("sk", {}).get("S", "")
            if len(pk.encode("utf-8")) > PARTITION_KEY_BYTES or len(sk.encode("utf-8")) > SORT_KEY_BYTES:
                self.violations.append(f"{operation}: key of {len(pk.encode())}+{len(sk.encode())} bytes")
        for item in self._items(params):
            size = item_bytes(item)
            self.largest_item = max(self.largest_item, size)
            if size > ITEM_BYTES:
                self.violations.append(f"{operation}: item of {size} bytes")
        if operation == "Query":
            for name, value in (params.get("ExpressionAttributeValues") or {}).items():
                if len(value.get("S", "").encode("utf-8")) > PARTITION_KEY_BYTES:
                    self.violations.append(f"Query: key condition value {name} over the key limit")

    @staticmethod
    def _keys(operation: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if "Key" in params:
            yield params["Key"]
        if "Item" in params:
            yield params["Item"]
        for request in (params.get("RequestItems") or {}).values():
            yield from request.get("Keys", []) if isinstance(request, dict) else ()
            for write in request if isinstance(request, list) else ():
                yield write.get("PutRequest", {}).get("Item") or write.get("DeleteRequest", {}).get("Key") or {}
        for action in params.get("TransactItems") or ():
            [(_, body)] = action.items()
            yield body.get("Item") or body.get("Key") or {}

    @staticmethod
    def _items(params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if "Item" in params:
            yield params["Item"]
        for request in (params.get("RequestItems") or {}).values():
            for write in request if isinstance(request, list) else ():
                if "PutRequest" in write:
                    yield write["PutRequest"]["Item"]
        for action in params.get("TransactItems") or ():
            if "Put" in action:
                yield action["Put"]["Item"]


@pytest.fixture
def limits(hub: Hub) -> Iterator[AwsLimits]:
    checker = AwsLimits()
    hub.aws.dynamodb.meta.events.register("provide-client-params.dynamodb.*", checker)
    yield checker
    hub.aws.dynamodb.meta.events.unregister("provide-client-params.dynamodb.*", checker)


@pytest.fixture
def client(demo: DemoTenant) -> Iterator[Any]:
    with Client(app_module.app) as test_client:
        yield test_client


def post(client: Any, sample: samples.Sample) -> Any:
    return client.http.post(sample.url.removeprefix("http://testserver"), body=sample.body, headers=sample.headers)


def run_stream(pipeline: Pipeline) -> None:
    """The stream handler only: customers, tickets and messages (delivery is not under test)."""
    drain([pipeline.stream])


def read_back(client: Any, demo: DemoTenant, hub: Hub, provider_message_id: str) -> dict[str, Any]:
    """The stored message, as ``GET /v1/tickets/{id}`` answers it."""
    [item] = [m for m in table_items(hub, "message") if m["provider_message_id"] == provider_message_id]
    response = client.http.get(f"/v1/tickets/{item['ticket_id']}",
                               headers={"Authorization": f"Bearer {demo.api_key}"})
    assert response.status_code == 200
    [message] = [m for m in json.loads(response.body)["messages"] if m["provider_message_id"] == provider_message_id]
    return dict(message)


def utf8_mail(text: str, *, sender: str, subject: str, message_id: str, in_reply_to: str | None = None) -> bytes:
    """A message with raw UTF-8 headers (RFC 6532), as mail servers pass them on."""
    reply = f"In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n" if in_reply_to else ""
    return (f"From: {sender}\r\nTo: support@demo.example\r\nSubject: {subject}\r\n"
            f"Date: Fri, 01 Mar 2024 10:00:00 +0000\r\nMessage-ID: <{message_id}>\r\n{reply}"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n").encode()


def chinese(rng: random.Random, chars: int) -> str:
    return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(chars))


# -- keys ----------------------------------------------------------------------------


def test_every_key_stays_within_dynamodb_limits_whatever_the_values() -> None:
    keys, huge = TenantKeys("a" * 63), "\U0001f600" * 2000
    built = [
        keys.inbound(huge, huge), keys.inbound_part(huge, huge, 23), keys.replay(huge, huge),
        keys.identity("w" * 32 + ":" + "A" * 43), keys.provider_message(huge, huge),  # a ref: kind + blind index
        keys.waiting(huge, huge, huge), keys.customer(huge), keys.customer_ticket(huge, huge), keys.ticket(huge),
        keys.message(huge, huge, huge), keys.message_part(huge, huge, huge, 23), keys.delivery(huge, huge),
        keys.external_id(huge, huge, huge), keys.delivery_log(huge, huge), keys.breaker(huge),
        keys.rate_window(huge, 2**40),
    ]
    for key in built:
        assert key["pk"]["S"].startswith(keys.prefix)
        assert len(key["pk"]["S"].encode()) <= PARTITION_KEY_BYTES
        assert len(key["sk"]["S"].encode()) <= SORT_KEY_BYTES
    partitions = [keys.status_index(huge, 3), keys.connector_log_index(huge, 3), keys.waiting_partition(huge, huge)]
    assert all(len(p.encode()) <= PARTITION_KEY_BYTES for p in partitions)


def test_long_components_become_digests_and_stay_digests() -> None:
    short, long = "m" * MAX_COMPONENT_BYTES, "\U0001f600" * 129  # 512 and 516 bytes
    assert component(short) == short
    assert component(long).startswith(HASHED)
    assert component(long) != component(long[:-1] + "x")
    # a key read back from the table (the stream parses provider ids out of keys) maps to itself
    assert component(component(long)) == component(long)
    assert component("\ud800" * 3).startswith(HASHED), "not UTF-8: DynamoDB would refuse it as it is"


# -- long texts ------------------------------------------------------------------------


def test_a_web_message_of_100000_control_characters_is_stored_and_read_back_whole(
    client: Any, demo: DemoTenant, hub: Hub, pipeline: Pipeline, limits: AwsLimits
) -> None:
    text = "\u0001" * 100_000  # the documented maximum; JSON-escaped it is 600 KB
    body = web_message(text, client_id="long-1")
    response = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
    assert response.status_code == 202
    assert json.loads(response.body)["status"] == "accepted"
    [inbound] = table_items(hub, "inbound")
    assert inbound["parts"] >= 1, "the document is kept in parts beside a small record"
    run_stream(pipeline)
    message = read_back(client, demo, hub, "long-1")
    assert message["text"] == text
    assert message["metadata"]["page_url"] == "https://shop.example.com/orders"
    assert limits.violations == []
    assert limits.largest_item < FAR_BELOW


def test_a_long_chinese_email_thread_is_stored_and_read_back_whole(
    client: Any, demo: DemoTenant, hub: Hub, pipeline: Pipeline, limits: AwsLimits
) -> None:
    rng = random.Random(7)
    reply = "\n".join(chinese(rng, 70) for _ in range(1300))  # 92,299 characters, 277 KB
    history = "\n".join("> " + chinese(rng, 70) for _ in range(700))
    mail = reply + "\n\n在2024年3月1日 10:00，张三 <zhang@example.com> 写道：\n" + history  # noqa: RUF001
    raw, message_id = samples.email_mime(mail, sender="li@example.com", subject="订单问题")
    sample = samples.mailgun_mime("http://testserver/hooks/demo/email",
                                  demo.channels["email"]["mailgun_signing_key"], raw)
    assert post(client, sample).status_code == 200
    run_stream(pipeline)
    message = read_back(client, demo, hub, message_id)
    assert message["text"] == reply
    assert len(message["metadata"]["quoted_history"]) == 50_000  # the plugin's documented cap
    assert message["subject"] == "订单问题"
    assert limits.violations == []
    assert limits.largest_item < FAR_BELOW


# -- long ids ----------------------------------------------------------------------------


def test_a_twilio_message_sid_of_512_emoji_is_stored_and_threaded(
    client: Any, demo: DemoTenant, hub: Hub, pipeline: Pipeline, limits: AwsLimits
) -> None:
    sample = samples.twilio_sms("http://testserver/hooks/demo/twilio", demo.channels["twilio"]["auth_token"],
                                "my parcel is late", sender="+14155550100", message_sid=EMOJI_ID)
    assert post(client, sample).status_code == 200
    assert post(client, sample).status_code == 200  # Twilio's retry: stored once
    [inbound] = table_items(hub, "inbound")
    assert inbound["pk"].endswith(component(EMOJI_ID))
    run_stream(pipeline)
    assert read_back(client, demo, hub, EMOJI_ID)["text"] == "my parcel is late"
    [where] = table_items(hub, "provider_message")
    assert where["provider_message_id"] == EMOJI_ID, "the key holds a digest, the item the whole id"
    assert limits.violations == []


def test_a_message_id_and_in_reply_to_of_512_emoji_thread_together(
    client: Any, demo: DemoTenant, hub: Hub, pipeline: Pipeline, limits: AwsLimits
) -> None:
    key = demo.channels["email"]["mailgun_signing_key"]
    first_id = "\U0001f600" * 510 + "@x"  # 512 characters: the documented maximum
    first = utf8_mail("The kettle is broken.", sender="ada@example.com", subject="Kettle", message_id=first_id)
    assert post(client, samples.mailgun_mime("http://testserver/hooks/demo/email", key, first)).status_code == 200
    run_stream(pipeline)
    reply_id = "reply-1@example.com"
    reply = utf8_mail("Any news?", sender="ada@example.com", subject="Re: Kettle", message_id=reply_id,
                      in_reply_to=first_id)
    assert post(client, samples.mailgun_mime("http://testserver/hooks/demo/email", key, reply)).status_code == 200
    run_stream(pipeline)
    stored = {m["provider_message_id"]: m for m in table_items(hub, "message")}
    assert stored[reply_id]["ticket_id"] == stored[first_id]["ticket_id"], "the hint led through the digest key"
    assert read_back(client, demo, hub, first_id)["text"].strip() == "The kettle is broken."
    assert limits.violations == []


def test_an_in_reply_to_of_512_emoji_naming_nothing_we_hold_opens_a_ticket(
    client: Any, demo: DemoTenant, hub: Hub, pipeline: Pipeline, limits: AwsLimits
) -> None:
    message_id = "hello-1@example.com"
    raw = utf8_mail("Hello?", sender="bob@example.com", subject="Hi", message_id=message_id,
                    in_reply_to="\U0001f600" * 510 + "@x")
    key = demo.channels["email"]["mailgun_signing_key"]
    assert post(client, samples.mailgun_mime("http://testserver/hooks/demo/email", key, raw)).status_code == 200
    run_stream(pipeline)
    assert read_back(client, demo, hub, message_id)["text"].strip() == "Hello?"
    assert limits.violations == [], "the hint's look-up key stayed within the limits"


def test_a_recording_parked_on_a_call_sid_of_300_emoji_is_released_when_the_call_comes(
    client: Any, demo: DemoTenant, hub: Hub, pipeline: Pipeline, limits: AwsLimits
) -> None:
    url, token = "http://testserver/hooks/demo/twilio", demo.channels["twilio"]["auth_token"]
    call_sid = "\U0001f600" * 300  # 1,200 bytes: keyed by its digest
    assert post(client, samples.twilio_recording(url, token, call_sid=call_sid)).status_code == 200
    run_stream(pipeline)
    assert len(table_items(hub, "waiting")) == 1, "parked: the call it follows is not stored yet"
    # the stream finds the follow-up from the call's provider-message key, which holds a digest
    assert post(client, samples.twilio_call(url, token, caller="+14155550100", call_sid=call_sid)).status_code == 200
    run_stream(pipeline)
    assert table_items(hub, "waiting") == []
    messages = table_items(hub, "message")
    assert len(messages) == 2
    assert len({m["ticket_id"] for m in messages}) == 1
    assert limits.violations == []


# -- what the hub does not store -----------------------------------------------------------


def test_a_message_too_large_to_store_gets_413_and_nothing_is_written(
    client: Any, demo: DemoTenant, hub: Hub, limits: AwsLimits
) -> None:
    small_cap = INLINE_DOCUMENT_BYTES  # a deployment whose documents may compress to 64 KB at most
    hub.__dict__["store"] = TicketStore(hub.aws.dynamodb, hub.settings.table_name, max_document_bytes=small_cap,
                                        crypto=hub.crypto)
    hub.__dict__.pop("ingestor", None)
    body = web_message(chinese(random.Random(3), 90_000), client_id="too-big")
    response = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
    assert response.status_code == 413
    error = json.loads(response.body)["error"]
    assert error["code"] == "payload_too_large"
    assert "too large to store" in error["message"]
    assert table_items(hub, "inbound") == []
    assert table_items(hub, "inbound_part") == []


def test_an_id_over_the_documented_512_characters_is_quarantined_with_a_clear_reason(
    client: Any, demo: DemoTenant, hub: Hub
) -> None:
    sample = samples.twilio_sms("http://testserver/hooks/demo/twilio", demo.channels["twilio"]["auth_token"],
                                "hi", sender="+14155550100", message_sid=EMOJI_ID + "!")
    assert post(client, sample).status_code == 200  # Twilio's normal answer: it would not send it again
    assert table_items(hub, "inbound") == []
    [key] = bucket_keys(hub, "quarantine/demo/twilio/")
    # (moto's in-process S3 drops the bytes of a form-encoded object; the reason is what is checked here)
    reason = hub.aws.s3.head_object(Bucket=hub.settings.bucket, Key=key)["Metadata"]["reason"]
    assert "provider_message_id: String should have at most 512 characters" in reason


# -- erasure reaches the parts -----------------------------------------------------------


def test_erasing_the_customer_removes_a_large_messages_parts(
    client: Any, demo: DemoTenant, hub: Hub, pipeline: Pipeline
) -> None:
    body = json.dumps({"visitor_id": "v-42", "email": "ada@example.com", "text": "\U0001f600" * 100_000,
                       "client_message_id": "long-2"}, ensure_ascii=False).encode()  # 400 KB of UTF-8
    assert client.http.post("/hooks/demo/web", body=body,
                            headers=signed_web_headers(demo.web_secret, body)).status_code == 202
    run_stream(pipeline)
    assert table_items(hub, "message_part") != []
    assert table_items(hub, "inbound_part") != []
    [message] = table_items(hub, "message")
    hub.erase_customer("demo", message["customer_id"])
    assert table_items(hub, "message") == []
    assert table_items(hub, "message_part") == []
    assert table_items(hub, "inbound_part") == [], "the inbound record's parts go with it"


# -- load shedding: providers that do not retry are never refused ------------------------------


def test_sms_over_the_tenant_rate_are_stored_while_retrying_channels_get_429(
    client: Any, demo: DemoTenant, hub: Hub
) -> None:
    limit_webhook_rate(hub, 2)
    token = demo.channels["twilio"]["auth_token"]
    texts = [f"sms {n}" for n in range(4)]
    answers = [post(client, samples.twilio_sms("http://testserver/hooks/demo/twilio", token, text,
                                               sender="+14155550100")) for text in texts]
    assert [a.status_code for a in answers] == [200] * 4, "Twilio does not retry: never a 429"
    assert {doc_of(hub, i)["text"] for i in table_items(hub, "inbound")} == set(texts)
    body = web_message("from the site", client_id="web-over")
    web = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
    assert web.status_code == 429, "the SMS spent the budget: a channel whose sender retries waits"
    assert len(table_items(hub, "inbound")) == 4


def test_a_stub_keeps_what_erasure_and_the_stream_need(hub: Hub) -> None:
    attachment = {"url": f"s3://{hub.settings.bucket}/attachments/demo/web/m/abc"}
    message = InboundMessage(
        tenant_id="demo", channel="web", provider_message_id="big", text="x" * 100_000, received_at=hub.clock(),
        customer=CustomerProfile(identities=[Identity(kind="email", value="ada@example.com")], display_name="Ada"),
        attachments=[attachment, {"url": "https://cdn.example.com/a.png", "filename": "a" * 500}],
        raw_payload_ref=f"s3://{hub.settings.bucket}/raw/demo/web/x",
    )
    tenant = hub.store.inbound("demo")
    assert tenant.record_inbound(message, raw=None, expires_at=0)
    [inbound] = table_items(hub, "inbound")
    stub = doc_of(hub, inbound)
    assert stub["raw_payload_ref"] == message.raw_payload_ref
    assert [a["url"] for a in stub["attachments"]] == [attachment["url"]], "our objects, for erasure"
    assert stub["text"] == ""
    assert hub.store.conversations("demo").complete_inbound(InboundMessage.model_validate(stub)) == message
