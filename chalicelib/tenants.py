"""Tenants and the plugins each one enabled.

Tenant records are read on every webhook, so they are cached per container for
``cache_seconds`` (the bound on how long a config change takes to apply).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator
from switchboard_sdk import Conflict, NotFound, PluginConfigError, PluginRegistry

from .aws import is_condition_failure
from .items import from_item, to_item
from .keys import tenant_record_key, tenants_index


class PluginSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)
    # connectors: this tenant's delivery attempts before the DLQ (None: the
    # connector's declared limit, else the hub's SWITCHBOARD_MAX_DELIVERY_ATTEMPTS)
    max_delivery_attempts: int | None = Field(default=None, ge=1, le=100)


# Retention choices map one-to-one to the bucket's lifecycle rules (by object tag)
RetentionDays = Literal[7, 30, 90, 180, 365, 730, 1095, 2555]
RETENTION_DAYS: tuple[int, ...] = get_args(RetentionDays)


class TenantSettings(BaseModel):
    """What a tenant admin may change about the tenant as a whole."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    public_base_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    # messages, tickets' personal data and their attachments
    message_retention_days: RetentionDays = 365
    # raw provider payloads and quarantined bodies
    raw_retention_days: RetentionDays = 30
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    time_zone: str = Field(default="UTC", max_length=64)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, KeyError) as err:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError("an IANA time zone such as Europe/Berlin") from err
        return value


class TenantRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    id: str
    name: str
    status: Literal["active", "suspended"] = "active"
    plugins: dict[str, PluginSetting] = Field(default_factory=dict)
    settings: TenantSettings = Field(default_factory=TenantSettings)
    created_at: str = ""

    def enabled(self, plugin: str) -> bool:
        setting = self.plugins.get(plugin)
        return bool(setting and setting.enabled)

    def enabled_plugins(self) -> list[str]:
        return sorted(name for name, setting in self.plugins.items() if setting.enabled)


class TenantDirectory:
    """Reads and writes tenant records and API keys, with a per-container cache."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        registry: PluginRegistry,
        *,
        cache_seconds: float = 30,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = client
        self._table = table_name
        self._registry = registry
        self._ttl = cache_seconds
        self._now = monotonic
        self._tenants: dict[str, tuple[float, TenantRecord | None]] = {}
        self._configs: dict[tuple[str, str], tuple[float, BaseModel]] = {}

    # -- tenants -------------------------------------------------------------

    def get(self, tenant_id: str) -> TenantRecord:
        """The tenant, from cache when fresh; :class:`NotFound` if unknown."""
        cached = self._tenants.get(tenant_id)
        if cached is None or self._now() - cached[0] > self._ttl:
            cached = (self._now(), self._load(tenant_id))
            self._tenants[tenant_id] = cached
        if cached[1] is None:
            raise NotFound("unknown tenant")
        return cached[1]

    def _load(self, tenant_id: str) -> TenantRecord | None:
        try:
            key = tenant_record_key(tenant_id)
        except ValueError:
            return None
        item = self._db.get_item(TableName=self._table, Key=key).get("Item")
        return None if item is None else TenantRecord.model_validate_json(from_item(item)["doc"])

    def put(self, tenant: TenantRecord, *, new: bool = False) -> None:
        """Save a tenant after validating every plugin's config; ``new``: refuse
        (:class:`Conflict`) when the id is taken."""
        for name, setting in tenant.plugins.items():
            if name not in self._registry.infos:
                raise PluginConfigError(f"no plugin named {name!r} is installed")
            self._registry.validate_config(name, setting.config)
        item = tenant_record_key(tenant.id) | to_item({
            "type": "tenant", "doc": tenant.model_dump_json(), "gsi1pk": tenants_index(), "gsi1sk": tenant.id,
        })
        condition = {"ConditionExpression": "attribute_not_exists(pk)"} if new else {}
        try:
            self._db.put_item(TableName=self._table, Item=item, **condition)
        except Exception as err:
            if is_condition_failure(err):
                raise Conflict(f"a tenant with id {tenant.id!r} exists") from None
            raise
        self.forget(tenant.id)

    def list_tenants(self, *, limit: int = 50, after: str | None = None) -> tuple[list[TenantRecord], str | None]:
        """Tenants by id (operators only); ``after`` is the last id of the previous page."""
        condition = "gsi1pk = :p" + (" AND gsi1sk > :after" if after else "")
        values = {":p": tenants_index()} | ({":after": after} if after else {})
        result = self._db.query(TableName=self._table, IndexName="gsi1", KeyConditionExpression=condition,
                                ExpressionAttributeValues=to_item(values), Limit=limit)
        tenants = [TenantRecord.model_validate_json(from_item(i)["doc"]) for i in result.get("Items", [])]
        more = "LastEvaluatedKey" in result and len(tenants) == limit
        return tenants, tenants[-1].id if more else None

    def forget(self, tenant_id: str) -> None:
        """Drop this container's cached copy (other containers refresh within the TTL)."""
        self._tenants.pop(tenant_id, None)
        self._configs = {k: v for k, v in self._configs.items() if k[0] != tenant_id}

    def plugin_config(self, tenant: TenantRecord, plugin: str) -> BaseModel:
        """The tenant's validated config for an enabled plugin (cached with the tenant)."""
        cached = self._configs.get((tenant.id, plugin))
        if cached is None or self._now() - cached[0] > self._ttl:
            raw = tenant.plugins[plugin].config
            cached = (self._now(), self._registry.validate_config(plugin, raw))
            self._configs[(tenant.id, plugin)] = cached
        return cached[1]

    def enabled_of_kind(self, tenant: TenantRecord, kind: str) -> list[str]:
        """Names of the installed plugins of ``kind`` the tenant enabled."""
        return [name for name in tenant.enabled_plugins() if self._registry.info(name, kind)]
