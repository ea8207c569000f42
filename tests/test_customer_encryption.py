"""Customers' personal fields at rest (issue 15 §1-2): identities found by blind index,
names and identities sealed under each customer's own key, merges that seal them again
under the target's key, and erasure that shreds the key, so a copy of the table taken
before the erasure — or a restored backup of the whole table, whose customer keys are in a
key table without backups — no longer opens. Through the real webhook route, stream and table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Identity

from chalicelib.hub import Hub
from chalicelib.storage.items import from_item
from chalicelib.storage.payloads import PayloadArchive
from chalicelib.storage.personal import SEALED_IDENTITIES
from chalicelib.tenancy.erasure import CustomerEraser
from chalicelib.workflow.changes import ChangeActor
from chalicelib.workflow.customers import customer_writes
from tests.conftest import Pipeline, table_items
from tests.erasure_support import probe_client, send
from tests.probe_plugin import spec
from tests.sealed_docs import clear_in as values_in_clear
from tools.local.demo import DemoTenant

CARLA = {"identities": [{"kind": "email", "value": "Carla.Cipher@example.com"}], "display_name": "Carla Cipherton"}
PHONE = {"identities": [{"kind": "phone", "value": "+1 415 555 0142"}], "display_name": "Pham Phonewright"}
WECHAT = {"identities": [{"kind": "wechat_openid", "value": "oWx7CipherOpenId42"},
                         {"kind": "wechat_unionid", "value": "uWx7CipherUnionId42"}], "display_name": "王密文"}
# every value as it could appear in clear: as sent, normalised, and in pieces a search would try
CLEAR = ("carla.cipher@example.com", "carla cipherton", "cipherton", "+14155550142", "4155550142",
         "pham phonewright", "phonewright", "owx7cipheropenid42", "uwx7cipherunionid42", "王密文")
SUPPORT = ChangeActor(kind="agent", id="agent-1", name="Sam Supervisor")


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> Iterator[Client]:
    with probe_client(hub) as (client, _clock):
        yield client


def ref(hub: Hub, kind: str, value: str, tenant_id: str = "demo") -> str:
    return hub.store.personal(tenant_id).ref(Identity.model_validate({"kind": kind, "value": value}))


def customer_of(hub: Hub, kind: str, value: str) -> str:
    [item] = [i for i in table_items(hub, "identity") if i["pk"] == f"T#demo#ID#{ref(hub, kind, value)}"]
    return str(item["customer_id"])


def clear_in(items: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Which of this module's values each kind of item holds in clear."""
    return values_in_clear(items, CLEAR)


def test_no_identity_or_name_is_in_clear_in_the_table(hub: Hub, probe: Client, pipeline: Pipeline) -> None:
    send(probe, spec("c1", customer=CARLA, text="where is my parcel"), spec("p1", customer=PHONE, text="hello"),
         spec("w1", customer=WECHAT, text="hi there"))
    pipeline.drain()
    send(probe, spec("c2", customer=CARLA, text="any news?"))
    pipeline.drain()

    found = clear_in(table_items(hub))
    # the delivery log keeps each event's envelope (customer included) as it was sent: not
    # sealed yet (docs/storage.md, "Erasure"); nothing else may hold a value in clear
    assert set(found) <= {"delivery_log"}, found
    [customer] = [i for i in table_items(hub, "customer") if i["customer_id"] == customer_of(
        hub, "email", "carla.cipher@example.com")]
    assert customer["identity_keys"] == {ref(hub, "email", "carla.cipher@example.com")}
    assert len(customer[SEALED_IDENTITIES]) == 1, "a known identity is not sealed again"
    assert all("identity" not in i for i in table_items(hub, "identity")), "identity items hold the customer id only"
    # and read back, everything is there
    wechat = hub.store.reads("demo").find_customer(Identity(kind="wechat_openid", value="oWx7CipherOpenId42"))
    assert wechat is not None
    assert wechat.display_name == "王密文"
    assert {i.key for i in wechat.identities} == {"wechat_openid:oWx7CipherOpenId42",
                                                  "wechat_unionid:uWx7CipherUnionId42"}


def test_a_lookup_by_identity_is_one_get_item(hub: Hub, probe: Client, pipeline: Pipeline) -> None:
    send(probe, spec("p1", customer=PHONE))
    pipeline.drain()
    reads = hub.store.reads("demo")
    phone = Identity(kind="phone", value="+14155550142")
    assert reads.find_customer(phone) is not None  # the tenant's index key and the customer's key: cached now
    calls: list[tuple[str, dict[str, Any]]] = []
    events = hub.aws.dynamodb.meta.events

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    events.register("provide-client-params.dynamodb.*", record)
    try:
        found = reads.find_customer(phone)
    finally:
        events.unregister("provide-client-params.dynamodb.*", record)
    assert found is not None
    assert found.identities == [phone]
    assert [name for name, _ in calls] == ["GetItem", "GetItem"], "the identity's link, then the customer"
    assert calls[0][1]["Key"]["pk"]["S"] == f"T#demo#ID#{ref(hub, 'phone', '+14155550142')}"


def test_the_same_phone_in_two_tenants_has_different_index_keys(hub: Hub, probe: Client,
                                                                 pipeline: Pipeline) -> None:
    send(probe, spec("p1", customer=PHONE))
    pipeline.drain()
    ours, theirs = ref(hub, "phone", "+14155550142"), ref(hub, "phone", "+14155550142", "other-co")
    assert ours.startswith("phone:")
    assert theirs.startswith("phone:")
    assert ours != theirs
    assert [i["pk"] for i in table_items(hub, "identity")] == [f"T#demo#ID#{ours}"]
    assert hub.store.reads("other-co").find_customer(Identity(kind="phone", value="+14155550142")) is None


def test_a_merge_seals_the_moved_identities_again_under_the_targets_key(
    hub: Hub, probe: Client, pipeline: Pipeline
) -> None:
    send(probe, spec("c1", customer=CARLA), spec("p1", customer=PHONE))
    pipeline.drain()
    target, source = customer_of(hub, "email", "carla.cipher@example.com"), customer_of(hub, "phone", "+14155550142")
    writes = customer_writes(hub.aws.dynamodb, hub.settings.table_name, "demo", hub.clock, crypto=hub.crypto)
    record = writes.merge(target, source, SUPPORT)

    assert record.identities == ["phone:+14155550142"], "shown as the value, stored as its ref"
    items = {i["customer_id"]: i for i in table_items(hub, "customer")}
    assert SEALED_IDENTITIES not in items[source], "nothing of the phone is left under the source's key"
    moved = [e for e in items[target][SEALED_IDENTITIES] if e.startswith(ref(hub, "phone", "+14155550142"))]
    personal = hub.store.personal("demo")
    assert personal.open_identities(target, moved) == {ref(hub, "phone", "+14155550142"): "phone:+14155550142"}
    assert personal.open_identities(source, moved) == {}, "sealed under the target's key, not the source's"
    stored = [m for m in table_items(hub, "customer_merge")]
    assert clear_in(stored) == {}, "the merge record lists refs"
    assert writes.get(target)[0].identities == [Identity(kind="email", value="carla.cipher@example.com"),
                                               Identity(kind="phone", value="+14155550142")]
    undone = writes.unmerge(target, source, SUPPORT)
    assert undone.returned_identities == ["phone:+14155550142"]
    assert writes.get(source)[0].identities == [Identity(kind="phone", value="+14155550142")]


def eraser(hub: Hub) -> CustomerEraser:
    return CustomerEraser(hub.store, PayloadArchive(hub.aws.s3, hub.settings.bucket), hub.clock, sleep=lambda _: None)


def sealed_fields(items: list[dict[str, Any]], customer_id: str) -> tuple[str, list[str]]:
    [item] = [i for i in items if i.get("type") == "customer" and i["customer_id"] == customer_id]
    return str(item["display_name"]), sorted(item.get(SEALED_IDENTITIES) or ())


def test_erasure_shreds_the_customers_key_so_a_copy_taken_before_no_longer_opens(
    hub: Hub, probe: Client, pipeline: Pipeline
) -> None:
    send(probe, spec("c1", customer=CARLA), spec("p1", customer=PHONE))
    pipeline.drain()
    carla, pham = customer_of(hub, "email", "carla.cipher@example.com"), customer_of(hub, "phone", "+14155550142")
    writes = customer_writes(hub.aws.dynamodb, hub.settings.table_name, "demo", hub.clock, crypto=hub.crypto)
    writes.merge(carla, pham, SUPPORT)  # Pham is part of Carla now: erased with her
    backup = table_items(hub)
    carla_name, carla_ids = sealed_fields(backup, carla)
    pham_name, _ = sealed_fields(backup, pham)
    personal = hub.store.personal("demo")
    assert personal.open_name(carla, carla_name) == "Carla Cipherton"
    assert len(personal.open_identities(carla, carla_ids)) == 2

    report = eraser(hub).erase("demo", carla)

    assert report.counts["customer_keys_shredded"] == 2
    assert [i for i in raw_scan(hub, hub.settings.key_table_name) if i["pk"]["S"].startswith("T#demo#CKEY#")] == []
    # this container, and another one that never saw the key, open nothing of the copy
    fresh = Hub(settings=hub.settings, aws=hub.aws, registry=hub.registry).store.personal("demo")
    for fields in (personal, fresh):
        assert fields.open_name(carla, carla_name) is None
        assert fields.open_name(pham, pham_name) is None
        assert fields.open_identities(carla, carla_ids) == {}


def raw_scan(hub: Hub, table: str) -> list[dict[str, Any]]:
    """Every item of ``table`` as DynamoDB holds it (what a backup holds)."""
    pages = hub.aws.dynamodb.get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def restore(hub: Hub, items: list[dict[str, Any]], name: str) -> str:
    """A point-in-time restore: a new table shaped like the main one, holding ``items``."""
    shape = hub.aws.dynamodb.describe_table(TableName=hub.settings.table_name)["Table"]
    hub.aws.dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=shape["AttributeDefinitions"],
        KeySchema=shape["KeySchema"],
        GlobalSecondaryIndexes=[{k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
                                for index in shape["GlobalSecondaryIndexes"]])
    for item in items:
        hub.aws.dynamodb.put_item(TableName=name, Item=item)
    return name


def test_a_restored_backup_of_the_whole_table_reads_the_customer_as_erased(
    hub: Hub, probe: Client, pipeline: Pipeline
) -> None:
    send(probe, spec("c1", customer=CARLA), spec("p1", customer=PHONE))
    pipeline.drain()
    carla, pham = customer_of(hub, "email", "carla.cipher@example.com"), customer_of(hub, "phone", "+14155550142")
    # the customers' keys are in the key table, none in the main table (which has point-in-time recovery)
    keys = {item["pk"]["S"] for item in raw_scan(hub, hub.settings.key_table_name)}
    assert keys == {f"T#demo#CKEY#{carla}", f"T#demo#CKEY#{pham}"}
    assert not [i for i in table_items(hub) if i["pk"].startswith("T#demo#CKEY#")]
    backup = raw_scan(hub, hub.settings.table_name)  # the whole table, as a backup taken now holds it
    carla_name, carla_ids = sealed_fields([from_item(i) for i in backup], carla)

    eraser(hub).erase("demo", carla)
    restored = restore(hub, backup, "switchboard-restored")

    # a new container on the restored table, with the key table as it is now
    fresh = Hub(settings=replace(hub.settings, table_name=restored), aws=hub.aws, registry=hub.registry)
    reads = fresh.store.reads("demo")
    erased = reads.get_customer(carla)
    assert erased is not None, "the restored table holds the customer item"
    assert (erased.display_name, erased.identities) == (None, [])
    assert reads.find_customer(Identity(kind="email", value="carla.cipher@example.com")) is not None, \
        "found by its ref (the index key stays with the table), but nothing of it opens"
    for fields in (hub.store.personal("demo"), fresh.store.personal("demo")):  # this container too
        assert fields.open_name(carla, carla_name) is None
        assert fields.open_identities(carla, carla_ids) == {}
    # everyone not erased reads as before: their keys are still in the key table
    kept = reads.get_customer(pham)
    assert kept is not None
    assert (kept.display_name, kept.identities) == ("Pham Phonewright", [Identity(kind="phone", value="+14155550142")])
