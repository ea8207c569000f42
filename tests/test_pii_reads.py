"""Customers' personal data through the API: masked for plain agents unless the tenant grants
full view, and every ticket view, customer view and list page audited (who, what, from where)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.hub import Hub
from tests.agents_support import SignedIn, signed_in
from tests.conftest import Pipeline, signed_web_headers, web_message
from tests.console_support import call
from tools.local.demo import DemoTenant

PHONE, EMAIL, VISITOR = "+8613812345678", "li.lei@example.com", "visitor-0123456789"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) " + "x" * 300


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def world(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, user_pool: None) -> dict[str, Any]:
    body = web_message("where is my parcel", visitor_id=VISITOR, email=EMAIL, phone=PHONE, name=None)
    answer = client.http.post(f"/hooks/{demo.tenant_id}/web", body=body,
                              headers=signed_web_headers(demo.web_secret, body))
    assert answer.status_code == 202
    pipeline.drain()
    admin = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json",
             "user-agent": "switchboard-cli/1"}
    agent: SignedIn = signed_in(hub, demo.tenant_id, role="agent", name="Ada")
    supervisor: SignedIn = signed_in(hub, demo.tenant_id, role="supervisor", name="Sam")
    ticket = call(client, "get", "/v1/tickets", admin)[1]["tickets"][0]
    return {"admin": admin, "agent": agent.headers | {"user-agent": BROWSER}, "agent_id": agent.agent.id,
            "supervisor": supervisor.headers, "ticket": ticket["id"], "customer": ticket["customer_id"]}


def reads(client: Client, admin: dict[str, str]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = call(client, "get", "/v1/audit?action=pii.read&limit=100", admin)[1]["records"]
    return records


def values(view: dict[str, Any]) -> dict[str, str]:
    return {i["kind"]: i["value"] for i in view["identities"]}


def test_an_agent_sees_masks_and_each_read_is_audited(client: Client, world: dict[str, Any]) -> None:
    status, body = call(client, "get", f"/v1/tickets/{world['ticket']}", world["agent"])
    assert status == 200
    assert values(body["customer"]) == {"phone": "+86 138****5678", "email": "l***@example.com",
                                        "visitor": "vis****789"}
    assert PHONE not in json.dumps(body)
    assert EMAIL not in json.dumps(body)
    status, customer = call(client, "get", f"/v1/customers/{world['customer']}", world["agent"])
    assert status == 200
    assert values(customer["customer"])["phone"] == "+86 138****5678"
    admin_list, ticket_read, customer_read = reversed(reads(client, world["admin"]))  # oldest first
    assert ticket_read["target"] == f"ticket/{world['ticket']}"
    assert ticket_read["actor"]["agent_id"] == world["agent_id"]
    assert ticket_read["actor"]["user_agent"] == BROWSER[:200]
    assert ticket_read["after"] == {"customer_ids": [world["customer"]], "ticket_ids": [world["ticket"]],
                                    "fields": ["customer", "messages"], "view": "masked"}
    assert customer_read["target"] == f"customer/{world['customer']}"
    assert customer_read["after"]["ticket_ids"] == [world["ticket"]]
    assert admin_list["target"] == "tickets"  # the admin's own list page at setup is a read too
    assert admin_list["after"]["view"] == "full"


def test_supervisors_and_admin_keys_see_full_values_by_default(client: Client, world: dict[str, Any]) -> None:
    for who in ("supervisor", "admin"):
        body = call(client, "get", f"/v1/tickets/{world['ticket']}", world[who])[1]
        assert values(body["customer"])["phone"] == PHONE
    latest = reads(client, world["admin"])[0]
    assert latest["after"]["view"] == "full"
    assert latest["actor"]["key_id"]
    assert latest["actor"]["user_agent"] == "switchboard-cli/1"


def test_the_tenant_decides_who_sees_full_values(client: Client, world: dict[str, Any]) -> None:
    status, _ = call(client, "patch", "/v1/settings", world["admin"],
                     {"workflow": {"pii_full_view_roles": ["agent", "admin"]}})
    assert status == 200
    assert values(call(client, "get", f"/v1/customers/{world['customer']}", world["agent"])[1]["customer"])[
        "phone"] == PHONE
    assert values(call(client, "get", f"/v1/customers/{world['customer']}", world["supervisor"])[1]["customer"])[
        "phone"] == "+86 138****5678"
    status, answer = call(client, "patch", "/v1/settings", world["admin"],
                          {"workflow": {"pii_full_view_roles": ["boss"]}})
    assert status == 422, answer


def test_a_list_page_is_one_record_naming_its_customers(client: Client, world: dict[str, Any]) -> None:
    before = len(reads(client, world["admin"]))
    status, page = call(client, "get", "/v1/tickets", world["agent"])
    assert status == 200
    assert page["tickets"][0]["customer_name"] in ("+86 138****5678", "l***@example.com", "vis****789")
    records = reads(client, world["admin"])
    assert len(records) == before + 1
    assert records[0]["target"] == "tickets"
    assert records[0]["after"]["customer_ids"] == [world["customer"]]
    assert records[0]["after"]["fields"] == ["customer_name"]


def test_a_read_the_caller_may_not_make_leaves_no_record(client: Client, world: dict[str, Any]) -> None:
    before = len(reads(client, world["admin"]))
    assert call(client, "get", "/v1/tickets/tkt_nope", world["agent"])[0] == 404
    assert call(client, "get", "/v1/customers/cus_nope", world["agent"])[0] == 404
    assert len(reads(client, world["admin"])) == before


def test_merges_and_profile_answers_are_masked_too(client: Client, world: dict[str, Any]) -> None:
    status, profile = call(client, "patch", f"/v1/customers/{world['customer']}", world["agent"], {"tags": ["vip"]})
    assert status == 200, profile
    assert values(profile["customer"])["phone"] == "+86 138****5678"
    assert reads(client, world["admin"])[0]["after"]["fields"] == ["customer"]


def test_reads_keep_the_chain_verifiable(client: Client, hub: Hub, demo: DemoTenant, world: dict[str, Any]) -> None:
    for _ in range(3):
        call(client, "get", f"/v1/tickets/{world['ticket']}", world["agent"])
    report = hub.audit.verify(demo.tenant_id)
    assert report.ok
    assert report.records >= 4


class Counting:
    """Counts the AWS calls the audit log makes (a proxy around the real client)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return call


def test_an_audited_read_costs_one_query_and_one_write(hub: Hub, world: dict[str, Any]) -> None:
    from chalicelib.api.calls import ApiCall
    from chalicelib.api.pii_reads import PiiReads
    from chalicelib.api.tickets import TicketApi
    from chalicelib.tenancy.audit import AuditLog

    counting = Counting(hub.aws.dynamodb)
    pii = PiiReads(AuditLog(counting, hub.settings.table_name, hub.clock), hub.workflow_settings)
    api = TicketApi(hub.access, hub.store, hub.visibility, hub.agent_store, hub.clock, pii=pii)
    api.get_ticket(ApiCall(authorization=world["admin"]["authorization"]), world["ticket"])
    assert counting.calls == ["query", "put_item"]  # the chain's head, then the record


def exports(client: Client, admin: dict[str, str]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = call(client, "get", "/v1/audit?action=pii.export&limit=100", admin)[1]["records"]
    return records


def test_an_admin_exports_a_customer_whole_and_each_page_is_audited(client: Client, world: dict[str, Any]) -> None:
    status, page = call(client, "get", f"/v1/customers/{world['customer']}/export", world["admin"])
    assert status == 200, page
    assert page["format"] == "switchboard.customer-export/1"
    assert values(page["customer"]) == {"phone": PHONE, "email": EMAIL, "visitor": VISITOR}  # never masked
    assert [t["ticket"]["id"] for t in page["tickets"]] == [world["ticket"]]
    assert page["tickets"][0]["messages"][0]["text"] == "where is my parcel"
    assert (page["total_tickets"], page["next_cursor"]) == (1, None)
    record = exports(client, world["admin"])[0]
    assert record["target"] == f"customer/{world['customer']}"
    assert record["after"] == {"customer_ids": [world["customer"]], "ticket_ids": [world["ticket"]],
                               "fields": ["customer", "tickets", "messages"], "view": "full"}


def test_exports_need_the_admin_role(client: Client, world: dict[str, Any]) -> None:
    for who in ("agent", "supervisor"):
        status, body = call(client, "get", f"/v1/customers/{world['customer']}/export", world[who])
        assert (status, body["error"]["code"]) == (403, "forbidden"), who
    status, body = call(client, "get", f"/v1/customers/{world['customer']}/export?cursor=x", world["admin"])
    assert (status, body["error"]["code"]) == (400, "bad_payload")
    assert call(client, "get", "/v1/customers/cus_nope/export", world["admin"])[0] == 404
    assert exports(client, world["admin"]) == []  # refused and failed exports leave no record
