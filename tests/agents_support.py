"""Agents in tests: moto's Cognito user pool made as infra/template.json declares
it, moto's public JWKS (what the hub fetches) and private key (to forge tokens the
hub must refuse), and agents signed in for real through the pool."""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jwt
import moto
from jwt.algorithms import RSAAlgorithm

from chalicelib.agents.directory import Agent
from chalicelib.agents.pool import PasswordChallenge, SessionTokens
from chalicelib.hub import Hub
from chalicelib.storage.conventions import iso
from chalicelib.tenancy.audit import Actor

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.json"
MOTO_RESOURCES = Path(moto.__file__).parent / "cognitoidp" / "resources"
MOTO_KID = "dummy"  # the kid moto signs with (jwks-public.json)
PASSWORD = "Correct-horse-42"  # meets the pool's policy


def create_user_pool(cognito: Any) -> tuple[str, str]:
    """The user pool and app client of infra/template.json, through the API (moto's
    CloudFormation does not emulate Cognito); returns their ids."""
    resources = json.loads(TEMPLATE.read_text())["Resources"]
    pool = {k: v for k, v in resources["AgentPool"]["Properties"].items() if k != "UserPoolName"}
    pool_id = cognito.create_user_pool(PoolName="switchboard-agents", **pool)["UserPool"]["Id"]
    client = {k: v for k, v in resources["AgentPoolClient"]["Properties"].items() if k != "UserPoolId"}
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, **client)["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def ensure_user_pool(hub: Hub) -> None:
    """Give ``hub`` the agents' user pool, made now if it has none. Made on demand, not by the
    ``hub`` fixture: moto loads an RSA key for every pool (~0.15 s), and most tests sign nobody in."""
    if hub.settings.cognito_pool_id:
        return
    assert not {"user_pool", "token_verifier"} & hub.__dict__.keys(), "the pool must come before the hub uses it"
    pool_id, client_id = create_user_pool(hub.aws.client("cognito-idp"))
    hub.settings = replace(hub.settings, cognito_pool_id=pool_id, cognito_client_id=client_id)


def moto_jwks() -> bytes:
    return gzip.decompress((MOTO_RESOURCES / "jwks-public.json.gz").read_bytes())


class FakeJwks:
    """The hub's JWKS fetch: moto's public keys, and the URLs asked for."""

    def __init__(self, body: bytes | None = None) -> None:
        self.body = moto_jwks() if body is None else body
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.body


def forge(claims: dict[str, Any], *, kid: str = MOTO_KID, key: Any = None, algorithm: str = "RS256") -> str:
    """A token signed with moto's private key (the pool's own), or ``key``."""
    if key is None:
        private = json.loads(gzip.decompress((MOTO_RESOURCES / "jwks-private.json.gz").read_bytes()))
        key = RSAAlgorithm.from_jwk(json.dumps(private))
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def claims_of(token: str) -> dict[str, Any]:
    """A token's claims, unverified (to copy and alter them)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


@dataclass(frozen=True)
class SignedIn:
    agent: Agent
    id_token: str
    access_token: str
    refresh_token: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.id_token}", "content-type": "application/json"}


def signed_in(hub: Hub, tenant_id: str = "demo", *, role: str = "admin", email: str | None = None,
              name: str = "Ada Agent") -> SignedIn:
    """A new agent of ``tenant_id`` (Cognito user and record), signed in for real: the
    temporary password, the NEW_PASSWORD_REQUIRED challenge, then the agent's own password."""
    ensure_user_pool(hub)
    assert hub.user_pool is not None
    email = email or f"{role}.{time.monotonic_ns()}@{tenant_id}.example"
    user = hub.user_pool.create_user(email, tenant_id)
    now = iso(hub.clock())
    agent = Agent(id=user.sub, username=user.username, tenant_id=tenant_id, email=email, name=name,
                  role=role, status="active", created_at=now, updated_at=now)  # type: ignore[arg-type]
    entry = hub.audit.entry(tenant_id, Actor(key_id="setup"), "agent.create", f"agent/{agent.id}")[1]
    hub.agent_store.of(tenant_id).add_agent(agent, entry)
    challenge = hub.user_pool.sign_in(email, user.temporary_password)
    assert isinstance(challenge, PasswordChallenge)
    tokens = hub.user_pool.set_new_password(email, challenge.session, PASSWORD)
    assert isinstance(tokens, SessionTokens)
    assert tokens.refresh_token
    return SignedIn(agent, tokens.id_token, tokens.access_token, tokens.refresh_token, PASSWORD)
