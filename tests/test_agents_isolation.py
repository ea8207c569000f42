"""Tenant isolation for signed-in agents: the walk of tests/test_isolation.py over
every tenant route, with a real token of an agent of tenant A (an admin, and a
plain agent) pointed at tenant B's resources. Nothing of B's is read or changed,
and a token of B's agent never reaches A's data either."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.agents.directory import ROLE_SCOPES
from chalicelib.api.openapi import Operation
from chalicelib.hub import Hub
from tests.agents_support import signed_in
from tests.conftest import Pipeline, Stage, World
from tests.staged import staged_fixtures
from tests.test_isolation import (
    TENANT_ROUTES,
    B,
    assert_nothing_leaked,
    names_a_resource,
    names_its_own,
    other_tenant,
    request,
    snapshot_and_whole_state,
)
from tools.local.demo import DemoTenant

# an admin everywhere; a plain agent where it gets in, on every read and on every write naming one of B's resources
CASES = [(op, "admin") for op in TENANT_ROUTES] + [
    (op, "agent") for op in TENANT_ROUTES
    if set(op.scopes) & ROLE_SCOPES["agent"] or op.method == "get" or names_a_resource(op)]


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


# Every test here starts from tests/conftest.py's ``world`` (a fresh copy of one saved state)
hub, demo, pipeline = staged_fixtures()


def signed_in_with_tenant_b(world: World, client: Client, role: str) -> Stage:
    """Tenant B as :func:`other_tenant` makes it, and an agent of A's of ``role`` signed in
    (``Stage.extra``: B's ids, the agent's ID token); built by the first test of ``role``
    and saved, each test starting from a fresh copy of that state."""
    def build(made: Stage) -> tuple[dict[str, str], str]:
        ids = other_tenant(client, made.hub, made.pipeline)
        return ids, signed_in(made.hub, made.demo.tenant_id, role=role, name="Ada of A").id_token

    return world.stage(f"tenant B, an agent of A's ({role})", build)


@pytest.mark.parametrize(("op", "role"), CASES, ids=[f"{o.method.upper()} {o.path} as {r}" for o, r in CASES])
def test_an_agent_of_tenant_a_can_neither_read_nor_change_tenant_b(
    client: Client, world: World, op: Operation, role: str
) -> None:
    stage = signed_in_with_tenant_b(world, client, role)  # agents sign in through the pool
    hub, (ids, token) = stage.hub, stage.extra
    ids = dict(ids)
    before, everything_before = snapshot_and_whole_state(hub)
    status, body = request(client, op, token, ids)
    where = f"{op.method.upper()} {op.path} as A's {role}"
    after, everything_after = snapshot_and_whole_state(hub)
    if not set(op.scopes) & ROLE_SCOPES[role]:
        assert status == 403, f"{where} answered {status}: {body[:300]}"
        assert everything_after == everything_before, f"a refused {where} changed something"
    elif names_its_own(op):  # a knowledge PUT makes or replaces A's own record of that id
        assert status == op.status, f"{where} answered {status}: {body[:300]}"
    elif names_a_resource(op):
        assert status in (403, 404), f"{where} answered {status}: {body[:300]}"
    else:
        assert status < 500, body[:300]
    assert_nothing_leaked(op, ids, body, where)
    assert after == before, f"{where} changed tenant B's data"


@pytest.mark.usefixtures("user_pool")  # agents sign in through the pool
def test_tenant_bs_agent_sees_only_tenant_b(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> None:
    ids = other_tenant(client, hub, pipeline)
    a_admin = signed_in(hub, demo.tenant_id, role="admin", name="Ada of A")
    headers = {"authorization": f"Bearer {ids['agent_token']}"}
    agents = json.loads(client.http.get("/v1/agents", headers=headers).body)["agents"]
    assert [a["id"] for a in agents] == [ids["agent_id"]]
    assert client.http.get(f"/v1/agents/{a_admin.agent.id}", headers=headers).status_code == 404
    me = json.loads(client.http.get("/v1/me", headers=headers).body)
    assert me["tenant_id"] == B
