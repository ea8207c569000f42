"""Agents on the local runtime: the stack's Cognito user pool, made in the emulator, and
the demo agent a newcomer signs in as.

moto's CloudFormation does not emulate Cognito (:data:`tools.provision.NOT_EMULATED`),
so the pool and its app client are made through the ``cognito-idp`` API with the
properties ``infra/template.json`` declares: one declaration for AWS and the laptop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.agents.directory import Agent
from chalicelib.agents.pool import temporary_password
from chalicelib.hub import Hub
from chalicelib.storage.conventions import iso
from chalicelib.tenancy.audit import Actor

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.json"
POOL_NAME = "switchboard-agents"
DEMO_AGENT_EMAIL = "agent@demo.example"
DEMO_AGENT_NAME = "Dana Demo"


@dataclass(frozen=True)
class UserPoolIds:
    pool_id: str
    client_id: str


def create_user_pool(cognito: Any, template: Path = TEMPLATE) -> UserPoolIds:
    """The template's ``AgentPool`` and ``AgentPoolClient``, through the API."""
    resources = json.loads(template.read_text())["Resources"]
    pool = {k: v for k, v in resources["AgentPool"]["Properties"].items() if k != "UserPoolName"}
    pool_id = cognito.create_user_pool(PoolName=POOL_NAME, **pool)["UserPool"]["Id"]
    client = {k: v for k, v in resources["AgentPoolClient"]["Properties"].items() if k != "UserPoolId"}
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, **client)["UserPoolClient"]["ClientId"]
    return UserPoolIds(str(pool_id), str(client_id))


@dataclass(frozen=True)
class DemoAgent:
    id: str
    email: str
    password: str
    name: str


def seed_demo_agent(hub: Hub, tenant_id: str, *, email: str = DEMO_AGENT_EMAIL,
                    name: str = DEMO_AGENT_NAME) -> DemoAgent:
    """An admin agent of ``tenant_id`` created as ``POST /v1/agents`` creates one (its
    Cognito user, then its record with the audit entry), given a permanent password so
    the newcomer signs in at once instead of answering the first-sign-in challenge."""
    if hub.user_pool is None:
        raise RuntimeError("the hub has no user pool configured")
    user = hub.user_pool.create_user(email, tenant_id)
    now = iso(hub.clock())
    agent = Agent(id=user.sub, username=user.username, tenant_id=tenant_id, email=email, name=name, role="admin",
                  status="active", created_at=now, updated_at=now)
    entry = hub.audit.entry(tenant_id, Actor(via="local runtime"), "agent.create", f"agent/{agent.id}",
                            after=agent.view().model_dump(mode="json"))[1]
    hub.agent_store.of(tenant_id).add_agent(agent, entry)
    password = temporary_password()  # random, and meets the pool's policy
    hub.aws.client("cognito-idp").admin_set_user_password(
        UserPoolId=hub.settings.cognito_pool_id, Username=user.username, Password=password, Permanent=True)
    return DemoAgent(agent.id, email, password, name)
