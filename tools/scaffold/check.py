"""``switchboard plugins check``: load every installed plugin as the hub does at start-up.

Offline: it needs neither a running hub nor AWS, only the Python environment the hub
would run from. The hub's start-up (``build_plugin_manager`` with ``SWITCHBOARD_PLUGINS``)
stops at the first bad plugin; so each plugin is first loaded on its own, which gives
every plugin its row and its own problem, and then all of them together, exactly as
the hub does, which also catches what only shows in company (two plugins of one name).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from switchboard_sdk.errors import PluginConfigError
from switchboard_sdk.hookspecs import CONTRACT_VERSION, ENTRY_POINT_GROUP
from switchboard_sdk.registry import ALLOWLIST_ENV, ContractWarning, build_plugin_manager, parse_allowlist

COLUMNS = ("name", "kind", "version", "contract", "distribution", "status")


@dataclass(frozen=True)
class PluginRow:
    """One installed plugin (one entry point) and how it fared."""

    name: str
    distribution: str
    kind: str = "-"
    version: str = "-"
    contract: str = "-"
    status: str = "ok"  # ok, warning or refused
    detail: str = ""  # the warning or the refusal, in the registry's words


@dataclass(frozen=True)
class CheckReport:
    """Every row, and each problem (the hub would refuse to start, or start without a
    plugin it was told to load) or warning (it would start)."""

    allowlist: frozenset[str] | None
    rows: list[PluginRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "contract_version": CONTRACT_VERSION,
            "allowlist": sorted(self.allowlist) if self.allowlist is not None else None,
            "plugins": [asdict(row) for row in self.rows],
            "problems": self.problems,
            "warnings": self.warnings,
        }


def _distribution(ep: EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist is not None else "(unknown distribution)"


def _build(allowlist: Collection[str] | None) -> tuple[Any, list[str]]:
    """``build_plugin_manager`` as the hub calls it, with its contract warnings collected."""
    with warnings.catch_warnings(record=True) as caught:
        # appended, so a filter the operator set (PYTHONWARNINGS=error::...ContractWarning,
        # fatal in the hub too) still wins; "always" so the second plugin's warning is not
        # swallowed as a repeat of the first one's
        warnings.simplefilter("always", ContractWarning, append=True)
        registry = build_plugin_manager(allowlist=allowlist)
    return registry, [str(w.message) for w in caught if issubclass(w.category, ContractWarning)]


def _refusal(err: Exception) -> str:
    # PluginConfigError carries the registry's message; anything else is a plugin that
    # would crash the hub's start-up with that exception, so its type is named too
    return str(err) if isinstance(err, PluginConfigError) else f"{type(err).__name__}: {err}"


def check_one(ep: EntryPoint) -> PluginRow:
    """Load the plugin ``ep`` publishes as the hub would if it were the only one allowed."""
    try:
        registry, warned = _build({ep.name})
    except Exception as err:  # a broken third-party plugin must be reported, not crash the check
        return PluginRow(ep.name, _distribution(ep), status="refused", detail=_refusal(err))
    info = registry.infos[ep.name]
    return PluginRow(ep.name, _distribution(ep), info.kind, info.version, info.contract_version,
                     status="warning" if warned else "ok", detail="; ".join(warned))


def check_installed(env: Mapping[str, str] | None = None) -> CheckReport:
    """Check every plugin the hub would load with ``env``'s ``SWITCHBOARD_PLUGINS``
    (default: this process's environment)."""
    allowlist = parse_allowlist((os.environ if env is None else env).get(ALLOWLIST_ENV))
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if allowlist is None or ep.name in allowlist]
    rows = sorted((check_one(ep) for ep in found), key=lambda row: (row.name, row.distribution))
    report = CheckReport(allowlist, rows=rows)
    for row in report.rows:
        if row.status == "refused":
            report.problems.append(f"{row.name}: {row.detail}")
        elif row.status == "warning":
            report.warnings.append(f"{row.name}: {row.detail}")
    for name in sorted((allowlist or set()) - {ep.name for ep in found}):
        # the hub starts without it, and every tenant that enables it is refused
        report.problems.append(
            f"{ALLOWLIST_ENV} names {name!r}, but no installed distribution publishes a plugin of that name "
            f"(entry-point group {ENTRY_POINT_GROUP!r})"
        )
    if not found and allowlist is None:
        report.problems.append(f"no plugin is installed (entry-point group {ENTRY_POINT_GROUP!r})")
    if not any(row.status == "refused" for row in report.rows):
        try:
            _build(allowlist)  # all together, as the hub starts
        except Exception as err:  # e.g. two distributions publishing one name
            report.problems.append(f"the hub's start-up fails: {_refusal(err)}")
    return report
