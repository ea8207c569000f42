"""Customers' tags, attributes and names: edited by agents through the API (and by
rules and connectors through CustomerWrites), validated, versioned, kept apart per
tenant, and left alone by the stream."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Conflict, Forbidden, InvalidInput, NotFound

from chalicelib.api.customers import CustomerApi
from chalicelib.api.tickets import TicketApi
from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import TenantRecord
from chalicelib.workflow.customers import CustomerPatch, customer_writes
from tests.agents_support import signed_in
from tests.conftest import Pipeline
from tests.customers_support import Meddling, call, customers, make_customer, message, probe, send
from tools.local.demo import DemoTenant

__all__ = ["customers", "probe"]  # fixtures


@pytest.fixture
def ada(probe: Client, hub: Hub, pipeline: Pipeline) -> str:
    return make_customer(probe, hub, pipeline, "ada", "email:ada@example.com", "phone:+14155550100")


def patch(api: CustomerApi, key: str, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return api.update_customer(call(key, body), customer_id).model_dump(mode="json")


def test_an_agent_edits_tags_attributes_and_the_name(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, ada: str
) -> None:
    agent = signed_in(hub, role="agent")
    first = patch(customers, agent.id_token, ada, {
        "tags": ["VIP", "wholesale"], "attributes": {"complaint_risk": "high", "tier": "gold"},
        "display_name": "  Ada Lovelace "})
    assert first["customer"]["tags"] == ["vip", "wholesale"]
    assert first["customer"]["attributes"] == {"complaint_risk": "high", "tier": "gold"}
    assert first["customer"]["display_name"] == "Ada Lovelace"
    assert first["version"] == 1
    second = patch(customers, demo.api_key, ada, {
        "add_tags": ["churn-risk", "vip"], "remove_tags": ["wholesale"],
        "attributes": {"complaint_risk": None, "region": "emea"}, "expected_version": 1})
    assert second["customer"]["tags"] == ["vip", "churn-risk"]
    assert second["customer"]["attributes"] == {"tier": "gold", "region": "emea"}
    assert second["version"] == 2
    shown = TicketApi(hub.access, hub.store).get_customer(call(demo.api_key), ada)["customer"]
    assert shown["tags"] == ["vip", "churn-risk"]
    assert shown["attributes"]["region"] == "emea"
    assert {i["value"] for i in shown["identities"]} == {"ada@example.com", "+14155550100"}


def test_a_change_that_changes_nothing_writes_nothing(customers: CustomerApi, demo: DemoTenant, ada: str) -> None:
    assert patch(customers, demo.api_key, ada, {"add_tags": ["vip"]})["version"] == 1
    again = patch(customers, demo.api_key, ada, {"add_tags": ["VIP"], "remove_tags": ["absent"],
                                                 "attributes": {"gone": None}})
    assert again["version"] == 1, "a rule re-applying its tag converges without a write"


@pytest.mark.parametrize(("body", "field"), [
    ({"tags": ["has space"]}, "tags"),
    ({"add_tags": ["x" * 65]}, "add_tags"),
    ({"attributes": {"Tier": "gold"}}, "attributes"),
    ({"attributes": {"1tier": "gold"}}, "attributes"),
    ({"attributes": {"t" * 41: "gold"}}, "attributes"),
    ({"attributes": {"tier": "g" * 201}}, "attributes"),
    ({"attributes": {"tier": 5}}, "attributes"),
    ({"display_name": "   "}, "display_name"),
    ({"colour": "red"}, "colour"),
    ({"expected_version": -1}, "expected_version"),
])
def test_invalid_changes_are_refused_per_field(
    customers: CustomerApi, demo: DemoTenant, ada: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        patch(customers, demo.api_key, ada, body)
    assert any(f["field"].startswith(field) for f in refused.value.fields), refused.value.fields


def test_at_most_fifty_tags_and_fifty_attributes(customers: CustomerApi, demo: DemoTenant, ada: str) -> None:
    patch(customers, demo.api_key, ada, {"tags": [f"t{n}" for n in range(45)],
                                         "attributes": {f"a{n}": "x" for n in range(48)}})
    with pytest.raises(InvalidInput, match="at most 50 tags"):
        patch(customers, demo.api_key, ada, {"add_tags": [f"u{n}" for n in range(6)]})
    with pytest.raises(InvalidInput, match="at most 50 attributes"):
        patch(customers, demo.api_key, ada, {"attributes": {"b1": "x", "b2": "x", "b3": "x"}})
    # removing in the same change keeps it within the limit
    done = patch(customers, demo.api_key, ada, {"attributes": {"b1": "x", "b2": "x", "b3": "x", "a0": None}})
    assert len(done["customer"]["attributes"]) == 50


def test_a_stale_expected_version_is_a_conflict(customers: CustomerApi, demo: DemoTenant, ada: str) -> None:
    patch(customers, demo.api_key, ada, {"add_tags": ["vip"]})
    with pytest.raises(Conflict, match="changed meanwhile"):
        patch(customers, demo.api_key, ada, {"add_tags": ["late"], "expected_version": 0})


def test_a_racing_writer_is_not_lost(hub: Hub, ada: str) -> None:
    """A rule and an agent change the customer at once: the one that loses the race
    re-reads and applies its change on top (no expected version given)."""
    plain = customer_writes(hub.aws.dynamodb, hub.settings.table_name, "demo", hub.clock, crypto=hub.crypto)

    def agent_first() -> None:
        plain.update_profile(ada, CustomerPatch(add_tags=["agent-tag"], attributes={"owner": "bob"}))

    racing = customer_writes(Meddling(hub.aws.dynamodb, "update_item", 1, agent_first),
                             hub.settings.table_name, "demo", hub.clock, crypto=hub.crypto)
    customer, version = racing.update(ada, CustomerPatch(add_tags=["rule-tag"], attributes={"segment": "b2b"}))
    assert set(customer.tags) == {"agent-tag", "rule-tag"}
    assert customer.attributes == {"owner": "bob", "segment": "b2b"}
    assert version == 2


def test_the_stream_leaves_the_profile_alone(
    customers: CustomerApi, hub: Hub, demo: DemoTenant, probe: Client, pipeline: Pipeline, ada: str
) -> None:
    patch(customers, demo.api_key, ada, {"tags": ["vip"], "display_name": "Ada L."})
    send(probe, message("ada-later", "email:ada@example.com", "visitor:v-9"))
    pipeline.drain()
    customer, version = customer_writes(hub.aws.dynamodb, hub.settings.table_name, "demo", hub.clock,
                                        crypto=hub.crypto).get(ada)
    assert customer.tags == ["vip"]
    assert customer.display_name == "Ada L."
    assert version == 1
    assert {i.key for i in customer.identities} == {"email:ada@example.com", "phone:+14155550100", "visitor:v-9"}


def test_who_may_edit(customers: CustomerApi, hub: Hub, ada: str) -> None:
    reader = hub.api_keys.create("demo", ["read-only"])[1]
    with pytest.raises(Forbidden):
        patch(customers, reader, ada, {"add_tags": ["vip"]})
    supervisor = signed_in(hub, role="supervisor")
    assert patch(customers, supervisor.id_token, ada, {"add_tags": ["vip"]})["customer"]["tags"] == ["vip"]


def test_unknown_and_other_tenants_customers_are_not_found(customers: CustomerApi, hub: Hub, ada: str) -> None:
    hub.tenants.put(TenantRecord(id="other", name="Other", created_at=hub.clock().isoformat()))
    other = hub.api_keys.create("other", ["tenant-admin"])[1]
    with pytest.raises(NotFound):
        patch(customers, other, ada, {"add_tags": ["stolen"]})
    demo_key = hub.api_keys.create("demo", ["tenant-admin"])[1]
    for unknown in ("cus_" + "a" * 26, "nonsense", "../" + ada):
        with pytest.raises(NotFound):
            patch(customers, demo_key, unknown, {"add_tags": ["vip"]})
    customer, version = customer_writes(hub.aws.dynamodb, hub.settings.table_name, "demo", hub.clock,
                                        crypto=hub.crypto).get(ada)
    assert customer.tags == []
    assert version == 0


def test_an_erased_customer_takes_no_changes(customers: CustomerApi, hub: Hub, demo: DemoTenant, ada: str) -> None:
    hub.erase_customer("demo", ada)
    with pytest.raises(NotFound):
        patch(customers, demo.api_key, ada, {"add_tags": ["vip"]})
