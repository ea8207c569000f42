"""The platform operator's API (``/v1/admin/...``): tenants and their first keys.

Only platform-admin keys get here. Every change is written to the audit log of
the tenant it concerns, so the tenant's admins see who set them up and when.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from switchboard_sdk import BadPayload

from ..storage.conventions import iso
from ..storage.keys import TENANT_ID
from ..tenancy.apikeys import ApiKeyInfo, ApiKeys, Scope
from ..tenancy.audit import AuditLog, AuditPage
from ..tenancy.tenants import AuditHook, TenantDirectory, TenantRecord, TenantSettings
from .access import Access, ApiCall, Caller, page_limit

MAX_TENANT_PAGE = 100
STATUS_ACTIONS = {"suspended": "tenant.suspend", "active": "tenant.resume"}


class CreateTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=f"^{TENANT_ID.pattern}$", description="Lowercase letters, digits and '-'; 2-63 characters.")
    name: str = Field(min_length=1, max_length=200)
    settings: TenantSettings = Field(default_factory=TenantSettings)


class UpdateTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["active", "suspended"] | None = None


class CreateKey(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    name: str = Field(default="", max_length=100)
    expires_at: AwareDatetime | None = None


class TenantView(BaseModel):
    id: str
    name: str
    status: Literal["active", "suspended"]
    settings: TenantSettings
    enabled_plugins: list[str]
    created_at: str


class TenantPage(BaseModel):
    tenants: list[TenantView]
    next_cursor: str | None = None


class KeyCreated(ApiKeyInfo):
    key: str = Field(description="The API key itself. Shown this once; only a hash is kept.")


class KeyList(BaseModel):
    keys: list[ApiKeyInfo]


@dataclass(frozen=True)
class KeyDesk:
    """Issues and revokes keys of one owner (a tenant, or the platform: ``None``),
    writing each to the owner's audit log."""

    keys: ApiKeys
    audit: AuditLog

    def issue(self, caller: Caller, owner: str | None, call: ApiCall) -> KeyCreated:
        request = call.json(CreateKey)
        info, plain = self.keys.create(owner, request.scopes, name=request.name, created_by=caller.created_by,
                                       expires_at=request.expires_at, audit=self._entry(caller, owner, "key.create"))
        return KeyCreated(**info.model_dump(), key=plain)

    def revoke(self, caller: Caller, owner: str | None, key_id: str) -> ApiKeyInfo:
        return self.keys.revoke(owner, key_id, audit=self._entry(caller, owner, "key.revoke"))

    def _entry(self, caller: Caller, owner: str | None, action: str) -> Callable[[ApiKeyInfo], dict[str, Any]]:
        def entry(info: ApiKeyInfo) -> dict[str, Any]:
            return self.audit.entry(owner, caller.actor, action, f"key/{info.key_id}",
                                    after=info.model_dump(mode="json"))[1]

        return entry


def tenant_view(tenant: TenantRecord) -> TenantView:
    return TenantView(id=tenant.id, name=tenant.name, status=tenant.status, settings=tenant.settings,
                      enabled_plugins=tenant.enabled_plugins(), created_at=tenant.created_at)


def tenant_audit(audit: AuditLog, caller: Caller, action: str) -> AuditHook:
    """The audit record of a change to a tenant record (views, no plugin configs)."""
    def entry(before: TenantRecord | None, after: TenantRecord) -> dict[str, Any]:
        return audit.entry(after.id, caller.actor, action, f"tenant/{after.id}",
                           before=tenant_view(before).model_dump(mode="json") if before else None,
                           after=tenant_view(after).model_dump(mode="json"))[1]

    return entry


class PlatformApi:
    def __init__(self, access: Access, tenants: TenantDirectory, keys: ApiKeys, audit: AuditLog,
                 clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._access = access
        self._tenants = tenants
        self._keys = keys
        self._audit = audit
        self._desk = KeyDesk(keys, audit)

    def create_tenant(self, call: ApiCall) -> TenantView:
        caller = self._access.platform(call)
        request = call.json(CreateTenant)
        tenant = TenantRecord(id=request.id, name=request.name, settings=request.settings,
                              created_at=iso(self._clock()))
        return tenant_view(self._tenants.create(tenant, audit=tenant_audit(self._audit, caller, "tenant.create")))

    def list_tenants(self, call: ApiCall) -> TenantPage:
        self._access.platform(call)
        limit = page_limit(call.query.get("limit"), MAX_TENANT_PAGE)
        after = call.param("cursor")
        if after is not None and not TENANT_ID.fullmatch(after):
            raise BadPayload("cursor is not one this API returned")
        tenants, cursor = self._tenants.list_tenants(limit=limit, after=after)
        return TenantPage(tenants=[tenant_view(t) for t in tenants], next_cursor=cursor)

    def get_tenant(self, call: ApiCall, tenant_id: str) -> TenantView:
        self._access.platform(call)
        return tenant_view(self._tenants.load(tenant_id))

    def update_tenant(self, call: ApiCall, tenant_id: str) -> TenantView:
        """Rename, suspend (webhooks answer 403, keys stop working) or resume."""
        caller = self._access.platform(call)
        changes = call.json(UpdateTenant).model_dump(exclude_none=True)
        action = STATUS_ACTIONS.get(changes.get("status", ""), "tenant.update")
        _, after = self._tenants.update(tenant_id, lambda tenant: tenant.model_copy(update=changes),
                                        audit=tenant_audit(self._audit, caller, action))
        return tenant_view(after)

    def create_tenant_key(self, call: ApiCall, tenant_id: str) -> KeyCreated:
        """Issue a key of a tenant (its first tenant-admin key, typically)."""
        caller = self._access.platform(call)
        self._tenants.load(tenant_id)
        return self._desk.issue(caller, tenant_id, call)

    def list_tenant_keys(self, call: ApiCall, tenant_id: str) -> KeyList:
        self._access.platform(call)
        self._tenants.load(tenant_id)
        return KeyList(keys=self._keys.list(tenant_id))

    def revoke_tenant_key(self, call: ApiCall, tenant_id: str, key_id: str) -> ApiKeyInfo:
        """An operator's brake: revoke a tenant's leaked key even when its admins cannot."""
        caller = self._access.platform(call)
        self._tenants.load(tenant_id)
        return self._desk.revoke(caller, tenant_id, key_id)

    def platform_audit(self, call: ApiCall) -> AuditPage:
        """Platform-wide actions (platform keys issued and revoked), newest first."""
        self._access.platform(call)
        limit = page_limit(call.query.get("limit"), MAX_TENANT_PAGE)
        return self._audit.list(None, limit=limit, before=call.param("cursor"), action=call.param("action", 64))

    def create_platform_key(self, call: ApiCall) -> KeyCreated:
        return self._desk.issue(self._access.platform(call), None, call)

    def list_platform_keys(self, call: ApiCall) -> KeyList:
        self._access.platform(call)
        return KeyList(keys=self._keys.list(None))

    def revoke_platform_key(self, call: ApiCall, key_id: str) -> ApiKeyInfo:
        return self._desk.revoke(self._access.platform(call), None, key_id)
