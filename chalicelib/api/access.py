"""Who may call the API: key → scope → tenant state → rate, in one place.

Every ``/v1`` route goes through :class:`Access` before it touches data. The
tenant always comes from the key; a URL never names the caller's tenant (the
platform routes under ``/v1/admin`` take a tenant id, but only platform keys,
which own no tenant data, reach them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from switchboard_sdk import BadPayload, Forbidden, NotFound

from ..tenancy.apikeys import ApiKey, ApiKeys
from ..tenancy.audit import Actor
from ..tenancy.tenants import TenantDirectory
from .calls import ApiCall

READ_SCOPES = frozenset({"tenant-admin", "agent", "read-only"})
ADMIN_SCOPES = frozenset({"tenant-admin"})
__all__ = ["ADMIN_SCOPES", "READ_SCOPES", "Access", "ApiCall", "Caller", "page_limit"]


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    actor: Actor

    @property
    def tenant_id(self) -> str:
        assert self.key.tenant_id is not None  # Access.tenant only admits tenant keys
        return self.key.tenant_id


class Access:
    def __init__(self, keys: ApiKeys, tenants: TenantDirectory,
                 limit: Callable[[str, str], None] | None = None) -> None:
        self._keys = keys
        self._tenants = tenants
        # per-tenant API rate check (tenant, bucket); raises RateLimited. Admin keys
        # have their own bucket so a runaway reader cannot starve key revocation.
        self._limit = limit

    def platform(self, call: ApiCall) -> Caller:
        """A platform-admin key, or :class:`Forbidden`."""
        key = self._keys.authenticate(call.authorization)
        if key.tenant_id is not None or "platform-admin" not in key.scopes:
            raise Forbidden("this route needs a platform-admin key")
        call.refuse_unknown_query()
        return Caller(key, _actor(key, call))

    def tenant(self, call: ApiCall, scopes: frozenset[str] = READ_SCOPES) -> Caller:
        """A key of an active tenant holding one of ``scopes``, within its rate."""
        key = self._keys.authenticate(call.authorization)
        if key.tenant_id is None:
            raise Forbidden("platform keys own no tenant data; issue a tenant key")
        if not key.allows(scopes):
            raise Forbidden(f"this route needs one of the scopes: {', '.join(sorted(scopes))}")
        try:  # read now, not from the cache: a suspension applies to the next API call
            tenant = self._tenants.load(key.tenant_id)
        except NotFound:
            raise Forbidden("this key's tenant no longer exists") from None
        if tenant.status != "active":
            raise Forbidden("this tenant is suspended")
        if self._limit is not None:
            self._limit(key.tenant_id, "api-admin" if "tenant-admin" in key.scopes else "api")
        call.refuse_unknown_query()
        return Caller(key, _actor(key, call))


def _actor(key: ApiKey, call: ApiCall) -> Actor:
    return Actor(key_id=key.key_id, key_name=key.name, scopes=list(key.scopes), source_ip=call.source_ip)


def page_limit(raw: str | None, maximum: int, default: int = 50) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise BadPayload(f"limit must be an integer from 1 to {maximum}")
    return int(raw)
