"""The ticket store and conversation building: idempotent, race-free, tenant-scoped."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_sdk import CustomerProfile, Identity, InboundMessage, Message, NotFound, Ticket
from switchboard_sdk.testing import StatusServer

import app as app_module
from chalicelib.hub import Hub
from chalicelib.pipeline.conversations import ConversationBuilder
from chalicelib.storage.keys import TenantKeys
from tests.conftest import Pipeline, table_items
from tests.sealed_docs import opened
from tools.local.demo import DemoTenant
from tools.local.pumps import StreamPump, drain

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def inbound(
    pid: str, *identities: Identity, tenant: str = "demo", at: datetime = T0, text: str = "hi"
) -> InboundMessage:
    return InboundMessage(
        tenant_id=tenant, channel="web", provider_message_id=pid, text=text, received_at=at,
        customer=CustomerProfile(identities=list(identities), display_name="Ada"),
    )


EMAIL = Identity(kind="email", value="ada@example.com")
PHONE = Identity(kind="phone", value="+14155550100")


def stored(builder: ConversationBuilder, message: InboundMessage) -> Message:
    """``message`` absorbed, which it must be (neither parked nor refused)."""
    absorbed = builder.absorb(message)
    assert absorbed is not None, "absorbed"
    return absorbed


@pytest.fixture
def builder(hub: Hub, atomic_dynamodb: None) -> ConversationBuilder:
    return ConversationBuilder(hub.store)


def test_one_customer_one_open_ticket_messages_in_order(hub: Hub, builder: ConversationBuilder) -> None:
    first = stored(builder, inbound("p1", EMAIL, text="first"))
    second = stored(builder, inbound("p2", EMAIL, at=T0 + timedelta(seconds=5), text="second"))
    assert first.ticket_id == second.ticket_id
    ticket, messages = hub.store.reads("demo").get_ticket(first.ticket_id)
    assert [m.text for m in messages] == ["first", "second"]
    assert ticket.last_activity_at == T0 + timedelta(seconds=5)


def test_different_customers_get_different_tickets(builder: ConversationBuilder) -> None:
    a = stored(builder, inbound("p1", EMAIL))
    b = stored(builder, inbound("p2", Identity(kind="email", value="bob@example.com")))
    assert a.ticket_id != b.ticket_id
    assert a.customer_id != b.customer_id


def test_a_known_identity_finds_the_customer_and_links_new_ones(hub: Hub, builder: ConversationBuilder) -> None:
    first = stored(builder, inbound("p1", EMAIL))
    second = stored(builder, inbound("p2", PHONE, EMAIL))  # phone new, email known
    assert second.customer_id == first.customer_id
    third = stored(builder, inbound("p3", PHONE))  # phone alone now finds the same customer
    assert third.customer_id == first.customer_id == third.customer_id
    customer = hub.store.reads("demo").find_customer(PHONE)
    assert customer is not None
    assert set(customer.identities) == {EMAIL, PHONE}


def test_absorbing_the_same_message_twice_changes_nothing(hub: Hub, builder: ConversationBuilder) -> None:
    message = inbound("p1", EMAIL)
    assert builder.absorb(message) == builder.absorb(message)
    assert len(table_items(hub, "ticket")) == 1
    assert len(table_items(hub, "message")) == 1


def test_concurrent_messages_of_one_new_customer_open_one_ticket(hub: Hub, builder: ConversationBuilder) -> None:
    messages = [inbound(f"p{i}", EMAIL, at=T0 + timedelta(milliseconds=i)) for i in range(6)]
    barrier, results = threading.Barrier(len(messages)), []

    def absorb(message: InboundMessage) -> None:
        barrier.wait()
        results.append(stored(builder, message).ticket_id)

    threads = [threading.Thread(target=absorb, args=(m,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 6
    assert len(set(results)) == 1
    assert len(table_items(hub, "ticket")) == 1
    assert len(table_items(hub, "message")) == 6


def test_activity_never_moves_backwards(hub: Hub, builder: ConversationBuilder) -> None:
    late = stored(builder, inbound("p2", EMAIL, at=T0 + timedelta(minutes=5)))
    builder.absorb(inbound("p1", EMAIL, at=T0))  # processed later, happened earlier
    ticket, messages = hub.store.reads("demo").get_ticket(late.ticket_id)
    assert ticket.last_activity_at == T0 + timedelta(minutes=5)
    assert [m.provider_message_id for m in messages] == ["p1", "p2"]  # ordered by time received


def test_listing_is_newest_first_across_shards_with_a_working_cursor(hub: Hub) -> None:
    store, conversations = hub.store.reads("demo"), hub.store.conversations("demo")
    for i in range(9):
        at = T0 + timedelta(minutes=i)
        conversations.touch_ticket(Ticket(id=f"tkt_{i}", tenant_id="demo", customer_id=f"c{i}", channel="web",
                                          status="open" if i % 3 else "solved", created_at=at, last_activity_at=at))
    seen, cursor = [], None
    while True:
        page, cursor = store.list_tickets(limit=4, before=cursor)
        seen += [t.id for t in page]
        if cursor is None:
            break
    assert seen == [f"tkt_{i}" for i in reversed(range(9))]
    solved, _ = store.list_tickets(status="solved")
    assert [t.id for t in solved] == ["tkt_6", "tkt_3", "tkt_0"]


def test_a_tenant_store_cannot_reach_another_tenants_records(hub: Hub, builder: ConversationBuilder) -> None:
    message = stored(builder, inbound("p1", EMAIL))
    other = hub.store.reads("other-co")
    with pytest.raises(NotFound):
        other.get_ticket(message.ticket_id)
    assert other.list_tickets() == ([], None)
    assert other.find_customer(EMAIL) is None
    with pytest.raises(PermissionError):
        hub.store.inbound("other-co").record_inbound(inbound("p9", EMAIL), raw=None, expires_at=0)


@pytest.mark.parametrize("tenant_id", ["", "a", "Demo", "de#mo", "demo#T#x", "x" * 80, "-demo"])
def test_tenant_ids_that_could_escape_the_key_prefix_are_refused(tenant_id: str) -> None:
    with pytest.raises(ValueError, match="invalid tenant id"):
        TenantKeys(tenant_id)


def test_every_tenant_key_starts_with_the_tenant_prefix() -> None:
    keys = TenantKeys("acme")
    built = [keys.inbound("web", "x#T#other#"), keys.identity("email:" + "A" * 43), keys.customer("c"),
             keys.ticket("t"), keys.message("t", "2026", "m")]
    assert all(k["pk"]["S"].startswith("T#acme#") for k in built)
    assert keys.activity_index(0).startswith("T#acme#")
    assert keys.status_index("open", 1).startswith("T#acme#")


@pytest.mark.parametrize("value", [EMAIL.key, "email:" + "A" * 42, "email:" + "A" * 43 + "#T#other#ID", "email"])
def test_an_identity_key_takes_only_a_blind_index_ref(value: str) -> None:
    with pytest.raises(ValueError, match="blind-index ref"):
        TenantKeys("acme").identity(value)


def test_a_redelivered_stream_batch_delivers_each_event_once(
    demo: DemoTenant, hub: Hub, pipeline: Pipeline, receiver: StatusServer, builder: ConversationBuilder
) -> None:
    def twice(event: dict[str, Any], context: Any) -> Any:
        app_module.store_changes(event, context)
        return app_module.store_changes(event, context)

    builder.absorb(inbound("p1", EMAIL))
    doubled = StreamPump(hub.aws.client("dynamodbstreams"), pipeline.stream._arn, twice)
    drain([doubled, pipeline.queue])
    delivered = [h["webhook-id"] for _m, _p, h, _b in receiver.requests]
    kinds = [json.loads(body)["type"] for _m, _p, _h, body in receiver.requests]
    # the new ticket, its message, and the workflow's triage of the ticket (new → open):
    # each once, in order, though every record (the triage's history entry too) came twice
    assert kinds == ["ticket.created", "message.created", "ticket.updated"]
    assert len(set(delivered)) == len(delivered)


# -- large messages: kept in parts, read back whole ------------------------------------------


def big(pid: str, *identities: Identity, chars: int = 100_000, at: datetime = T0) -> InboundMessage:
    """A message at the documented maximum of text: JSON-escaped, 600 KB."""
    return inbound(pid, *identities, at=at, text="\u0001" * (chars - 1) + pid[-1])


def test_a_large_inbound_message_is_one_transaction_and_a_duplicate_writes_nothing(hub: Hub) -> None:
    tenant, message = hub.store.inbound("demo"), big("p1", EMAIL)
    hub.crypto.key_id_of("demo")  # the tenant's record (its own KMS key?) as the webhook path has it: cached
    calls: list[str] = []
    hub.aws.dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    assert tenant.record_inbound(message, raw=None, expires_at=0)
    other = message.model_copy(update={"text": "\u0002" * 100_000})  # same id, other text: a duplicate
    assert not tenant.record_inbound(other, raw=None, expires_at=0)
    assert calls == ["TransactWriteItems", "TransactWriteItems"], "one call each, the repeat writes nothing"
    [record] = table_items(hub, "inbound")
    assert len(table_items(hub, "inbound_part")) == record["parts"] == 1
    stub = InboundMessage.model_validate_json(opened(hub, record))
    assert hub.store.conversations("demo").complete_inbound(stub) == message, "the first one, whole"


def test_a_large_message_reads_back_whole_by_ticket_and_by_key(hub: Hub, builder: ConversationBuilder) -> None:
    first = builder.absorb(big("p1", EMAIL))
    second = builder.absorb(inbound("p2", EMAIL, at=T0 + timedelta(seconds=1), text="small"))
    assert first is not None
    assert second is not None
    tenant = hub.store.reads("demo")
    _, messages = tenant.get_ticket(first.ticket_id)
    assert [m.text for m in messages] == [first.text, "small"]
    [item] = [i for i in table_items(hub, "message") if i["id"] == first.id]
    assert item["text"] == "", "the item holds no text: it is in the part"
    assert item["parts"] == 1
    assert tenant.get_message(first.ticket_id, item["received_at"], first.id) == first
    assert tenant.get_message(first.ticket_id, T0, first.id).text == first.text
    with pytest.raises(NotFound):
        tenant.get_message(first.ticket_id, T0, "msg_nosuchmessage")


def test_a_page_that_stops_before_a_messages_parts_reads_them(hub: Hub, builder: ConversationBuilder) -> None:
    first = builder.absorb(big("p1", EMAIL))
    builder.absorb(big("p2", EMAIL, at=T0 + timedelta(seconds=1)))
    assert first is not None
    _, messages = hub.store.reads("demo").get_ticket(first.ticket_id, message_limit=1)
    assert [m.text for m in messages] == [first.text]


def test_a_large_follow_up_is_parked_as_its_stub_and_released_whole(hub: Hub, builder: ConversationBuilder) -> None:
    follow_up = InboundMessage(tenant_id="demo", channel="web", provider_message_id="rec-1", customer=None,
                               kind="transcription", text="\u0001" * 100_000, received_at=T0,
                               thread={"provider_ids": ["call-1"]})
    tenant = hub.store.inbound("demo")
    assert tenant.record_inbound(follow_up, raw=None, expires_at=0)
    stub = InboundMessage.model_validate_json(opened(hub, table_items(hub, "inbound")[0]))
    assert builder.absorb(stub) is None, "parked: the call is not stored yet"
    [parked] = table_items(hub, "waiting")
    assert len(parked["doc"]) < 2000
    with pytest.raises(ValueError, match="stub"):
        hub.store.conversations("demo").park("call-1", follow_up)
    call = builder.absorb(inbound("call-1", PHONE))
    assert call is not None
    [released] = builder.release("demo", "web", "call-1")
    assert released.text == follow_up.text
    assert released.ticket_id == call.ticket_id


def test_parts_that_are_gone_are_reported_not_invented(hub: Hub) -> None:
    from chalicelib.storage.documents import PartsMissing

    tenant = hub.store.inbound("demo")
    assert tenant.record_inbound(big("p1", EMAIL), raw=None, expires_at=0)
    [record] = table_items(hub, "inbound")
    for part in table_items(hub, "inbound_part"):
        hub.aws.dynamodb.delete_item(TableName=hub.settings.table_name,
                                     Key={"pk": {"S": part["pk"]}, "sk": {"S": part["sk"]}})
    with pytest.raises(PartsMissing):
        hub.store.conversations("demo").complete_inbound(InboundMessage.model_validate_json(opened(hub, record)))


def test_inbound_part_keys_name_every_part_for_erasure(hub: Hub) -> None:
    from chalicelib.storage.inbound import inbound_part_keys

    tenant = hub.store.inbound("demo")
    assert tenant.record_inbound(big("p1", EMAIL), raw=None, expires_at=0)
    assert tenant.record_inbound(inbound("p2", EMAIL), raw=None, expires_at=0)
    records = {json_pid(hub, r): r for r in table_items(hub, "inbound")}
    parts = {(p["pk"], p["sk"]) for p in table_items(hub, "inbound_part")}
    assert {(k["pk"]["S"], k["sk"]["S"]) for k in inbound_part_keys(tenant.keys, records["p1"], hub.crypto)} == parts
    assert inbound_part_keys(tenant.keys, records["p2"], hub.crypto) == []


def json_pid(hub: Hub, record: dict[str, Any]) -> str:
    return InboundMessage.model_validate_json(opened(hub, record)).provider_message_id


def test_one_time_tokens_are_claimed_once_per_request(hub: Hub) -> None:
    tenant = hub.store.inbound("demo")
    assert tenant.claim_replay("email", "tok-1", "ids:a", expires_at=0)
    assert tenant.claim_replay("email", "tok-1", "ids:a", expires_at=0), "the same request again: a retry"
    assert not tenant.claim_replay("email", "tok-1", "ids:b", expires_at=0), "another request: a replay"
    assert tenant.claim_replay("email", "tok-2", "ids:b", expires_at=0)
    assert hub.store.inbound("other").claim_replay("email", "tok-1", "ids:b", expires_at=0), "per tenant"
