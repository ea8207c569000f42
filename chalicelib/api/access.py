"""Who may call the API: key or agent token → scope → tenant state → rate, in one place.

Every ``/v1`` route goes through :class:`Access` before it touches data. The
tenant always comes from the key or the agent's token; a URL never names the
caller's tenant (the platform routes under ``/v1/admin`` take a tenant id, but
only platform keys, which own no tenant data, reach them).

``Authorization: Bearer <token>`` carries either an API key (``sbk_...``) or a
signed-in agent's Cognito ID token (a JWT, told apart by its shape). A token is
verified by the hub itself (:mod:`chalicelib.agents.tokens`), then the agent's
record is read on every call, so a deactivated agent is refused at once even with
a token that has not expired; the agent's role gives the scopes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from switchboard_sdk import BadPayload, Forbidden, NotFound

from ..agents.directory import Agent
from ..agents.tokens import AgentClaims, InvalidToken, looks_like_jwt
from ..storage.keys import valid_tenant_id
from ..tenancy.apikeys import ApiKey, ApiKeys
from ..tenancy.audit import Actor
from ..tenancy.tenants import TenantDirectory
from .calls import ApiCall

READ_SCOPES = frozenset({"tenant-admin", "agent", "read-only"})
ADMIN_SCOPES = frozenset({"tenant-admin"})
REPLY_SCOPES = frozenset({"reply"})
AGENT_SCOPES = frozenset({"agent"})
__all__ = ["ADMIN_SCOPES", "AGENT_SCOPES", "READ_SCOPES", "REPLY_SCOPES", "Access", "ApiCall", "Caller",
           "page_limit"]


@dataclass(frozen=True)
class Caller:
    """An admitted caller: an API key, or a signed-in agent (``key`` is then ``None``)."""

    key: ApiKey | None
    actor: Actor
    agent: Agent | None = None

    @property
    def tenant_id(self) -> str:
        tenant_id = self.agent.tenant_id if self.agent is not None else self.key.tenant_id if self.key else None
        assert tenant_id is not None  # Access.tenant only admits tenant keys and agents
        return tenant_id

    @property
    def scopes(self) -> frozenset[str]:
        return self.agent.scopes if self.agent is not None else frozenset(self.key.scopes if self.key else ())

    @property
    def author_id(self) -> str:
        """Who wrote what this caller writes (a reply's author): the agent's id, or ``key:<key id>``."""
        return self.agent.id if self.agent is not None else f"key:{self._key.key_id}"

    @property
    def author_name(self) -> str:
        return self.agent.name if self.agent is not None else self._key.name

    @property
    def created_by(self) -> str:
        """What records that name their creator keep: the key id, or ``agent:<id>``."""
        return f"agent:{self.agent.id}" if self.agent is not None else self._key.key_id

    @property
    def _key(self) -> ApiKey:
        assert self.key is not None  # a caller is an agent or a key
        return self.key


class Access:
    def __init__(self, keys: ApiKeys, tenants: TenantDirectory,
                 limit: Callable[[str, str], None] | None = None, *,
                 verify_token: Callable[[str], AgentClaims] | None = None,
                 load_agent: Callable[[str, str], Agent | None] | None = None) -> None:
        self._keys = keys
        self._tenants = tenants
        # per-tenant API rate check (tenant, bucket); raises RateLimited. Admin keys
        # have their own bucket so a runaway reader cannot starve key revocation.
        self._limit = limit
        self._verify_token = verify_token  # agents' JWTs (InvalidToken, ExpiredToken)
        self._load_agent = load_agent  # (tenant, agent id) → the agent's record, read now

    def platform(self, call: ApiCall) -> Caller:
        """A platform-admin key, or :class:`Forbidden`."""
        key = self._keys.authenticate(call.authorization)
        if key.tenant_id is not None or "platform-admin" not in key.scopes:
            raise Forbidden("this route needs a platform-admin key")
        call.refuse_unknown_query()
        return Caller(key, _actor(key, call))

    def tenant(self, call: ApiCall, scopes: frozenset[str] = READ_SCOPES) -> Caller:
        """A key of an active tenant, or an active agent of one, holding one of ``scopes``, within its rate."""
        token = _bearer(call.authorization)
        if token is not None and looks_like_jwt(token):
            return self._agent(call, token, scopes)
        key = self._keys.authenticate(call.authorization)
        if key.tenant_id is None:
            raise Forbidden("platform keys own no tenant data; issue a tenant key")
        if not key.allows(scopes):
            raise Forbidden(_needs(scopes))
        self._admit(key.tenant_id, frozenset(key.scopes), "this key's tenant no longer exists")
        call.refuse_unknown_query()
        return Caller(key, _actor(key, call))

    def agent(self, call: ApiCall, scopes: frozenset[str] = AGENT_SCOPES) -> Caller:
        """A signed-in agent (never a key): the routes about the caller itself (``/v1/me``)."""
        caller = self.tenant(call, scopes)
        if caller.agent is None:
            raise Forbidden("this route is for signed-in agents (an ID token), not API keys")
        return caller

    def _agent(self, call: ApiCall, token: str, scopes: frozenset[str]) -> Caller:
        if self._verify_token is None or self._load_agent is None:
            raise InvalidToken()
        claims = self._verify_token(token)
        if claims.tenant_id is None or not valid_tenant_id(claims.tenant_id):
            raise InvalidToken()  # an access token without the tenant claim: send the ID token
        agent = self._load_agent(claims.tenant_id, claims.sub)
        if agent is None or agent.status == "removed":
            raise InvalidToken()
        if agent.status != "active":
            raise Forbidden("this agent is deactivated")
        if not agent.scopes & scopes:
            raise Forbidden(_needs(scopes))
        self._admit(agent.tenant_id, agent.scopes, "this agent's tenant no longer exists")
        call.refuse_unknown_query()
        actor = Actor(agent_id=agent.id, agent_name=agent.name, scopes=sorted(agent.scopes),
                      source_ip=call.source_ip, user_agent=call.user_agent[:200])
        return Caller(None, actor, agent)

    def _admit(self, tenant_id: str, scopes: frozenset[str], gone: str) -> None:
        """The tenant is active and the caller within its rate."""
        try:  # read now, not from the cache: a suspension applies to the next API call
            tenant = self._tenants.load(tenant_id)
        except NotFound:
            raise Forbidden(gone) from None
        if tenant.status != "active":
            raise Forbidden("this tenant is suspended")
        if self._limit is not None:
            self._limit(tenant_id, "api-admin" if "tenant-admin" in scopes else "api")


def _needs(scopes: frozenset[str]) -> str:
    return f"this route needs one of the scopes: {', '.join(sorted(scopes))}"


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _actor(key: ApiKey, call: ApiCall) -> Actor:
    return Actor(key_id=key.key_id, key_name=key.name, scopes=list(key.scopes), source_ip=call.source_ip,
                 user_agent=call.user_agent[:200])


def page_limit(raw: str | None, maximum: int, default: int = 50) -> int:
    """``limit``: absent → ``default``; present, it must be an integer in range (``limit=`` is not)."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise BadPayload(f"limit must be an integer from 1 to {maximum}")
    return int(raw)
