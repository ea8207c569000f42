"""Who sees what: a tenant setting per role — all tickets, the agent's groups, or only
assigned — enforced by the store for every read and list an agent makes."""

from __future__ import annotations

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


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def world(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, user_pool: None) -> dict[str, Any]:
    """Two customers' tickets: one assigned to Ada in group "billing", one in group "sales", nobody's."""
    admin = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
    for n, visitor in enumerate(("v-1", "v-2")):
        body = web_message(f"question {n}", client_id=f"c-{n}", visitor_id=visitor, email=f"{visitor}@example.com")
        answer = client.http.post(f"/hooks/{demo.tenant_id}/web", body=body,
                                  headers=signed_web_headers(demo.web_secret, body, msg_id=f"wh_{n}"))
        assert answer.status_code == 202
    pipeline.drain()
    groups = {name: call(client, "post", "/v1/groups", admin, {"name": name})[1]["id"] for name in ("billing", "sales")}
    ada: SignedIn = signed_in(hub, demo.tenant_id, role="agent", name="Ada")
    bob: SignedIn = signed_in(hub, demo.tenant_id, role="agent", name="Bob")
    assert call(client, "patch", f"/v1/agents/{bob.agent.id}", admin, {"group_ids": [groups["sales"]]})[0] == 200
    tickets = {t["subject"]: t["id"] for t in call(client, "get", "/v1/tickets", admin)[1]["tickets"]}
    mine, other = tickets["question 0"], tickets["question 1"]
    assert call(client, "patch", f"/v1/tickets/{mine}", admin,
                {"assignee_id": ada.agent.id, "group_id": groups["billing"]})[0] == 200
    assert call(client, "patch", f"/v1/tickets/{other}", admin, {"group_id": groups["sales"]})[0] == 200
    pipeline.drain()
    return {"admin": admin, "ada": ada.headers, "bob": bob.headers, "mine": mine, "other": other}


def set_visibility(client: Client, admin: dict[str, str], agent: str) -> None:
    status, body = call(client, "patch", "/v1/settings", admin, {"workflow": {"visibility": {"agent": agent}}})
    assert status == 200, body


def test_agents_see_everything_by_default(client: Client, world: dict[str, Any]) -> None:
    assert len(call(client, "get", "/v1/tickets", world["ada"])[1]["tickets"]) == 2


def test_assigned_only_hides_other_tickets_everywhere(client: Client, hub: Hub, world: dict[str, Any]) -> None:
    set_visibility(client, world["admin"], "assigned")
    ada, other = world["ada"], world["other"]
    assert [t["id"] for t in call(client, "get", "/v1/tickets", ada)[1]["tickets"]] == [world["mine"]]
    assert call(client, "get", f"/v1/tickets/{other}", ada)[0] == 404
    assert call(client, "get", f"/v1/tickets/{other}/history", ada)[0] == 404
    assert call(client, "patch", f"/v1/tickets/{other}", ada, {"priority": "low"})[0] == 404
    assert call(client, "post", f"/v1/tickets/{other}/messages", ada, {"text": "hi"})[0] == 404
    customer = call(client, "get", f"/v1/tickets/{other}", world["admin"])[1]["ticket"]["customer_id"]
    assert call(client, "get", f"/v1/customers/{customer}", ada)[0] == 404
    assert call(client, "get", f"/v1/tickets/{world['mine']}", ada)[0] == 200
    assert len(call(client, "get", "/v1/tickets", world["admin"])[1]["tickets"]) == 2  # keys see all


def test_groups_show_the_agents_groups(client: Client, hub: Hub, world: dict[str, Any]) -> None:
    set_visibility(client, world["admin"], "groups")
    assert [t["id"] for t in call(client, "get", "/v1/tickets", world["bob"])[1]["tickets"]] == [world["other"]]
    assert [t["id"] for t in call(client, "get", "/v1/tickets", world["ada"])[1]["tickets"]] == [world["mine"]]
    assert call(client, "get", f"/v1/tickets/{world['mine']}", world["bob"])[0] == 404
