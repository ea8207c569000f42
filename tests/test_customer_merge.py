"""Merging two customers (identities, tickets, tags and attributes) and undoing it:
through the API class, against customers and tickets the real pipeline made; chunked
and resumable after a crash; later messages thread to the merged customer."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Conflict, Forbidden, InvalidInput, NotFound, ticket_ref

from chalicelib.api.customers import CustomerApi
from chalicelib.api.tickets import TicketApi
from chalicelib.hub import Hub
from chalicelib.storage.keys import TenantKeys
from chalicelib.tenancy.tenants import TenantRecord
from chalicelib.workflow.changes import ChangeActor
from chalicelib.workflow.customers import CustomerPatch, customer_writes
from tests.agents_support import signed_in
from tests.conftest import Pipeline, table_items
from tests.customers_support import (
    Crash,
    Meddling,
    call,
    crash,
    customer_id,
    customers,
    item,
    make_customer,
    message,
    probe,
    send,
)
from tools.local.demo import DemoTenant

__all__ = ["customers", "probe"]  # fixtures
KEYS = TenantKeys("demo")
SUPPORT = ChangeActor(kind="agent", id="agent-1", name="Sam Supervisor")


@pytest.fixture
def pair(probe: Client, hub: Hub, pipeline: Pipeline) -> tuple[str, str]:
    """(target, source): the target with one ticket, the source with two identities and three tickets."""
    target = make_customer(probe, hub, pipeline, "tara", "email:tara@example.com")
    source = make_customer(probe, hub, pipeline, "sam", "email:sam@example.com", "phone:+14155550111", tickets=3)
    writes = customer_writes(hub.aws.dynamodb, hub.settings.table_name, "demo", hub.clock, crypto=hub.crypto)
    writes.update_profile(target, CustomerPatch(tags=["vip"], attributes={"tier": "gold"}))
    writes.update_profile(source, CustomerPatch(tags=["churn-risk", "vip"], attributes={"tier": "silver",
                                                                                       "region": "emea"}))
    return target, source


def customer_item(hub: Hub, customer: str) -> dict[str, Any]:
    found = item(hub, KEYS.customer(customer)["pk"]["S"], "CUSTOMER")
    assert found is not None
    return found


def tickets_of(hub: Hub, customer: str) -> set[str]:
    return {str(t["ticket_id"]) for t in table_items(hub, "ticket") if t["customer_id"] == customer}


def snapshot(hub: Hub) -> list[dict[str, Any]]:
    """Customers, identities, tickets and links, without the bookkeeping a change moves on
    (no tags and an empty tag list are the same); a customer's sealed identities and a
    ticket's subject as the values they open to under its customer's key (a merge and its
    undo seal them again: new bytes)."""
    kinds = ("customer", "identity", "ticket", "customer_ticket")
    items = [{k: v for k, v in i.items() if k not in ("version", "updated_at") and v not in ([], {})}
             for i in table_items(hub) if i.get("type") in kinds]
    personal, fields = hub.store.personal("demo"), hub.store.fields("demo")
    for n, i in enumerate(items):
        if "sealed_identities" in i:
            i["sealed_identities"] = personal.open_identities(i["customer_id"], i["sealed_identities"])
        if i.get("type") == "ticket" and i.get("subject"):
            assert str(i["subject"]).startswith("sc1."), "under the ticket's customer's key"
            items[n] = fields.open_ticket(i)
            assert items[n]["subject"], "and it opens under the customer the ticket now points at"
    return sorted(items, key=lambda i: (i["pk"], i["sk"]))


def merge(api: CustomerApi, key: str, target: str, source: str) -> dict[str, Any]:
    return api.merge_customers(call(key, {"source_id": source}), target).model_dump(mode="json")


def unmerge(api: CustomerApi, key: str, target: str, source: str) -> dict[str, Any]:
    return api.unmerge_customer(call(key, {"source_id": source}), target).model_dump(mode="json")


def test_a_merge_moves_identities_and_tickets(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, pair: tuple[str, str]
) -> None:
    target, source = pair
    target_tickets, source_tickets = tickets_of(hub, target), tickets_of(hub, source)
    assert len(target_tickets) == 1
    assert len(source_tickets) == 3
    open_before = customer_item(hub, target)
    record = merge(customers, signed_in(hub, role="supervisor").id_token, target, source)
    assert record["state"] == "done"
    assert record["identities"] == ["email:sam@example.com", "phone:+14155550111"]
    assert set(record["tickets"]) == source_tickets
    assert record["tags_added"] == ["churn-risk"]
    assert record["attributes_added"] == {"region": "emea"}
    assert record["open_ticket_taken"] is None, "the target keeps its own open ticket"
    shown = TicketApi(hub.access, hub.store).get_customer(call(demo.api_key), target)
    assert {t["id"] for t in shown["tickets"]} == target_tickets | source_tickets
    customer = shown["customer"]
    assert {i["value"] for i in customer["identities"]} == {"tara@example.com", "sam@example.com", "+14155550111"}
    assert customer["tags"] == ["vip", "churn-risk"]
    assert customer["attributes"] == {"tier": "gold", "region": "emea"}, "the target wins a conflict"
    merged = TicketApi(hub.access, hub.store).get_customer(call(demo.api_key), source)
    assert merged["customer"]["merged_into"] == target
    assert merged["customer"]["identities"] == []
    assert merged["tickets"] == []
    assert tickets_of(hub, target) == target_tickets | source_tickets
    assert customer_id(hub, "phone:+14155550111") == target
    after = customer_item(hub, target)
    assert after["open_ticket_id"] == open_before["open_ticket_id"]
    assert "open_ticket_id" not in (customer_item(hub, source) or {})


def test_a_target_without_an_open_ticket_takes_the_sources(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, probe: Client, pipeline: Pipeline
) -> None:
    target = make_customer(probe, hub, pipeline, "t", "email:t@example.com", tickets=2, open_ticket=False)
    source = make_customer(probe, hub, pipeline, "s", "email:s@example.com")
    source_open = customer_item(hub, source)["open_ticket_id"]
    record = merge(customers, demo.api_key, target, source)
    assert record["open_ticket_taken"] == source_open
    assert customer_item(hub, target)["open_ticket_id"] == source_open
    unmerge(customers, demo.api_key, target, source)
    assert "open_ticket_id" not in customer_item(hub, target)
    assert customer_item(hub, source)["open_ticket_id"] == source_open


def test_refusals(customers: CustomerApi, hub: Hub, demo: DemoTenant, probe: Client, pipeline: Pipeline,
                  pair: tuple[str, str]) -> None:
    target, source = pair
    third = make_customer(probe, hub, pipeline, "x", "email:x@example.com")
    key = demo.api_key
    with pytest.raises(InvalidInput, match="itself"):
        merge(customers, key, target, target)
    with pytest.raises(NotFound):
        merge(customers, key, target, "cus_" + "a" * 26)
    with pytest.raises(InvalidInput):
        customers.merge_customers(call(key, {}), target)
    merge(customers, key, target, source)
    with pytest.raises(Conflict, match="merge into that one"):
        merge(customers, key, source, third)
    with pytest.raises(Conflict, match="already"):
        merge(customers, key, third, source)
    with pytest.raises(Conflict, match="merged into"):
        customers.update_customer(call(key, {"add_tags": ["x"]}), source)
    hub.erase_customer("demo", third)
    with pytest.raises(NotFound):
        merge(customers, key, target, third)
    with pytest.raises(NotFound):
        merge(customers, key, third, target)
    with pytest.raises(NotFound):
        unmerge(customers, key, target, third)


def test_only_supervisors_and_admins_merge(customers: CustomerApi, hub: Hub, pair: tuple[str, str]) -> None:
    target, source = pair
    with pytest.raises(Forbidden):
        merge(customers, signed_in(hub, role="agent").id_token, target, source)
    with pytest.raises(Forbidden):
        unmerge(customers, hub.api_keys.create("demo", ["agent"])[1], target, source)
    assert merge(customers, signed_in(hub, role="admin").id_token, target, source)["state"] == "done"


def test_another_tenant_cannot_merge_or_see_merges(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, pair: tuple[str, str]
) -> None:
    target, source = pair
    hub.tenants.put(TenantRecord(id="other", name="Other", created_at=hub.clock().isoformat()))
    other = hub.api_keys.create("other", ["tenant-admin"])[1]
    with pytest.raises(NotFound):
        merge(customers, other, target, source)
    merge(customers, demo.api_key, target, source)
    with pytest.raises(NotFound):  # the customer does not exist for the other tenant
        customers.list_merges(call(other), target)
    with pytest.raises(NotFound):
        unmerge(customers, other, target, source)
    assert [m.source_id for m in customers.list_merges(call(demo.api_key), target).merges] == [source]


def test_a_tag_union_past_the_limit_is_refused(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, pair: tuple[str, str]
) -> None:
    target, source = pair
    writes = customer_writes(hub.aws.dynamodb, hub.settings.table_name, "demo", hub.clock, crypto=hub.crypto)
    writes.update_profile(target, CustomerPatch(tags=[f"t{n}" for n in range(49)]))
    before = snapshot(hub)
    with pytest.raises(Conflict, match="more than 50 tags"):
        merge(customers, demo.api_key, target, source)
    assert snapshot(hub) == before


def test_unmerge_restores_exactly_and_both_are_idempotent(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, pair: tuple[str, str]
) -> None:
    target, source = pair
    before = snapshot(hub)
    first = merge(customers, demo.api_key, target, source)
    moved = snapshot(hub)
    counting = CustomerApi(hub.access, _counted(hub), hub.audit, hub.clock)
    assert merge(counting, demo.api_key, target, source) == first
    assert snapshot(hub) == moved
    undone = unmerge(customers, demo.api_key, target, source)
    assert undone["state"] == "undone"
    assert undone["returned_identities"] == first["identities"]
    assert undone["left_identities"] == []
    assert set(undone["returned_tickets"]) == set(first["tickets"])
    assert undone["left_tickets"] == []
    assert snapshot(hub) == before
    assert unmerge(customers, demo.api_key, target, source) == undone
    assert snapshot(hub) == before
    actions = [r.action for r in hub.audit.list("demo").records]
    assert actions.count("customer.merge") == 1
    assert actions.count("customer.unmerge") == 1
    again = merge(customers, demo.api_key, target, source)  # merged again after the undo
    assert again["state"] == "done"
    assert again["returned_tickets"] == []
    assert set(again["tickets"]) == set(
        first["tickets"])


def _counted(hub: Hub) -> Any:
    """The hub's store on a client that refuses writes: a repeated merge must not write."""
    from chalicelib.storage.store import TicketStore

    class ReadOnly:
        def __init__(self, client: Any) -> None:
            self._client = client

        def __getattr__(self, name: str) -> Any:
            if name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
                raise AssertionError(f"a repeated merge wrote ({name})")
            return getattr(self._client, name)

    return TicketStore(ReadOnly(hub.aws.dynamodb), hub.settings.table_name, crypto=hub.crypto)


@pytest.mark.parametrize("crash_at", [2, 3, 5, 7])
def test_a_merge_that_crashed_between_chunks_is_finished_by_calling_again(
    hub: Hub, probe: Client, pipeline: Pipeline, crash_at: int
) -> None:
    """Transactions of at most five items: two identities or one ticket a chunk; the
    Lambda dies before the ``crash_at``-th transaction; merging again finishes the job."""
    target = make_customer(probe, hub, pipeline, "t", "email:t@example.com")
    identities = ["email:s@example.com", "phone:+14155550122", "visitor:v-1", "visitor:v-2", "visitor:v-3"]
    source = make_customer(probe, hub, pipeline, "s", *identities, tickets=4)
    source_tickets = tickets_of(hub, source)
    table = hub.settings.table_name
    broken = customer_writes(Meddling(hub.aws.dynamodb, "transact_write_items", crash_at, crash), table, "demo",
                             hub.clock, max_transaction_items=5, crypto=hub.crypto)
    with pytest.raises(Crash):
        broken.merge(target, source, SUPPORT)
    halfway = broken.merges(target)[0]
    assert halfway.state == "moving"
    assert len(halfway.identities) + len(halfway.tickets) < len(identities) + len(source_tickets)
    fixed = customer_writes(hub.aws.dynamodb, table, "demo", hub.clock, max_transaction_items=5, crypto=hub.crypto)
    done = fixed.merge(target, source, SUPPORT)
    assert done.state == "done"
    assert sorted(done.identities) == sorted(identities)
    assert set(done.tickets) == source_tickets
    assert tickets_of(hub, source) == set()
    assert source_tickets <= tickets_of(hub, target)
    assert {customer_id(hub, i) for i in identities} == {target}
    links = {str(i["ticket_id"]) for i in table_items(hub, "customer_ticket") if i["customer_id"] == target}
    assert source_tickets <= links


def test_an_undo_that_crashed_is_finished_and_a_half_done_merge_can_be_undone(
    hub: Hub, probe: Client, pipeline: Pipeline
) -> None:
    target = make_customer(probe, hub, pipeline, "t", "email:t@example.com")
    source = make_customer(probe, hub, pipeline, "s", "email:s@example.com", "visitor:v-7", "visitor:v-8",
                           tickets=3)
    before = snapshot(hub)
    table = hub.settings.table_name
    with pytest.raises(Crash):  # the merge stops after the first identity chunk and a ticket
        customer_writes(Meddling(hub.aws.dynamodb, "transact_write_items", 4, crash), table, "demo", hub.clock,
                        max_transaction_items=5, crypto=hub.crypto).merge(target, source, SUPPORT)
    with pytest.raises(Crash):  # so does the undo, part-way back
        customer_writes(Meddling(hub.aws.dynamodb, "transact_write_items", 3, crash), table, "demo", hub.clock,
                        max_transaction_items=5, crypto=hub.crypto).unmerge(target, source, SUPPORT)
    writes = customer_writes(hub.aws.dynamodb, table, "demo", hub.clock, max_transaction_items=5, crypto=hub.crypto)
    with pytest.raises(Conflict, match="being undone"):
        writes.merge(target, source, SUPPORT)
    undone = writes.unmerge(target, source, SUPPORT)
    assert undone.state == "undone"
    assert undone.left_identities == []
    assert undone.left_tickets == []
    assert snapshot(hub) == before


def test_a_merge_stops_when_the_target_is_merged_on_meanwhile(
    hub: Hub, probe: Client, pipeline: Pipeline
) -> None:
    target = make_customer(probe, hub, pipeline, "t", "email:t@example.com")
    source = make_customer(probe, hub, pipeline, "s", "email:s@example.com", "visitor:v-5", "visitor:v-6")
    third = make_customer(probe, hub, pipeline, "u", "email:u@example.com")
    table = hub.settings.table_name
    plain = customer_writes(hub.aws.dynamodb, table, "demo", hub.clock, crypto=hub.crypto)

    def target_merged_away() -> None:
        with pytest.raises(Conflict, match="still being merged"):
            plain.merge(third, target, SUPPORT)  # refused: the target is still taking the source in
        plain.update_profile(target, CustomerPatch(add_tags=["late"]))  # edits are fine meanwhile

    racing = customer_writes(Meddling(hub.aws.dynamodb, "transact_write_items", 2, target_merged_away), table,
                             "demo", hub.clock, max_transaction_items=5, crypto=hub.crypto)
    assert racing.merge(target, source, SUPPORT).state == "done"
    assert plain.merge(third, target, SUPPORT).state == "done"


def test_later_messages_thread_to_the_merged_customer_and_back_after_the_undo(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, probe: Client, pipeline: Pipeline, pair: tuple[str, str]
) -> None:
    target, source = pair
    target_open = customer_item(hub, target)["open_ticket_id"]
    old_source_ticket = sorted(tickets_of(hub, source))[0]
    merge(customers, demo.api_key, target, source)
    send(probe, message("later-1", "phone:+14155550111"),
         message("later-2", "email:sam@example.com", thread={"ticket_refs": [ticket_ref(old_source_ticket)]}))
    pipeline.drain()
    stored = {m["provider_message_id"]: m for m in table_items(hub, "message")}
    assert stored["later-1"]["customer_id"] == target
    assert stored["later-1"]["ticket_id"] == target_open
    assert stored["later-2"]["ticket_id"] == old_source_ticket, "the moved ticket still threads its replies"
    assert tickets_of(hub, source) == set()
    unmerge(customers, demo.api_key, target, source)
    send(probe, message("later-3", "phone:+14155550111"))
    pipeline.drain()
    stored = {m["provider_message_id"]: m for m in table_items(hub, "message")}
    assert stored["later-3"]["customer_id"] == source
    assert stored["later-3"]["ticket_id"] in tickets_of(hub, source)


def test_merges_are_listed_with_what_moved(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, pair: tuple[str, str]
) -> None:
    target, source = pair
    assert customers.list_merges(call(demo.api_key), target).merges == []
    merge(customers, demo.api_key, target, source)
    [listed] = customers.list_merges(call(demo.api_key), target).merges
    assert listed.source_id == source
    assert listed.state == "done"
    assert listed.actor.kind == "api_key"
    assert listed.source_before.tags == ["churn-risk", "vip"]
    assert customers.list_merges(call(demo.api_key), source).merges == []
