"""The tenant admin's API (``/v1/plugins``, ``/v1/keys``, ``/v1/settings``,
``/v1/audit``, ``/v1/customers``): everything scoped to the caller's tenant.

Changes need a tenant-admin key and are written to the tenant's audit log with
before/after views in which secrets are redacted. Reads of plugin configs never
return a secret; a client may send the redacted value back to keep it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from switchboard_sdk import InvalidInput, NotFound, PluginRegistry

from ..storage.conventions import RetentionDays
from ..tenancy.apikeys import ApiKeyInfo, ApiKeys
from ..tenancy.audit import AuditLog, AuditPage
from ..tenancy.tenants import TenantDirectory, TenantRecord
from .access import ADMIN_SCOPES, Access, ApiCall, Caller, page_limit
from .platform import KeyCreated, KeyDesk, KeyList, TenantView, tenant_audit, tenant_view

MAX_AUDIT_PAGE = 100


class ConfigurePlugin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config: dict[str, Any] | None = Field(
        default=None, description="The plugin's config (see its config_schema). Secret fields may be sent "
        "back as read (redacted) to keep the stored secret.")
    max_delivery_attempts: int | None = Field(default=None, ge=1, le=100,
                                              description="Connectors: attempts before the dead-letter queue.")


class PluginView(BaseModel):
    name: str
    kind: Literal["channel", "connector", "assistant"]
    version: str
    summary: str
    enabled: bool
    configured: bool
    config: dict[str, Any] | None = Field(description="The current config, secrets redacted.")
    max_delivery_attempts: int | None = None
    config_schema: dict[str, Any]
    webhook_urls: list[str] = Field(default_factory=list, description="Channels: where the provider posts.")
    setup_steps: list[str] = Field(default_factory=list)


class PluginList(BaseModel):
    plugins: list[PluginView]


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    public_base_url: str | None = Field(default=None, max_length=300)
    message_retention_days: RetentionDays | None = None
    raw_retention_days: RetentionDays | None = None
    language: str | None = None
    time_zone: str | None = None
    # merged into the current workflow / survey settings, then validated
    workflow: dict[str, Any] | None = None
    surveys: dict[str, Any] | None = None


@functools.cache
def config_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A plugin config model's JSON Schema: built once per container, not per request."""
    return model.model_json_schema()


class TenantAdminApi:
    def __init__(self, access: Access, tenants: TenantDirectory, registry: PluginRegistry, keys: ApiKeys,
                 audit: AuditLog, eraser: Callable[[str, str], dict[str, Any]]) -> None:
        self._access = access
        self._tenants = tenants
        self._registry = registry
        self._keys = keys
        self._audit = audit
        self._desk = KeyDesk(keys, audit)
        self._erase = eraser

    # -- plugins ---------------------------------------------------------------

    def list_plugins(self, call: ApiCall) -> PluginList:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        tenant = self._stored(caller)
        return PluginList(plugins=[self._view(tenant, name, call) for name in sorted(self._registry.infos)])

    def get_plugin(self, call: ApiCall, name: str) -> PluginView:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        return self._view(self._stored(caller), self._installed(name), call)

    def enable_plugin(self, call: ApiCall, name: str) -> PluginView:
        return self._change(call, name, "plugin.enable", enabled=True)

    def disable_plugin(self, call: ApiCall, name: str) -> PluginView:
        return self._change(call, name, "plugin.disable", enabled=False)

    def configure_plugin(self, call: ApiCall, name: str) -> PluginView:
        return self._change(call, name, "plugin.configure", enabled=None)

    def _change(self, call: ApiCall, name: str, action: str, *, enabled: bool | None) -> PluginView:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        self._installed(name)
        # PUT replaces: a body is required; enable/disable may come without one
        request = call.json(ConfigurePlugin) if enabled is None else call.optional_json(ConfigurePlugin)

        def entry(before: TenantRecord | None, after: TenantRecord) -> dict[str, Any]:
            return self._audit.entry(caller.tenant_id, caller.actor, action, f"plugin/{name}",
                                     before=self._audit_view(before, name), after=self._audit_view(after, name))[1]

        _, after = self._tenants.configure(
            caller.tenant_id, name, enabled=enabled, config=request.config,
            max_delivery_attempts=request.max_delivery_attempts, audit=entry,
        )
        return self._view(after, name, call)

    def _view(self, tenant: TenantRecord, name: str, call: ApiCall) -> PluginView:
        info = self._registry.infos[name]
        setting = tenant.plugins.get(name)
        urls = self._webhook_urls(tenant, name, call) if info.kind == "channel" else []
        return PluginView(
            name=name, kind=info.kind, version=info.version, summary=info.summary,
            enabled=bool(setting and setting.enabled), configured=setting is not None,
            config=self._tenants.redacted_config(tenant, name),
            max_delivery_attempts=setting.max_delivery_attempts if setting else None,
            config_schema=config_schema(info.config_model), webhook_urls=urls,
            setup_steps=[step.replace("{webhook_url}", urls[0]) for step in info.setup_steps] if urls else [],
        )

    def _webhook_urls(self, tenant: TenantRecord, name: str, call: ApiCall) -> list[str]:
        base = (tenant.settings.public_base_url or call.base_url).rstrip("/")
        url = f"{base}/hooks/{tenant.id}/{name}"
        return [url] + [url + path for path in self._registry.infos[name].webhook_paths]

    def _audit_view(self, tenant: TenantRecord | None, name: str) -> dict[str, Any] | None:
        setting = tenant.plugins.get(name) if tenant else None
        if setting is None:
            return None
        assert tenant is not None  # a setting comes from a tenant
        return {"enabled": setting.enabled, "config": self._tenants.redacted_config(tenant, name),
                "max_delivery_attempts": setting.max_delivery_attempts}

    def _installed(self, name: str) -> str:
        if name not in self._registry.infos:
            raise NotFound(f"no plugin named {name!r} is installed")
        return name

    def _stored(self, caller: Caller) -> TenantRecord:
        return self._tenants.load(caller.tenant_id)  # what is stored; this container's cache is left alone

    # -- keys ------------------------------------------------------------------

    def list_keys(self, call: ApiCall) -> KeyList:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        return KeyList(keys=self._keys.list(caller.tenant_id))

    def create_key(self, call: ApiCall) -> KeyCreated:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        return self._desk.issue(caller, caller.tenant_id, call)

    def revoke_key(self, call: ApiCall, key_id: str) -> ApiKeyInfo:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        return self._desk.revoke(caller, caller.tenant_id, key_id)

    # -- settings, audit, erasure ------------------------------------------------

    def get_settings(self, call: ApiCall) -> TenantView:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        return tenant_view(self._stored(caller))

    def update_settings(self, call: ApiCall) -> TenantView:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        changes = call.json(SettingsUpdate).model_dump(exclude_unset=True)
        name = changes.pop("name", None)

        def change(tenant: TenantRecord) -> TenantRecord:
            current = tenant.settings.model_dump()
            edits = dict(changes)
            for part in ("workflow", "surveys"):  # a partial object edits only what it names
                if part in edits:
                    edits[part] = current[part] | (edits[part] or {})
            try:
                settings = tenant.settings.model_validate(current | edits)
            except ValidationError as err:
                raise InvalidInput.from_validation_error(err, "invalid settings") from None
            return tenant.model_copy(update={"name": name or tenant.name, "settings": settings})

        _, after = self._tenants.update(caller.tenant_id, change,
                                        audit=tenant_audit(self._audit, caller, "settings.update"))
        return tenant_view(after)

    def list_audit(self, call: ApiCall) -> AuditPage:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        limit = page_limit(call.query.get("limit"), MAX_AUDIT_PAGE)
        return self._audit.list(caller.tenant_id, limit=limit, before=call.param("cursor"),
                                action=call.param("action", 64))

    def erase_customer(self, call: ApiCall, customer_id: str) -> dict[str, Any]:
        """Erase a customer's personal data; the audit record names only the id."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        report = self._erase(caller.tenant_id, customer_id)
        self._audit.record(caller.tenant_id, caller.actor, "customer.erase", f"customer/{customer_id}",
                           after={"erased": report})
        return report
