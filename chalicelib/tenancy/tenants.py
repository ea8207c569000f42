"""Tenants and the plugins each one enabled.

Tenant records are read on every webhook, so they are cached per container for
``cache_seconds`` (the bound on how long a config change takes to apply).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from switchboard_sdk import Conflict, InvalidInput, NotFound, PluginRegistry

from ..storage.aws import write_together
from ..storage.conventions import RetentionDays
from ..storage.items import from_item, to_item
from ..storage.keys import tenant_record_key, tenants_index
from .workflow_settings import SurveySettings, WorkflowSettings

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the vault is passed in; its module loads with the hub part that builds it
    from ..secrets.vault import SecretVault


class PluginSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)
    # connectors: this tenant's delivery attempts before the DLQ (None: the
    # connector's declared limit, else the hub's SWITCHBOARD_MAX_DELIVERY_ATTEMPTS)
    max_delivery_attempts: int | None = Field(default=None, ge=1, le=100)


# a KMS key ARN or alias ARN (not an AWS managed key's alias, alias/aws/...: those make no data keys for us)
KMS_KEY_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]{1,128}|alias/[A-Za-z0-9/_-]{1,250})$"


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
    workflow: WorkflowSettings = Field(default_factory=WorkflowSettings)
    surveys: SurveySettings = Field(default_factory=SurveySettings)
    # --- byok (issue 15) ---
    # the tenant's own KMS key (bring-your-own-key): its personal data's data keys are made
    # under it instead of the stack's (docs/encryption.md); the stack's role must be allowed to use it
    kms_key_id: str | None = Field(default=None, max_length=300, pattern=KMS_KEY_ARN)

    @field_validator("kms_key_id")
    @classmethod
    def _customer_managed(cls, value: str | None) -> str | None:
        if value is not None and ":alias/aws/" in value:
            raise ValueError("a customer managed key (an AWS managed key's alias cannot be used)")
        return value
    # --- end byok (issue 15) ---

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
    version: int = 0  # bumped by every write; a write must name the version it read

    def enabled(self, plugin: str) -> bool:
        setting = self.plugins.get(plugin)
        return bool(setting and setting.enabled)

    def enabled_plugins(self) -> list[str]:
        return sorted(name for name, setting in self.plugins.items() if setting.enabled)


# the audit record of a change, given the record before (None: created) and as saved;
# written in the same transaction as the change
AuditHook = Callable[["TenantRecord | None", "TenantRecord"], dict[str, Any]]
WRITE_ATTEMPTS = 3


class TenantDirectory:
    """Reads and writes tenant records, with a per-container cache.

    Writes are optimistic: each names the version it read and fails if another
    writer came first, so a suspension and a plugin change made at once can
    never silently undo each other. :meth:`update` re-reads and retries."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        registry: PluginRegistry,
        vault: SecretVault,
        *,
        cache_seconds: float = 30,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = client
        self._table = table_name
        self._registry = registry
        self._vault = vault
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
        item = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return None if item is None else TenantRecord.model_validate_json(from_item(item)["doc"])

    def load(self, tenant_id: str) -> TenantRecord:
        """The stored record, read now (admin paths; the cache is left alone)."""
        tenant = self._load(tenant_id)
        if tenant is None:
            raise NotFound("unknown tenant")
        return tenant

    def create(self, tenant: TenantRecord, *, audit: AuditHook | None = None) -> TenantRecord:
        """Save a new tenant; :class:`Conflict` when the id is taken."""
        if not self._write(tenant, None, audit):
            raise Conflict(f"a tenant with id {tenant.id!r} exists")
        return self.load(tenant.id)

    def put(self, tenant: TenantRecord) -> TenantRecord:
        """Create or replace a tenant as given (seeding, tests); returns it as stored."""
        return self.update(tenant.id, lambda _: tenant, missing_ok=True)[1]

    def update(
        self, tenant_id: str, change: Callable[[TenantRecord], TenantRecord], *,
        audit: AuditHook | None = None, missing_ok: bool = False,
    ) -> tuple[TenantRecord, TenantRecord]:
        """Apply ``change`` to the stored record and save it, re-reading and retrying
        when another writer came first; returns ``(before, after)``. A change that
        changes nothing writes nothing (and audits nothing)."""
        for _ in range(WRITE_ATTEMPTS):
            stored = self._load(tenant_id)
            if stored is None and not missing_ok:
                raise NotFound("unknown tenant")
            wanted = change(stored or TenantRecord(id=tenant_id, name=tenant_id))
            if stored is not None and wanted.model_copy(update={"version": stored.version}) == stored:
                return stored, stored
            if self._write(wanted, stored, audit):
                return stored or wanted, self.load(tenant_id)
        raise Conflict("the tenant kept changing while this change was saved; try again")

    def configure(
        self, tenant_id: str, plugin: str, *, enabled: bool | None, config: dict[str, Any] | None,
        max_delivery_attempts: int | None = None, audit: AuditHook | None = None,
    ) -> tuple[TenantRecord, TenantRecord]:
        """Enable, disable or (re)configure one plugin; returns the record before and after.
        ``None`` leaves that part as it is (a first enable without a config validates ``{}``)."""
        def change(tenant: TenantRecord) -> TenantRecord:
            current = tenant.plugins.get(plugin) or PluginSetting(enabled=False)
            changes: dict[str, Any] = {"config": current.config if config is None else config}
            if enabled is not None:
                changes["enabled"] = enabled
            if max_delivery_attempts is not None:
                changes["max_delivery_attempts"] = max_delivery_attempts
            return tenant.model_copy(update={"plugins": tenant.plugins | {plugin: current.model_copy(update=changes)}})

        return self.update(tenant_id, change, audit=audit)

    def _write(self, wanted: TenantRecord, stored: TenantRecord | None, audit: AuditHook | None) -> bool:
        """One conditional write of ``wanted`` over ``stored`` (with its audit record);
        ``False`` when another writer came first. Only changed plugin configs are
        validated and sealed: the others are kept as stored."""
        plugins = {name: setting.model_copy(update={"config": self._sealed(wanted.id, name, setting, stored)})
                   for name, setting in wanted.plugins.items()}
        saved = wanted.model_copy(update={"plugins": plugins, "version": (stored.version if stored else 0) + 1})
        item = tenant_record_key(saved.id) | to_item({
            "type": "tenant", "doc": saved.model_dump_json(), "version": saved.version,
            "gsi1pk": tenants_index(), "gsi1sk": saved.id,
        })
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"} if stored is None else {
            "ConditionExpression": "version = :v OR (attribute_not_exists(version) AND :v = :zero)",
            "ExpressionAttributeValues": to_item({":v": stored.version, ":zero": 0})}
        put = {"Put": {"TableName": self._table, "Item": item, **condition}}
        if not all(write_together(self._db, [put] + ([audit(stored, saved)] if audit else []))):
            return False
        self.forget(saved.id)
        self._prune(stored, saved)
        return True

    def _sealed(
        self, tenant_id: str, plugin: str, setting: PluginSetting, stored: TenantRecord | None,
    ) -> dict[str, Any]:
        before = _stored_config(stored, plugin)
        if before is not None and setting.config == before:
            return before  # unchanged: no SSM call, no validation against a model that may have moved on
        return self._seal(tenant_id, plugin, setting, stored)

    def _prune(self, stored: TenantRecord | None, saved: TenantRecord) -> None:
        """Delete secrets no config refers to any more; best effort, after the commit."""
        for name in (stored.plugins if stored else {}):
            after = saved.plugins.get(name)
            try:
                self._vault.prune(saved.id, name, _stored_config(stored, name), after.config if after else None)
            except Exception:  # the change is saved; an orphaned parameter is only clutter
                log.warning("could not prune old secrets of %s/%s", saved.id, name, exc_info=True)

    def redacted_config(self, tenant: TenantRecord, plugin: str) -> dict[str, Any] | None:
        """The plugin's stored config as API reads show it: secrets masked."""
        setting = tenant.plugins.get(plugin)
        if setting is None or plugin not in self._registry.infos:
            return None
        return self._vault.redact(self._registry.infos[plugin].config_model, setting.config)

    def _seal(self, tenant_id: str, plugin: str, setting: PluginSetting, stored: TenantRecord | None) -> dict[str, Any]:
        info = self._registry.infos.get(plugin)
        if info is None:
            raise InvalidInput(f"no plugin named {plugin!r} is installed",
                               [{"field": f"plugins.{plugin}", "message": "not installed"}])

        def validate(raw: dict[str, Any]) -> BaseModel:
            try:
                return info.config_model.model_validate(raw)
            except ValidationError as err:
                # root="": an error about the whole config is the field "config."
                raise InvalidInput.from_validation_error(err, f"invalid config for plugin {plugin!r}",
                                                         prefix="config.", root="") from None

        return self._vault.submit(tenant_id, plugin, info.config_model, setting.config,
                                  _stored_config(stored, plugin), validate)

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
            raw = self._vault.unseal(tenant.id, plugin, tenant.plugins[plugin].config)
            cached = (self._now(), self._registry.validate_config(plugin, raw))
            self._configs[(tenant.id, plugin)] = cached
        return cached[1]

    def enabled_of_kind(self, tenant: TenantRecord, kind: str) -> list[str]:
        """Names of the installed plugins of ``kind`` the tenant enabled."""
        return [name for name in tenant.enabled_plugins() if self._registry.info(name, kind)]


def _stored_config(stored: TenantRecord | None, plugin: str) -> dict[str, Any] | None:
    setting = stored.plugins.get(plugin) if stored else None
    return setting.config if setting else None
