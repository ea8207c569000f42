"""Who may call what: the scope matrix of the OpenAPI document, route by route.

For every authenticated operation in :data:`chalicelib.api.openapi.OPERATIONS` and
every kind of key (platform-admin, and tenant-admin, agent and read-only keys of
tenant ``demo``), the route is called with ids that exist for ``demo`` and a
minimal valid body. A key whose scope the operation lists must get the
documented success status (and a body of the documented model); any other key
gets 403 and changes nothing. A missing, malformed, unknown, wrongly signed,
revoked or expired key gets 401 on every route, and changes nothing either.

The matrix is derived from the document, so a new route is covered without
editing this file (or a test here fails for want of an id or a body to send).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.agents.directory import Group, new_group_id
from chalicelib.api.openapi import OPERATIONS, PATH_PARAMS, Operation, document
from chalicelib.hub import Hub
from chalicelib.tenancy.apikeys import Scope
from chalicelib.tenancy.audit import Actor
from tests.agents_support import ensure_user_pool, signed_in
from tests.conftest import Pipeline, signed_web_headers, web_message
from tests.test_isolation import BODIES, failed_reply, whole_state
from tools.local.demo import DemoTenant

KINDS: tuple[Scope, ...] = ("platform-admin", "tenant-admin", "agent", "read-only", "reply")
TENANT_SCOPES = frozenset({"tenant-admin", "agent", "read-only", "reply"})
# the routes about the signed-in agent itself take no key (tests/test_agents.py)
AUTHENTICATED = [op for op in OPERATIONS if op.scopes and not op.provider and not op.session]
MATRIX = [(op, kind) for op in AUTHENTICATED for kind in KINDS]


def op_id(op: Operation) -> str:
    return f"{op.method.upper()} {op.path}"


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


def key_of(hub: Hub, kind: Scope, *, name: str = "caller") -> str:
    """A fresh key of ``kind``: the platform's for platform-admin, else tenant demo's."""
    return hub.api_keys.create(None if kind == "platform-admin" else "demo", [kind], name=name)[1]


def needs_ticket(op: Operation) -> bool:
    return any(f"{{{name}}}" in op.path for name in ("ticket_id", "customer_id", "message_id")) or any(
        q.name == "ticket_id" for q in op.query)


def demo_ids(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, op: Operation) -> dict[str, str]:
    """Ids that exist for tenant demo (a ticket and its customer only when ``op`` names one)."""
    ids = {
        "tenant_id": demo.tenant_id, "name": "webhook",
        "key_id": hub.api_keys.create("demo", ["read-only"], name="victim")[0].key_id,
        "platform_key_id": hub.api_keys.create(None, ["platform-admin"], name="victim")[0].key_id,
    }
    if op.tag == "agents":  # creating an agent (or reading them) needs the agents' user pool
        ensure_user_pool(hub)
    if "{agent_id}" in op.path:
        ids["agent_id"] = signed_in(hub, "demo", role="agent", name="Victim").agent.id
    if "{group_id}" in op.path:
        group = Group(id=new_group_id(), name="Victims", created_at="2026-11-25T00:00:00Z",
                      updated_at="2026-11-25T00:00:00Z")
        hub.agent_store.of("demo").add_group(group, hub.audit.entry("demo", Actor(key_id="setup"), "group.create",
                                                                    f"group/{group.id}")[1])
        ids["group_id"] = group.id
    if needs_ticket(op):
        body = web_message("Where is my parcel?", client_id="scope-1")
        response = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
        assert response.status_code == 202, response.body
        pipeline.drain()
        [ticket] = hub.store.reads("demo").list_tickets(status=None, limit=2, before=None)[0]
        ids |= {"ticket_id": ticket.id, "customer_id": ticket.customer_id}
    if "{message_id}" in op.path:
        ids["message_id"] = failed_reply(hub, "demo", ids["ticket_id"], ids["customer_id"], text="Sorry!")
    return ids


def url_of(op: Operation, ids: dict[str, str]) -> str:
    """``op.path`` with ``ids`` filled in; a key id is the platform's on platform key routes."""
    platform_keys = op.path.startswith("/v1/admin/") and "{tenant_id}" not in op.path
    values = ids | ({"key_id": ids["platform_key_id"]} if platform_keys else {})

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no id of tenant demo for {{{name}}} in {op.path}: add it to demo_ids()"
        return values[name]

    path = re.sub(r"\{(\w+)\}", fill, op.path)
    query = {q.name: ids[q.name] for q in op.query if q.name in ids}
    return path + ("?" + urlencode(query) if query else "")


def call(client: Client, op: Operation, ids: dict[str, str], authorization: str | None) -> tuple[int, Any]:
    body = BODIES.get(op.operation_id)
    headers = {"content-type": "application/json"} | ({"authorization": authorization} if authorization else {})
    response = client.http.request(op.method.upper(), url_of(op, ids), headers=headers,
                                   body=json.dumps(body).encode() if body is not None else b"")
    return response.status_code, json.loads(response.body) if response.body else None


# -- the document itself ------------------------------------------------------------------


@pytest.mark.parametrize("op", AUTHENTICATED, ids=op_id)
def test_platform_routes_take_only_platform_keys_and_tenant_routes_only_tenant_keys(op: Operation) -> None:
    """The rule the matrix checks, as the document states it."""
    if op.path.startswith("/v1/admin/"):
        assert op.scopes == ("platform-admin",)
    else:
        assert set(op.scopes) <= TENANT_SCOPES
        assert "tenant-admin" in op.scopes, "whatever a tenant key may do, its tenant's admin may too"


@pytest.mark.parametrize("op", [op for op in AUTHENTICATED if op.body is not None], ids=op_id)
def test_every_operation_with_a_body_has_one_to_send(op: Operation) -> None:
    assert op.body is not None
    assert op.operation_id in BODIES, f"add a minimal valid body for {op.operation_id} to BODIES"
    op.body.model_validate(BODIES[op.operation_id])


def test_every_path_parameter_has_an_id_to_try() -> None:
    assert set(PATH_PARAMS) - {"tenant", "channel"} <= {"tenant_id", "name", "key_id", "ticket_id", "customer_id",
                                                         "agent_id", "group_id", "message_id"}


# -- the matrix -----------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "kind"), MATRIX, ids=[f"{op_id(op)} as {kind}" for op, kind in MATRIX])
def test_a_key_may_call_exactly_the_routes_its_scope_is_listed_for(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, op: Operation, kind: Scope
) -> None:
    ids = demo_ids(client, hub, demo, pipeline, op)
    key = key_of(hub, kind)
    before = whole_state(hub)
    status, body = call(client, op, ids, f"Bearer {key}")
    if kind in op.scopes:
        assert status == op.status, f"{op_id(op)} as {kind} answered {status}: {body}"
        op.response.model_validate(body)
    else:
        assert (status, body["error"]["code"]) == (403, "forbidden"), f"{op_id(op)} as {kind} answered {status}"
        assert status in op.errors, f"{op_id(op)} answers 403 but does not document it"
        assert whole_state(hub) == before, f"a refused {op_id(op)} as {kind} changed something"


# -- no usable key --------------------------------------------------------------------------


@pytest.mark.parametrize("op", AUTHENTICATED, ids=op_id)
def test_without_a_valid_key_every_route_answers_401_and_changes_nothing(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, op: Operation
) -> None:
    ids = demo_ids(client, hub, demo, pipeline, op)
    kind = op.scopes[-1]
    assert kind in KINDS
    # keys that would be allowed, were they not revoked or expired (or misspelt)
    good = key_of(hub, kind, name="good")
    revoked_info, revoked = hub.api_keys.create(None if kind == "platform-admin" else "demo", [kind])
    hub.api_keys.revoke(None if kind == "platform-admin" else "demo", revoked_info.key_id)
    soon = hub.clock() + timedelta(hours=1)
    expiring = hub.api_keys.create(None if kind == "platform-admin" else "demo", [kind], expires_at=soon)[1]
    assert hub.api_keys.authenticate(f"Bearer {expiring}").scopes == [kind]
    later = soon + timedelta(seconds=1)
    hub.api_keys._clock = lambda: later  # the expiring key is an hour and a second old

    _, good_id, good_secret = good.split("_", 2)
    refused = {
        "no key": None,
        "empty bearer": "Bearer ",
        "another scheme": f"Basic {good}",
        "no scheme": good,
        "malformed": "Bearer sbk_not-hex_secret",
        "no secret": f"Bearer sbk_{good_id}_",
        "unknown key id": f"Bearer sbk_{'0' * 16}_{good_secret}",
        "wrong secret": f"Bearer sbk_{good_id}_{good_secret[::-1]}",
        "revoked": f"Bearer {revoked}",
        "expired": f"Bearer {expiring}",
    }
    before = whole_state(hub)
    for what, authorization in refused.items():
        status, body = call(client, op, ids, authorization)
        assert (status, body["error"]["code"]) == (401, "unauthorized"), f"{what}: {op_id(op)} answered {status}"
        assert status in op.errors, f"{op_id(op)} answers 401 but does not document it"
    assert whole_state(hub) == before, f"{op_id(op)} changed something for a caller without a valid key"
    assert call(client, op, ids, f"Bearer {good}")[0] == op.status, "the key the refused ones imitate works"


def test_a_caller_without_a_key_gets_401_whatever_its_query(client: Client, hub: Hub, demo: DemoTenant) -> None:
    ids = {"tenant_id": "demo", "name": "webhook", "key_id": "0" * 16, "platform_key_id": "0" * 16,
           "ticket_id": "tkt_unknown", "customer_id": "cus_unknown", "agent_id": "unknown", "group_id": "grp_unknown",
           "message_id": "msg_unknown"}
    answers = {}
    for op in AUTHENTICATED:
        url = url_of(op, ids)
        response = client.http.request(op.method.upper(), url + ("&" if "?" in url else "?") + "unknown=1",
                                       headers={"content-type": "application/json"}, body=b"")
        answers[op_id(op)] = response.status_code
    assert answers == dict.fromkeys(answers, 401), "the key is checked before the query"


def test_an_unknown_query_parameter_is_a_documented_400_for_a_valid_key(
    client: Client, hub: Hub, demo: DemoTenant
) -> None:
    hub.settings = replace(hub.settings, api_rate=1000.0)  # every route at once: more than 20/s of one key
    platform = hub.api_keys.create(None, ["platform-admin"])[1]
    ids = {"tenant_id": "demo", "name": "webhook", "key_id": "0" * 16, "platform_key_id": "0" * 16,
           "ticket_id": "tkt_unknown", "customer_id": "cus_unknown", "agent_id": "unknown", "group_id": "grp_unknown",
           "message_id": "msg_unknown"}
    for op in AUTHENTICATED:
        key = platform if op.path.startswith("/v1/admin/") else demo.api_key
        url = url_of(op, ids)
        response = client.http.request(op.method.upper(), url + ("&" if "?" in url else "?") + "unknown=1",
                                       headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
                                       body=b"")
        assert response.status_code == 400, op_id(op)
        assert "400" in document()["paths"][op.path][op.method]["responses"], f"{op_id(op)}: 400 undocumented"
