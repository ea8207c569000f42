"""Tenant plugin secrets in AWS SSM Parameter Store (SecureString); see docs/secrets.md.

The tenant table never holds a secret. A plugin config is stored *sealed*: each
secret (found from the config model's types, :mod:`.slots`) replaced by a
reference to one SSM parameter version (:mod:`.refs`). Parameters live
under ``<prefix>/tenants/<tenant>/<plugin>/``: ``<field>`` for a single secret
(overwritten, so each change is a new version) and ``<field>/<id>`` per element
of a list of secrets. A reference names its version, so the table and SSM agree
even if a write failed half-way. Saving a config (``TenantDirectory.put``)::

    draft = vault.merge_kept(tenant, plugin, model_cls, incoming, stored)
    config = registry.validate_config(plugin, draft.raw)   # real values, never stored
    sealed = vault.seal(draft, config)     # PutParameter for changed secrets only
    ...write the tenant record holding ``sealed``...
    vault.prune(tenant, plugin, stored, sealed)             # drop unreferenced parameters

Reading: ``vault.unseal(tenant, plugin, sealed)`` gives the raw config to validate;
API reads show ``vault.redact(model_cls, sealed)``. Secret values never appear in
an error message, a ``repr`` or a log line.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from switchboard_sdk import InvalidInput, PluginConfigError

from ..storage.aws import error_code
from ..storage.conventions import iso, utc_now
from ..storage.keys import valid_tenant_id
from .merge import (
    MISSING,
    Entry,
    Keys,
    dig,
    incoming_entries,
    mask_plain,
    model_values,
    put,
    rotate,
    same,
    stored_items,
    with_values,
    without_slots,
)
from .refs import DROP, SecretRef, marker, rebuild, references, refuse_references
from .slots import SecretSlot, secret_slots

DEFAULT_GRACE = timedelta(hours=24)
BATCH = 10  # GetParameters and DeleteParameters take at most ten names
MAX_VALUE_BYTES = 4096  # a standard-tier parameter
_PLUGIN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_PREFIX = re.compile(r"(/[A-Za-z0-9_.-]+)+")
_NAME = re.compile(r"[A-Za-z0-9_./-]{1,1011}")
_DOTS = re.compile(r"/\.{0,2}(/|$)")  # empty, "." or ".." segments: not names we write


@dataclass(frozen=True)
class Draft:
    """A config being saved. ``raw`` holds the real secret values, for
    ``validate_config`` only: never store, return or log it."""

    tenant_id: str
    plugin: str
    model: type[BaseModel]
    raw: dict[str, Any] = field(repr=False)
    entries: dict[Keys, list[Entry] | None] = field(repr=False)


class SecretVault:
    """Seals, unseals, redacts and erases tenant plugin secrets in SSM."""

    def __init__(
        self,
        ssm: Any,
        *,
        prefix: str = "/switchboard",
        clock: Callable[[], datetime] = utc_now,
        grace: timedelta = DEFAULT_GRACE,
        kms_key_id: str | None = None,
    ) -> None:
        if not _PREFIX.fullmatch(prefix) or prefix.lower().startswith(("/aws", "/ssm")):
            raise ValueError("prefix must look like /switchboard (no trailing slash, not /aws or /ssm)")
        self._ssm = ssm
        self._prefix = prefix
        self._clock = clock
        self._grace = grace
        self._kms_key_id = kms_key_id

    def path(self, tenant_id: str, plugin: str | None = None) -> str:
        """The parameter path of a tenant, or of one of its plugins."""
        if not valid_tenant_id(tenant_id) or (plugin is not None and not _PLUGIN.fullmatch(plugin)):
            raise InvalidInput("not a valid tenant id or plugin name")
        base = f"{self._prefix}/tenants/{tenant_id}"
        return base if plugin is None else f"{base}/{plugin}"

    # -- saving ----------------------------------------------------------------------

    def merge_kept(
        self,
        tenant_id: str,
        plugin: str,
        model: type[BaseModel],
        incoming: dict[str, Any],
        stored: dict[str, Any] | None,
        *,
        grace: timedelta | None = None,
    ) -> Draft:
        """Resolve what the admin sent against the stored, sealed config.

        At a secret field, a marker (``"**********"``, the object :meth:`redact`
        shows, or the stored reference) keeps the stored secret; a value equal to
        the stored one is kept too. A secret the config no longer holds moves into
        its rotation field until ``now + grace`` (default: the vault's; zero drops
        it at once). :class:`InvalidInput` when a marker has nothing to keep.
        """
        base = self.path(tenant_id, plugin)
        slots = secret_slots(model)
        refuse_references(without_slots(incoming, slots), where="config")
        held = self._held(base, slots, stored or {})
        errors: list[dict[str, str]] = []
        entries = {s.keys: incoming_entries(s, dig(incoming, s.keys), held[s.keys], errors) for s in slots}
        if errors:
            raise InvalidInput("a secret marked as kept has no stored value; send the secret", fields=errors)
        window = self._grace if grace is None else grace
        until = iso(self._clock() + window) if window > timedelta(0) else None
        rotate(slots, entries, held, until)
        return Draft(tenant_id, plugin, model, with_values(incoming, slots, entries), entries)

    def seal(self, draft: Draft, config: BaseModel) -> dict[str, Any]:
        """Write changed secrets of the validated ``config`` to SSM; return the
        table-safe config, each secret replaced by its reference."""
        if not isinstance(config, draft.model):
            raise PluginConfigError(f"cannot seal a {type(config).__name__} drafted as {draft.model.__name__}")
        base, now = self.path(draft.tenant_id, draft.plugin), iso(self._clock())
        sealed = copy.deepcopy(draft.raw)
        for slot in secret_slots(draft.model):
            entries, values = draft.entries.get(slot.keys), model_values(config, slot)
            if entries is None or len(entries) != len(values):
                raise PluginConfigError(f"config field {slot.label} changed shape during validation")
            refs = [self._stored(base, slot, e, v, now) for e, v in zip(entries, values, strict=True)]
            if refs or dig(sealed, slot.keys) is not MISSING:
                as_json = [r.to_json() for r in refs]
                put(sealed, slot.keys, as_json if slot.many else (as_json[0] if as_json else None))
        return sealed

    def submit(
        self,
        tenant_id: str,
        plugin: str,
        model: type[BaseModel],
        incoming: dict[str, Any],
        stored: dict[str, Any] | None,
        validate: Callable[[dict[str, Any]], BaseModel],
        *,
        grace: timedelta | None = None,
    ) -> dict[str, Any]:
        """:meth:`merge_kept`, ``validate`` (e.g. ``registry.validate_config``) and :meth:`seal` in one call."""
        draft = self.merge_kept(tenant_id, plugin, model, incoming, stored, grace=grace)
        return self.seal(draft, validate(draft.raw))

    def prune(self, tenant_id: str, plugin: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
        """Delete the parameters ``before`` referenced and ``after`` does not;
        call once the record holding ``after`` is written. Returns how many."""
        base = self.path(tenant_id, plugin)
        kept = {ref.name for _, ref in self._references(base, after or {})}
        gone = {ref.name for _, ref in self._references(base, before or {})} - kept
        return self._delete(sorted(gone))

    # -- reading -----------------------------------------------------------------------

    def unseal(self, tenant_id: str, plugin: str, sealed: dict[str, Any]) -> dict[str, Any]:
        """The raw config with real secret values (one GetParameters call per ten
        secrets); secrets past their grace are left out."""
        base, now = self.path(tenant_id, plugin), self._clock()
        live = {where: ref for where, ref in self._references(base, sealed) if not ref.expired(now)}
        values = self._fetch(live)

        def swap(node: dict[str, Any], where: str) -> Any:
            return values[where] if where in live else DROP

        result: dict[str, Any] = rebuild(sealed, swap)
        return result

    def redact(self, model: type[BaseModel], sealed: dict[str, Any]) -> dict[str, Any]:
        """What API reads show: each secret as a marker object (sending it back
        keeps the secret), expired ones left out. Never reads SSM."""
        now = self._clock()
        list_slots = {slot.label for slot in secret_slots(model) if slot.many}

        def swap(node: dict[str, Any], where: str) -> Any:
            ref = SecretRef.from_json(node, where)
            return DROP if ref.expired(now) else marker(ref, with_id=where.rpartition("[")[0] in list_slots)

        shown: dict[str, Any] = rebuild(sealed, swap)
        for slot in secret_slots(model):  # a value stored before the vault existed
            mask_plain(shown, slot)
        return shown

    # -- erasing -------------------------------------------------------------------------

    def erase(self, tenant_id: str, plugin: str | None = None) -> int:
        """Delete every parameter of the tenant, or of one of its plugins. Returns how many."""
        base = self.path(tenant_id, plugin)
        names: list[str] = []
        page: dict[str, Any] = {"Path": base, "Recursive": True, "WithDecryption": False}
        while True:
            answer = self._call("get_parameters_by_path", f"the secret store could not list {base}", **page)
            names.extend(p["Name"] for p in answer["Parameters"] if p["Name"].startswith(base + "/"))
            if not answer.get("NextToken"):
                return self._delete(sorted(names))
            page["NextToken"] = answer["NextToken"]

    # -- SSM -------------------------------------------------------------------------------

    def _references(self, base: str, sealed: dict[str, Any]) -> list[tuple[str, SecretRef]]:
        """Every reference in ``sealed``, refusing one outside ``base`` (another
        tenant's or plugin's parameter): tenant scoping is enforced here."""
        found = [(where, SecretRef.from_json(node, where)) for where, node in references(sealed)]
        for where, ref in found:
            if not (_NAME.fullmatch(ref.name) and ref.name.startswith(base + "/")) or _DOTS.search(ref.name):
                raise PluginConfigError(f"config field {where} refers to a secret outside this tenant's store")
        return found

    def _held(self, base: str, slots: Iterable[SecretSlot], stored: dict[str, Any]) -> dict[Keys, list[Entry]]:
        """The stored secrets per slot, with their values (expired ones left out)."""
        now = self._clock()
        by_slot = {slot.keys: stored_items(slot, stored) for slot in slots}
        refs = {where: ref for where, ref in self._references(base, stored) if not ref.expired(now)}
        values = self._fetch(refs)
        held: dict[Keys, list[Entry]] = {}
        for keys, items in by_slot.items():
            held[keys] = [
                Entry(values[where], ref, ref.grace_until) if (ref := refs.get(where)) else Entry(item)
                for where, item in items
                if isinstance(item, str) or where in refs
            ]
        return held

    def _fetch(self, refs: dict[str, SecretRef]) -> dict[str, str]:
        """Location → value, reading each ``name:version`` once, ten per call."""
        wanted = sorted({ref.selector for ref in refs.values()})
        found: dict[str, str] = {}
        for start in range(0, len(wanted), BATCH):
            names = wanted[start : start + BATCH]
            answer = self._call("get_parameters", "the secret store could not be read", Names=names,
                                WithDecryption=True)
            found.update({f"{p['Name']}:{p['Version']}": p["Value"] for p in answer["Parameters"]})
        missing = sorted(where for where, ref in refs.items() if ref.selector not in found)
        if missing:
            raise PluginConfigError(f"the secret store has no value for config field(s) {', '.join(missing)}")
        return {where: found[ref.selector] for where, ref in refs.items()}

    def _stored(self, base: str, slot: SecretSlot, entry: Entry, value: str, now: str) -> SecretRef:
        """The reference for one validated secret, writing it only when it changed."""
        if entry.ref is not None and same(entry.value, value):
            return replace(entry.ref, grace_until=entry.grace_until)
        name = "/".join((base, *slot.keys)) + (f"/{secrets.token_hex(6)}" if slot.many else "")
        return SecretRef(name, self._write(name, value, slot.label), now, entry.grace_until)

    def _write(self, name: str, value: str, label: str) -> int:
        if len(value.encode()) > MAX_VALUE_BYTES:
            fields = [{"field": f"config.{label}", "message": f"longer than {MAX_VALUE_BYTES} bytes"}]
            raise InvalidInput("a secret is too long for the secret store", fields=fields)
        extra = {"KeyId": self._kms_key_id} if self._kms_key_id else {}
        answer = self._call(
            "put_parameter", f"the secret store refused config field {label}", quotes_values=True,
            Name=name, Value=value, Type="SecureString", Overwrite=True, Tier="Standard", **extra,
        )
        return int(answer["Version"])

    def _delete(self, names: list[str]) -> int:
        for start in range(0, len(names), BATCH):
            self._call("delete_parameters", "the secret store refused a delete", Names=names[start : start + BATCH])
        return len(names)

    def _call(self, operation: str, failure: str, *, quotes_values: bool = False, **params: Any) -> Any:
        """One SSM call; an AWS error becomes :class:`PluginConfigError` with its code
        only (AWS messages may quote values), anything else is a bug and passes."""
        try:
            return getattr(self._ssm, operation)(**params)
        except Exception as err:
            if not type(err).__module__.startswith("botocore"):
                raise
            error = PluginConfigError(f"{failure} ({error_code(err) or type(err).__name__})")
            if quotes_values:  # not chained: the cause would carry the value into logs
                raise error from None
            raise error from err



