"""A tenant with four tickets in known states, for the console API's tests
(tests/test_console_api*.py): groups, agents signed in for real, assignments,
priorities and tags set through the API, the pipeline drained."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalice.test import Client

from chalicelib.hub import Hub
from tests.agents_support import SignedIn, signed_in
from tests.conftest import Pipeline, signed_web_headers, web_message
from tools.local.demo import DemoTenant


def call(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    kwargs = {"headers": headers} | ({"body": json.dumps(body)} if body is not None else {})
    answer = getattr(client.http, method)(path, **kwargs)
    return answer.status_code, json.loads(answer.body) if answer.body else None


def ok(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    status, answer = call(client, method, path, headers, body)
    assert status == 200, (path, status, answer)
    return answer


def send(client: Client, demo: DemoTenant, n: int, text: str | None = None, *, tenant_id: str | None = None,
         secret: str | None = None) -> None:
    """Visitor ``v-<n>`` writes (a new ticket for a new visitor, else on their open ticket)."""
    body = web_message(text or f"question {n}", client_id=f"c-{n}-{text or ''}", visitor_id=f"v-{n}",
                       email=f"v{n}@example.com")
    answer = client.http.post(f"/hooks/{tenant_id or demo.tenant_id}/web", body=body,
                              headers=signed_web_headers(secret or demo.web_secret, body, msg_id=f"wh_{n}_{text}"))
    assert answer.status_code == 202, answer.body


@dataclass
class World:
    admin: dict[str, str]
    ada: SignedIn
    bob: SignedIn
    groups: dict[str, str]
    tickets: list[str]  # t0 … t3, by subject "question <n>"

    def ids(self, answer: dict[str, Any]) -> set[str]:
        return {t["id"] for t in answer["tickets"]}


def build_world(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> World:
    """t0: Ada's, group billing, high, tagged vip · t1: nobody's, group sales, low ·
    t2: Bob's, pending · t3: nobody's, as it came in (open)."""
    admin = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
    for n in range(4):
        send(client, demo, n)
    pipeline.drain()
    groups = {name: _created(client, admin, name) for name in ("billing", "sales")}
    ada = signed_in(hub, demo.tenant_id, role="agent", name="Ada")
    bob = signed_in(hub, demo.tenant_id, role="agent", name="Bob")
    ok(client, "patch", f"/v1/agents/{ada.agent.id}", admin, {"group_ids": [groups["billing"]]})
    ok(client, "patch", f"/v1/agents/{bob.agent.id}", admin, {"group_ids": [groups["sales"]]})
    ada = _refreshed(hub, ada)
    by_subject = {t["subject"]: t["id"] for t in ok(client, "get", "/v1/tickets", admin)["tickets"]}
    tickets = [by_subject[f"question {n}"] for n in range(4)]
    ok(client, "patch", f"/v1/tickets/{tickets[0]}", admin,
       {"assignee_id": ada.agent.id, "group_id": groups["billing"], "priority": "high", "add_tags": ["vip"]})
    ok(client, "patch", f"/v1/tickets/{tickets[1]}", admin, {"group_id": groups["sales"], "priority": "low"})
    ok(client, "patch", f"/v1/tickets/{tickets[2]}", admin, {"assignee_id": bob.agent.id, "status": "pending"})
    pipeline.drain()
    return World(admin, ada, bob, groups, tickets)


def _created(client: Client, admin: dict[str, str], name: str) -> str:
    status, group = call(client, "post", "/v1/groups", admin, {"name": name})
    assert status == 201, group
    return str(group["id"])


def _refreshed(hub: Hub, agent: SignedIn) -> SignedIn:
    """The same sign-in with the agent's record as stored now (its groups)."""
    from dataclasses import replace

    stored = hub.agent_store.of(agent.agent.tenant_id).agent(agent.agent.id)
    assert stored is not None
    return replace(agent, agent=stored)


def set_visibility(client: Client, admin: dict[str, str], agent: str) -> None:
    ok(client, "patch", "/v1/settings", admin, {"workflow": {"visibility": {"agent": agent}}})
