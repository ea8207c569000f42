"""Tenants, the plugins each one enabled, and their API keys.

Tenant records are read on every webhook, so they are cached per container for
``cache_seconds`` (the bound on how long a config change takes to apply).
API keys look like ``sbk_<key id>_<secret>``: the key id finds the record with
one GetItem and only a SHA-256 of the secret is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator
from switchboard_sdk import NotFound, PluginConfigError, PluginRegistry, Unauthorized

from .ids import random_token
from .items import from_item, to_item
from .keys import KEY_ID, api_key_record_key, tenant_record_key
from .store import iso

KEY_PREFIX = "sbk"
Scope = Literal["platform-admin", "tenant-admin", "agent", "read-only"]


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


class ApiKey(BaseModel):
    key_id: str
    tenant_id: str
    scopes: list[Scope]


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

    def put(self, tenant: TenantRecord) -> None:
        """Save a tenant after validating every enabled plugin's config."""
        for name, setting in tenant.plugins.items():
            if name not in self._registry.infos:
                raise PluginConfigError(f"no plugin named {name!r} is installed")
            self._registry.validate_config(name, setting.config)
        item = tenant_record_key(tenant.id) | to_item({"type": "tenant", "doc": tenant.model_dump_json()})
        self._db.put_item(TableName=self._table, Item=item)
        self.forget(tenant.id)

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

    # -- API keys ---------------------------------------------------------------

    def create_api_key(self, tenant_id: str, scopes: list[Scope], now: datetime) -> str:
        """Issue a key; the returned plain key is shown once and never stored."""
        key_id, secret = secrets.token_hex(8), random_token(24)
        item = api_key_record_key(key_id) | to_item({
            "type": "apikey", "key_id": key_id, "tenant_id": tenant_id, "scopes": scopes,
            "secret_sha256": _digest(secret), "created_at": iso(now),
        })
        self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        return f"{KEY_PREFIX}_{key_id}_{secret}"

    def authenticate(self, authorization: str | None) -> ApiKey:
        """Resolve ``Authorization: Bearer sbk_...`` to its key; :class:`Unauthorized` otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        prefix, _, rest = token.strip().partition("_")
        key_id, _, secret = rest.partition("_")
        if scheme.lower() != "bearer" or prefix != KEY_PREFIX or not KEY_ID.fullmatch(key_id) or not secret:
            raise Unauthorized("a valid API key is required: Authorization: Bearer sbk_...")
        item = self._db.get_item(TableName=self._table, Key=api_key_record_key(key_id)).get("Item")
        record = from_item(item) if item else None
        if record is None or record.get("revoked") or not hmac.compare_digest(
            record["secret_sha256"], _digest(secret)
        ):
            raise Unauthorized("a valid API key is required: Authorization: Bearer sbk_...")
        return ApiKey(key_id=key_id, tenant_id=record["tenant_id"], scopes=record["scopes"])


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
