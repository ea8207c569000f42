"""Customer attributes the tenant marks personal (``workflow.personal_attributes``, issue 15
§1): sealed under the customer's own key on the customer item, opened by every read, masked
for roles without full view, whole in an export, left out of what rules match on, sealed
again under the target's key by a merge, and unreadable in a pre-erasure copy once the
customer is erased. The others (``tier``) stay in clear, where rules match them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.api.masking import mask_attribute
from chalicelib.hub import Hub
from chalicelib.storage.payloads import PayloadArchive
from chalicelib.storage.personal import SEALED_ATTRIBUTES
from chalicelib.tenancy.erasure import CustomerEraser
from chalicelib.workflow.changes import ChangeActor
from chalicelib.workflow.customers import CustomerPatch, customer_writes
from tests.agents_support import SignedIn, signed_in
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.console_support import call
from tools.local.demo import DemoTenant

ADDRESS = "1 Infinite Loop"
SUPPORT = ChangeActor(kind="agent", id="agent-1", name="Sam Supervisor")


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


def web(client: Client, demo: DemoTenant, text: str, visitor: str, message_id: str) -> None:
    body = web_message(text, visitor_id=visitor, client_id=message_id, name=None, email=f"{visitor}@example.com")
    answer = client.http.post(f"/hooks/{demo.tenant_id}/web", body=body,
                              headers=signed_web_headers(demo.web_secret, body))
    assert answer.status_code == 202, answer.body


@pytest.fixture
def world(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, user_pool: None) -> dict[str, Any]:
    web(client, demo, "where is my parcel", "visitor-ada-0001", "m-1")
    pipeline.drain()
    admin = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
    agent: SignedIn = signed_in(hub, demo.tenant_id, role="agent", name="Ada")
    ticket = call(client, "get", "/v1/tickets", admin)[1]["tickets"][0]
    return {"admin": admin, "agent": agent.headers, "ticket": ticket["id"], "customer": ticket["customer_id"]}


def patch_customer(client: Client, world: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    status, answer = call(client, "patch", f"/v1/customers/{world['customer']}", world["admin"], body)
    assert status == 200, answer
    return dict(answer)


def customer_item(hub: Hub, customer_id: str) -> dict[str, Any]:
    [item] = [i for i in table_items(hub, "customer") if i["customer_id"] == customer_id]
    return item


def in_clear(hub: Hub, value: str) -> list[dict[str, Any]]:
    return [i for i in table_items(hub) if value.lower() in json.dumps(i, default=repr, ensure_ascii=False).lower()]


def test_a_personal_attribute_is_sealed_and_the_others_stay_where_rules_read_them(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, world: dict[str, Any]
) -> None:
    answer = patch_customer(client, world, {"attributes": {"address": ADDRESS, "tier": "gold"}})
    assert answer["customer"]["attributes"] == {"address": ADDRESS, "tier": "gold"}  # an admin key: full view
    web(client, demo, "any news?", "visitor-ada-0001", "m-2")  # a message snapshots the customer for the rules
    pipeline.drain()

    assert in_clear(hub, ADDRESS) == []
    item = customer_item(hub, world["customer"])
    assert item["attributes"] == {"tier": "gold"}
    assert set(item[SEALED_ATTRIBUTES]) == {"address"}
    states = [i["customer_state"] for i in table_items(hub) if "customer_state" in i]
    assert states, "the stream keeps what rules look at on the message"
    assert states[-1]["attributes"] == {"tier": "gold"}, "personal attributes are not in the snapshot"
    personal = hub.store.personal("demo")
    assert personal.open_attributes(world["customer"], item[SEALED_ATTRIBUTES]) == {"address": ADDRESS}
    # every read opens it: the API, the store's reads, the export
    status, shown = call(client, "get", f"/v1/customers/{world['customer']}", world["admin"])
    assert (status, shown["customer"]["attributes"]) == (200, {"address": ADDRESS, "tier": "gold"})
    reads = hub.store.reads("demo").get_customer(world["customer"])
    assert reads is not None
    assert reads.attributes == {"address": ADDRESS, "tier": "gold"}
    status, export = call(client, "get", f"/v1/customers/{world['customer']}/export", world["admin"])
    assert (status, export["customer"]["attributes"]["address"]) == (200, ADDRESS)
    # changing it seals it anew; removing it leaves nothing sealed
    patch_customer(client, world, {"attributes": {"address": "2 Infinite Loop"}})
    changed = hub.store.reads("demo").get_customer(world["customer"])
    assert changed is not None
    assert changed.attributes["address"] == "2 Infinite Loop"
    patch_customer(client, world, {"attributes": {"address": None}})
    assert customer_item(hub, world["customer"])[SEALED_ATTRIBUTES] == {}
    assert in_clear(hub, "Infinite Loop") == []


def test_an_agent_sees_personal_attributes_masked(client: Client, world: dict[str, Any]) -> None:
    patch_customer(client, world, {"attributes": {"address": ADDRESS, "birthday": "1990-01-01", "id_number": "X1",
                                                  "tier": "gold"}})
    for path in (f"/v1/customers/{world['customer']}", f"/v1/tickets/{world['ticket']}"):
        status, body = call(client, "get", path, world["agent"])
        assert status == 200
        assert body["customer"]["attributes"] == {"address": "***op", "birthday": "***01", "id_number": "***",
                                                  "tier": "gold"}
        assert ADDRESS not in json.dumps(body)
    status, body = call(client, "patch", f"/v1/customers/{world['customer']}", world["agent"],
                        {"attributes": {"tier": "silver"}})
    assert status == 200
    assert body["customer"]["attributes"]["address"] == "***op", "the profile answer is masked too"


def test_a_rule_on_a_clear_attribute_fires_and_one_on_a_personal_attribute_is_refused(
    client: Client, demo: DemoTenant, pipeline: Pipeline, world: dict[str, Any]
) -> None:
    patch_customer(client, world, {"attributes": {"address": ADDRESS, "tier": "gold"}})
    rule = {"name": "Gold first", "trigger": "message.created",
            "conditions": {"all": [{"type": "customer_attribute", "key": "tier", "values": ["gold"]}]},
            "actions": [{"type": "add_tags", "tags": ["gold-customer"]}]}
    status, answer = call(client, "post", "/v1/rules", world["admin"], rule)
    assert status == 201, answer
    web(client, demo, "still waiting", "visitor-ada-0001", "m-3")
    pipeline.drain()
    ticket = call(client, "get", f"/v1/tickets/{world['ticket']}", world["admin"])[1]["ticket"]
    assert "gold-customer" in ticket["tags"]

    personal = rule | {"name": "Near the office", "conditions": {"all": [
        {"type": "customer_attribute", "key": "address", "values": [ADDRESS]}]}}
    status, answer = call(client, "post", "/v1/rules", world["admin"], personal)
    assert status == 422, answer
    assert [f["field"] for f in answer["error"]["fields"]] == ["conditions.all.0.key"]
    assert "personal attribute" in answer["error"]["fields"][0]["message"]


def test_the_setting_is_validated_and_names_what_is_sealed_next(
    client: Client, hub: Hub, world: dict[str, Any]
) -> None:
    settings = call(client, "get", "/v1/settings", world["admin"])[1]
    assert settings["settings"]["workflow"]["personal_attributes"] == ["address", "birthday", "id_number"]
    for bad in (["Address"], ["1st"], ["a" * 41], [f"a{n}" for n in range(51)], "address"):
        status, answer = call(client, "patch", "/v1/settings", world["admin"],
                              {"workflow": {"personal_attributes": bad}})
        assert status == 422, (bad, answer)
    status, answer = call(client, "patch", "/v1/settings", world["admin"],
                          {"workflow": {"personal_attributes": ["tier", "tier", "loyalty_card"]}})
    assert status == 200, answer
    assert answer["settings"]["workflow"]["personal_attributes"] == ["tier", "loyalty_card"]
    patch_customer(client, world, {"attributes": {"tier": "platinum", "address": "in clear now"}})
    item = customer_item(hub, world["customer"])
    assert set(item[SEALED_ATTRIBUTES]) == {"tier"}
    assert item["attributes"] == {"address": "in clear now"}
    assert in_clear(hub, "platinum") == []


def test_a_merge_seals_the_sources_personal_attributes_under_the_targets_key_and_the_undo_takes_them_back(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, world: dict[str, Any]
) -> None:
    web(client, demo, "hello from the other me", "visitor-bob-0002", "m-9")
    pipeline.drain()
    target = world["customer"]
    [source] = [i["customer_id"] for i in table_items(hub, "customer") if i["customer_id"] != target]
    writes = customer_writes(hub.aws.dynamodb, hub.settings.table_name, "demo", hub.clock, crypto=hub.crypto)
    writes.update(source, CustomerPatch(attributes={"address": ADDRESS, "birthday": "1990-01-01", "tier": "gold"}))
    writes.update(target, CustomerPatch(attributes={"birthday": "1985-05-05"}))

    record = writes.merge(target, source, SUPPORT)
    assert record.personal_attributes_added == ["address"], "the target's own birthday wins"
    assert record.attributes_added == {"tier": "gold"}
    assert "sealed_attributes_added" not in record.model_dump(), "the API shows names, never values"
    assert in_clear(hub, ADDRESS) == []
    merged = writes.get(target)[0]
    assert merged.attributes == {"address": ADDRESS, "birthday": "1985-05-05", "tier": "gold"}
    sealed = customer_item(hub, target)[SEALED_ATTRIBUTES]
    personal = hub.store.personal("demo")
    assert personal.open_attributes(source, {"address": sealed["address"]}) == {}, "under the target's key"

    writes.unmerge(target, source, SUPPORT)
    assert writes.get(target)[0].attributes == {"birthday": "1985-05-05"}
    assert writes.get(source)[0].attributes == {"address": ADDRESS, "birthday": "1990-01-01", "tier": "gold"}


def test_erasure_leaves_a_copy_taken_before_with_a_sealed_address_that_no_longer_opens(
    client: Client, hub: Hub, world: dict[str, Any]
) -> None:
    patch_customer(client, world, {"attributes": {"address": ADDRESS, "tier": "gold"}})
    backup = customer_item(hub, world["customer"])  # what a backup taken now holds
    personal = hub.store.personal("demo")
    assert personal.open_attributes(world["customer"], backup[SEALED_ATTRIBUTES]) == {"address": ADDRESS}

    CustomerEraser(hub.store, PayloadArchive(hub.aws.s3, hub.settings.bucket), hub.clock,
                   sleep=lambda _: None).erase("demo", world["customer"])

    fresh = Hub(settings=hub.settings, aws=hub.aws, registry=hub.registry).store.personal("demo")
    for fields in (personal, fresh):
        assert fields.open_attributes(world["customer"], backup[SEALED_ATTRIBUTES]) == {}
        assert fields.customer(backup).attributes == {"tier": "gold"}, "a restored copy reads without the address"


@pytest.mark.parametrize("value", ["", "a", "ab", "X1", "1990-1-1", "1990-01-01", ADDRESS, "**", "***op"])
def test_a_personal_attributes_mask_never_holds_its_value(value: str) -> None:
    masked = mask_attribute(value)
    assert masked.startswith("***")
    assert len(masked) <= 5
    assert value not in masked or set(value) <= {"*"}, "only a value of stars is inside its mask"
