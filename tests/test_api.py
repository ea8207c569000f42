"""The read-only tickets API through Chalice's test client: API keys, tenant
isolation, query validation, status filter and cursor pagination."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Ticket

import app as app_module
from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import TenantRecord
from tests.conftest import Pipeline, signed_web_headers, web_message
from tools.local.demo import DemoTenant


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


def get(client: Client, path: str, key: str | None = None, *, authorization: str | None = None) -> tuple[int, Any]:
    headers = {}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    if authorization is not None:
        headers["authorization"] = authorization
    response = client.http.get(path, headers=headers)
    return response.status_code, json.loads(response.body)


def post_message(client: Client, demo: DemoTenant, customer: int, number: int, text: str = "") -> None:
    """A signed web message from customer ``customer`` (own visitor id and email)."""
    body = web_message(
        text or f"message {number} from customer {customer}", client_id=f"c-{customer}-{number}",
        visitor_id=f"v-{customer}", email=f"customer{customer}@example.com",
    )
    headers = signed_web_headers(demo.web_secret, body, msg_id=f"wh_{customer}_{number}")
    response = client.http.post(f"/hooks/{demo.tenant_id}/web", body=body, headers=headers)
    assert response.status_code == 202, response.body


def other_tenant_key(hub: Hub, tenant_id: str = "other") -> str:
    hub.tenants.put(TenantRecord(id=tenant_id, name="Other Company", created_at=hub.clock().isoformat()))
    return hub.api_keys.create(tenant_id, ["tenant-admin"])[1]


def all_pages(client: Client, key: str, limit: int, query: str = "") -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    for _ in range(50):  # a loop guard, far above the pages any test makes
        path = f"/v1/tickets?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        status, body = get(client, path, key)
        assert status == 200, body
        pages.append(body["tickets"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("next_cursor never ran out")


@pytest.fixture
def tickets(client: Client, demo: DemoTenant, pipeline: Pipeline) -> list[str]:
    """Seven tickets from seven customers, oldest first (ids as the API shows them)."""
    for customer in range(7):
        post_message(client, demo, customer, 1)
    pipeline.drain()
    status, body = get(client, "/v1/tickets?limit=100", demo.api_key)
    assert status == 200
    assert len(body["tickets"]) == 7
    by_customer = {t["subject"]: t["id"] for t in body["tickets"]}
    return [by_customer[f"message 1 from customer {customer}"] for customer in range(7)]


# -- the edge ----------------------------------------------------------------------


def test_health(client: Client) -> None:
    status, body = get(client, "/health")
    assert (status, body) == (200, {"status": "ok"})


# -- authentication ------------------------------------------------------------------


def test_missing_authorization_is_401(client: Client, hub: Hub) -> None:
    status, body = get(client, "/v1/tickets")
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["message"]
    assert set(body) == {"error"}


@pytest.mark.parametrize("authorization", [
    "",
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Bearer sbk_",
    "Bearer sbk_0123456789abcdef",
    "Bearer sbk_0123456789abcdef_",
    "Bearer sbk_short_secret",
    "Bearer sbk_0123456789abcde!_secret",
    "Bearer xyz_0123456789abcdef_secret",
    "Bearer sbk_0123456789abcdef_unknown-secret",
])
def test_malformed_or_unknown_keys_are_401(client: Client, hub: Hub, authorization: str) -> None:
    status, body = get(client, "/v1/tickets", authorization=authorization)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_known_key_id_with_wrong_secret_is_401(client: Client, demo: DemoTenant) -> None:
    prefix, key_id, _secret = demo.api_key.split("_", 2)
    status, body = get(client, "/v1/tickets", f"{prefix}_{key_id}_not-the-secret")
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    assert get(client, "/v1/tickets", demo.api_key)[0] == 200
    assert get(client, "/v1/tickets", authorization=demo.api_key)[0] == 401, "the Bearer scheme is required"


def test_a_platform_key_owns_no_tenant_data_so_reading_tickets_is_403(client: Client, hub: Hub) -> None:
    key = hub.api_keys.create(None, ["platform-admin"])[1]
    status, body = get(client, "/v1/tickets", key)
    assert status == 403
    assert body["error"]["code"] == "forbidden"


# -- tenant isolation -------------------------------------------------------------------


def test_other_tenant_cannot_read_or_list_a_ticket(
    client: Client, hub: Hub, demo: DemoTenant, tickets: list[str]
) -> None:
    other_key = other_tenant_key(hub)
    ticket_id = tickets[0]

    assert get(client, f"/v1/tickets/{ticket_id}", demo.api_key)[0] == 200
    status, body = get(client, f"/v1/tickets/{ticket_id}", other_key)
    assert status == 404
    assert body["error"]["code"] == "not_found"
    for query in ("", "?status=open", "?limit=100"):
        status, body = get(client, f"/v1/tickets{query}", other_key)
        assert (status, body) == (200, {"tickets": [], "next_cursor": None})


def test_query_cannot_choose_the_tenant(client: Client, hub: Hub, demo: DemoTenant, tickets: list[str]) -> None:
    other_key = other_tenant_key(hub)
    status, body = get(client, f"/v1/tickets?tenant_id={demo.tenant_id}&tenant={demo.tenant_id}", other_key)
    assert status == 400, "unknown parameters are refused, never silently ignored"
    assert "tenant, tenant_id" in body["error"]["message"]
    assert get(client, "/v1/tickets", other_key)[1]["tickets"] == []


# -- query validation ------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "abc", "101", "-1", "1.5", "1e2", " 5", "%20", ""])
def test_bad_limit_is_400(client: Client, demo: DemoTenant, limit: str) -> None:
    status, body = get(client, f"/v1/tickets?limit={limit}", demo.api_key)
    assert status == 400
    assert body["error"]["code"] == "bad_payload"
    assert "limit" in body["error"]["message"]


def test_superscript_limit_is_400_not_500(client: Client, demo: DemoTenant) -> None:
    status, body = get(client, "/v1/tickets?limit=%C2%B2", demo.api_key)
    assert status == 400
    assert body["error"]["code"] == "bad_payload"


@pytest.mark.parametrize("limit", ["1", "100"])
def test_good_limit_is_accepted(client: Client, demo: DemoTenant, limit: str) -> None:
    assert get(client, f"/v1/tickets?limit={limit}", demo.api_key) == (200, {"tickets": [], "next_cursor": None})


@pytest.mark.parametrize("status_value", ["bogus", "OPEN", "open,closed", "all", ""])
def test_bad_status_is_400(client: Client, demo: DemoTenant, status_value: str) -> None:
    status, body = get(client, f"/v1/tickets?status={status_value}", demo.api_key)
    assert status == 400
    assert body["error"]["code"] == "bad_payload"


def test_unknown_ticket_is_404(client: Client, demo: DemoTenant) -> None:
    status, body = get(client, "/v1/tickets/tkt_does_not_exist", demo.api_key)
    assert status == 404
    assert body["error"]["code"] == "not_found"


# -- listing ------------------------------------------------------------------------------------


def test_status_filter(client: Client, hub: Hub, demo: DemoTenant, tickets: list[str]) -> None:
    now = hub.clock()
    solved = Ticket(
        id="tkt_solved", tenant_id=demo.tenant_id, customer_id="cus_x", status="solved", channel="web",
        subject="already solved", created_at=now - timedelta(days=1), last_activity_at=now - timedelta(days=1),
    )
    hub.store.conversations(demo.tenant_id).touch_ticket(solved)

    def ids(query: str) -> set[str]:
        status, body = get(client, f"/v1/tickets?limit=100{query}", demo.api_key)
        assert status == 200
        return {t["id"] for t in body["tickets"]}

    assert ids("&status=open") == set(tickets)
    assert ids("&status=solved") == {"tkt_solved"}
    assert ids("&status=closed") == set()
    assert ids("") == set(tickets) | {"tkt_solved"}
    _status, body = get(client, "/v1/tickets?status=open&limit=100", demo.api_key)
    assert {t["status"] for t in body["tickets"]} == {"open"}


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_cursor_visits_every_ticket_once_newest_first(
    client: Client, demo: DemoTenant, tickets: list[str], limit: int
) -> None:
    pages = all_pages(client, demo.api_key, limit)

    seen = [t["id"] for page in pages for t in page]
    assert seen == list(reversed(tickets)), "every ticket exactly once, newest activity first"
    assert all(len(page) == limit for page in pages[:-1] if page), "full pages until the last"
    assert len(pages) <= len(tickets) // limit + 1
    activity = [t["last_activity_at"] for page in pages for t in page]
    assert activity == sorted(activity, reverse=True)


def test_cursor_with_status_filter(client: Client, demo: DemoTenant, tickets: list[str]) -> None:
    pages = all_pages(client, demo.api_key, 2, "&status=open")
    assert [t["id"] for page in pages for t in page] == list(reversed(tickets))


def test_new_activity_moves_a_ticket_to_the_front(
    client: Client, demo: DemoTenant, pipeline: Pipeline, tickets: list[str]
) -> None:
    post_message(client, demo, 0, 2)  # the oldest ticket's customer writes again
    pipeline.drain()
    status, body = get(client, "/v1/tickets?limit=2", demo.api_key)
    assert status == 200
    assert [t["id"] for t in body["tickets"]] == [tickets[0], tickets[6]]


# -- one ticket -----------------------------------------------------------------------------------


def test_ticket_messages_in_order(client: Client, demo: DemoTenant, pipeline: Pipeline) -> None:
    texts = ["first: my order is late", "second: order #1234", "third: any news?"]
    for number, text in enumerate(texts, start=1):
        post_message(client, demo, 9, number, text)
    pipeline.drain()
    status, listing = get(client, "/v1/tickets", demo.api_key)
    assert status == 200
    (ticket,) = listing["tickets"]

    status, detail = get(client, f"/v1/tickets/{ticket['id']}", demo.api_key)

    assert status == 200
    assert detail["ticket"]["id"] == ticket["id"]
    assert detail["ticket"]["subject"] == texts[0]
    assert [m["text"] for m in detail["messages"]] == texts
    assert {m["ticket_id"] for m in detail["messages"]} == {ticket["id"]}
    assert {m["tenant_id"] for m in detail["messages"]} == {demo.tenant_id}
    received = [m["received_at"] for m in detail["messages"]]
    assert received == sorted(received)
