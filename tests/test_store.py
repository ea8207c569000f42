"""The ticket store and conversation building: idempotent, race-free, tenant-scoped."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_sdk import CustomerProfile, Identity, InboundMessage, NotFound, Ticket
from switchboard_sdk.testing import StatusServer

import app as app_module
from chalicelib.conversations import ConversationBuilder
from chalicelib.hub import Hub
from chalicelib.keys import TenantKeys
from chalicelib.local.demo import DemoTenant
from chalicelib.local.pumps import StreamPump, drain
from tests.conftest import Pipeline, table_items

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


@pytest.fixture
def builder(hub: Hub, atomic_dynamodb: None) -> ConversationBuilder:
    return ConversationBuilder(hub.store)


def test_one_customer_one_open_ticket_messages_in_order(hub: Hub, builder: ConversationBuilder) -> None:
    first = builder.absorb(inbound("p1", EMAIL, text="first"))
    second = builder.absorb(inbound("p2", EMAIL, at=T0 + timedelta(seconds=5), text="second"))
    assert first.ticket_id == second.ticket_id
    ticket, messages = hub.store.tenant("demo").get_ticket(first.ticket_id)
    assert [m.text for m in messages] == ["first", "second"]
    assert ticket.last_activity_at == T0 + timedelta(seconds=5)


def test_different_customers_get_different_tickets(builder: ConversationBuilder) -> None:
    a = builder.absorb(inbound("p1", EMAIL))
    b = builder.absorb(inbound("p2", Identity(kind="email", value="bob@example.com")))
    assert a.ticket_id != b.ticket_id
    assert a.customer_id != b.customer_id


def test_a_known_identity_finds_the_customer_and_links_new_ones(hub: Hub, builder: ConversationBuilder) -> None:
    first = builder.absorb(inbound("p1", EMAIL))
    second = builder.absorb(inbound("p2", PHONE, EMAIL))  # phone new, email known
    assert second.customer_id == first.customer_id
    third = builder.absorb(inbound("p3", PHONE))  # phone alone now finds the same customer
    assert third.customer_id == first.customer_id == third.customer_id
    customer = hub.store.tenant("demo").find_customer(PHONE)
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
        results.append(builder.absorb(message).ticket_id)

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
    late = builder.absorb(inbound("p2", EMAIL, at=T0 + timedelta(minutes=5)))
    builder.absorb(inbound("p1", EMAIL, at=T0))  # processed later, happened earlier
    ticket, messages = hub.store.tenant("demo").get_ticket(late.ticket_id)
    assert ticket.last_activity_at == T0 + timedelta(minutes=5)
    assert [m.provider_message_id for m in messages] == ["p1", "p2"]  # ordered by time received


def test_listing_is_newest_first_across_shards_with_a_working_cursor(hub: Hub) -> None:
    store = hub.store.tenant("demo")
    for i in range(9):
        at = T0 + timedelta(minutes=i)
        store.touch_ticket(Ticket(id=f"tkt_{i}", tenant_id="demo", customer_id=f"c{i}", channel="web",
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
    message = builder.absorb(inbound("p1", EMAIL))
    other = hub.store.tenant("other-co")
    with pytest.raises(NotFound):
        other.get_ticket(message.ticket_id)
    assert other.list_tickets() == ([], None)
    assert other.find_customer(EMAIL) is None
    with pytest.raises(PermissionError):
        other.record_inbound(inbound("p9", EMAIL), raw=None, expires_at=0)


@pytest.mark.parametrize("tenant_id", ["", "a", "Demo", "de#mo", "demo#T#x", "x" * 80, "-demo"])
def test_tenant_ids_that_could_escape_the_key_prefix_are_refused(tenant_id: str) -> None:
    with pytest.raises(ValueError, match="invalid tenant id"):
        TenantKeys(tenant_id)


def test_every_tenant_key_starts_with_the_tenant_prefix() -> None:
    keys = TenantKeys("acme")
    built = [keys.inbound("web", "x#T#other#"), keys.identity(EMAIL), keys.customer("c"), keys.ticket("t"),
             keys.message("t", "2026", "m")]
    assert all(k["pk"]["S"].startswith("T#acme#") for k in built)
    assert keys.activity_index(0).startswith("T#acme#")
    assert keys.status_index("open", 1).startswith("T#acme#")


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
    assert len(delivered) == 2  # ticket.created + message.created, each once
    assert len(set(delivered)) == 2
