"""The tenant's trained model at run time, cached in the container (``hub.assistant_models``).

:meth:`AssistantModels.current` is what the answering function asks for each message.
It costs no AWS call when the tenant has no assistant (the tenant record is the tenant
directory's cached one), one ``GetItem`` of the model pointer at most every
``pointer_seconds`` per tenant, and one S3 ``GetObject`` plus the plugin's
``switchboard_assistant_load`` once per model version. A retrained model is picked up
within ``pointer_seconds``; until then the previous one keeps answering. Pointer and
object are both immutable per version, so a reader always holds one whole model.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard_sdk import NotFound, PluginRegistry
from switchboard_sdk.assistant import AssistantConfig

from ..tenancy.tenants import TenantDirectory, TenantRecord
from .training_state import ModelPointer, ModelRecords

ASSISTANT = "assistant"  # the plugin kind


@dataclass(frozen=True)
class CurrentModel:
    """A tenant's model, ready: ``handle`` is what the plugin's load hook returned;
    ``threshold`` the effective one (the tenant's override, else the trained one);
    ``version`` the knowledge version it was trained from."""

    plugin: str
    config: AssistantConfig
    handle: object
    threshold: float
    version: int
    pointer: ModelPointer


def enabled_assistant(tenants: TenantDirectory, tenant: TenantRecord) -> str | None:
    """The tenant's enabled assistant plugin (the first by name when several are), or ``None``."""
    names = tenants.enabled_of_kind(tenant, ASSISTANT)
    return names[0] if names else None


def assistant_config(tenants: TenantDirectory, tenant: TenantRecord, plugin: str) -> AssistantConfig:
    config = tenants.plugin_config(tenant, plugin)
    if not isinstance(config, AssistantConfig):
        raise TypeError(f"plugin {plugin!r}: its config model must subclass AssistantConfig")
    return config


class AssistantModels:
    """Per container: each tenant's pointer (re-read after ``pointer_seconds``) and its
    loaded model (kept while the pointer names the same object)."""

    def __init__(self, tenants: TenantDirectory, registry: PluginRegistry, records: Callable[[str], ModelRecords],
                 s3: Any, bucket: str, *, pointer_seconds: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._tenants = tenants
        self._registry = registry
        self._records = records
        self._s3 = s3
        self._bucket = bucket
        self._ttl = pointer_seconds
        self._now = monotonic
        self._pointers: dict[str, tuple[float, ModelPointer | None]] = {}
        self._loaded: dict[str, tuple[str, object]] = {}  # tenant → (object key, handle)
        self._lock = threading.Lock()

    def enabled(self, tenant_id: str) -> bool:
        """Whether the tenant has an assistant enabled (the cached tenant record; no other call)."""
        try:
            tenant = self._tenants.get(tenant_id)
        except NotFound:
            return False
        return tenant.status == "active" and enabled_assistant(self._tenants, tenant) is not None

    def trained_config(self, tenant_id: str) -> AssistantConfig | None:
        """The tenant's assistant config when it has a model trained by that assistant, without
        loading the model: what the stream function asks (holding a ticket), so it never pays
        for the plugin's imports or the model's memory. ``None``: nothing would answer."""
        trained = self._trained(tenant_id)
        return None if trained is None else trained[1]

    def current(self, tenant_id: str) -> CurrentModel | None:
        """The tenant's model, or ``None``: no assistant enabled, or none trained for it yet."""
        trained = self._trained(tenant_id)
        if trained is None:
            return None
        pointer, config = trained
        handle = self._handle(tenant_id, pointer, config)
        threshold = config.threshold if config.threshold is not None else pointer.threshold
        return CurrentModel(plugin=pointer.plugin, config=config, handle=handle, threshold=threshold,
                            version=pointer.knowledge_version, pointer=pointer)

    def _trained(self, tenant_id: str) -> tuple[ModelPointer, AssistantConfig] | None:
        """The model pointer and config of the tenant's enabled assistant, when that assistant
        trained the model the pointer names (a model another assistant trained does not fit)."""
        if not self.enabled(tenant_id):
            return None
        tenant = self._tenants.get(tenant_id)
        plugin = enabled_assistant(self._tenants, tenant)
        pointer = self._pointer(tenant_id)
        if plugin is None or pointer is None or pointer.plugin != plugin:
            return None
        return pointer, assistant_config(self._tenants, tenant, plugin)

    def forget(self, tenant_id: str) -> None:
        """Drop this container's copy (tests, and the trainer after a swap)."""
        with self._lock:
            self._pointers.pop(tenant_id, None)
            self._loaded.pop(tenant_id, None)

    def _pointer(self, tenant_id: str) -> ModelPointer | None:
        cached = self._pointers.get(tenant_id)
        if cached is None or self._now() - cached[0] > self._ttl:
            cached = (self._now(), self._records(tenant_id).pointer(consistent=False))
            with self._lock:
                self._pointers[tenant_id] = cached
        return cached[1]

    def _handle(self, tenant_id: str, pointer: ModelPointer, config: AssistantConfig) -> object:
        loaded = self._loaded.get(tenant_id)
        if loaded is not None and loaded[0] == pointer.object_key:
            return loaded[1]
        data = self._s3.get_object(Bucket=self._bucket, Key=pointer.object_key)["Body"].read()
        if hashlib.sha256(data).hexdigest() != pointer.sha256:
            raise ValueError(f"model object {pointer.object_key} does not match its pointer's digest")
        handle = self._registry.load_model(pointer.plugin, data, config)
        with self._lock:
            self._loaded[tenant_id] = (pointer.object_key, handle)
        return handle
