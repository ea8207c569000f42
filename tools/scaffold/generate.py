"""``switchboard plugin new``: write a standalone plugin package from ``templates/``.

``templates/common/`` holds what every plugin has (``pyproject.toml``, ``py.typed``),
``templates/<kind>/`` the modules, tests and README of a channel, a connector or an assistant. In
their paths ``package`` becomes the import package and ``NAME`` the plugin's name; a
``.tmpl`` file is filled with :class:`string.Template` (``$name``, ``$package``, ...;
Python's braces stay untouched), any other file is copied as it is.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import entry_points
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from string import Template

from switchboard_sdk.hookspecs import CONTRACT_VERSION, ENTRY_POINT_GROUP

KINDS = ("channel", "connector", "assistant")
TEMPLATE_SUFFIX = ".tmpl"
# a lower-case Python identifier that the hub's registry also takes as a plugin name
# (it allows [a-z][a-z0-9_-]{0,31}; the hyphen is left out because the name is part
# of the import package's name)
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
SUMMARIES = {
    "channel": "Signed JSON messages, verified with HMAC-SHA256",
    "connector": "POST every event as JSON to a URL",
    "assistant": "Answers from the knowledge base by keyword overlap",
}


class ScaffoldError(ValueError):
    """The plugin cannot be generated as asked; the message says why."""


@dataclass(frozen=True)
class Names:
    """Every name the templates use, derived from the plugin's name."""

    name: str  # PluginInfo.name and the entry-point name
    package: str  # the import package
    distribution: str  # the name pip installs: switchboard-plugin-acme-chat
    class_prefix: str  # AcmeChat for acme_chat

    @classmethod
    def of(cls, name: str) -> Names:
        # the package is prefixed so a plugin named like a module (email, json, http)
        # cannot shadow it once installed
        return cls(
            name=name,
            package=f"switchboard_plugin_{name}",
            distribution="switchboard-plugin-" + name.replace("_", "-"),  # as pip spells it (PEP 503)
            class_prefix="".join(part.capitalize() for part in name.split("_")),
        )


def installed_plugins() -> dict[str, str]:
    """Names of the plugins installed here (built-ins included), each with its distribution."""
    found: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.dist.name if ep.dist is not None else "an unknown distribution"
    return found


def check_name(name: str, taken: Mapping[str, str]) -> None:
    """Raise :class:`ScaffoldError` unless ``name`` can be a new plugin's name; ``taken``
    maps the names already in use to their distributions."""
    if not NAME_PATTERN.fullmatch(name):
        raise ScaffoldError(
            f"plugin name {name!r} must be a lower-case Python identifier of at most 32 characters, "
            "starting with a letter (a-z, 0-9 and _; e.g. acme_chat)"
        )
    if name in taken:
        # the hub refuses to start with two plugins of one name
        raise ScaffoldError(f"{name!r} is already the name of an installed plugin (distribution {taken[name]}); "
                            "choose another name")


def substitutions(kind: str, names: Names, contract_version: str) -> dict[str, str]:
    """The values of the templates' ``$`` placeholders."""
    major, minor = (int(part) for part in contract_version.split("."))
    specifier = f">={major}.{minor},<{major + 1}"  # any SDK implementing a 1.x contract at least this new
    return {
        "name": names.name,
        "package": names.package,
        "distribution": names.distribution,
        "class_prefix": names.class_prefix,
        "kind": kind,
        "summary": SUMMARIES[kind],
        "contract_version": contract_version,
        "contract_major": str(major),
        "sdk_specifier": specifier,
        "sdk_requirement": f"switchboard-sdk{specifier}",
    }


def _files(root: Traversable, prefix: PurePosixPath | None = None) -> Iterator[tuple[PurePosixPath, Traversable]]:
    prefix = prefix or PurePosixPath()
    for entry in sorted(root.iterdir(), key=lambda item: item.name):
        if entry.is_dir():
            yield from _files(entry, prefix / entry.name)
        else:
            yield prefix / entry.name, entry


def render(kind: str, names: Names, contract_version: str = CONTRACT_VERSION) -> dict[PurePosixPath, str]:
    """The generated project: relative path → content, nothing written."""
    if kind not in KINDS:
        raise ScaffoldError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    templates = resources.files(__package__) / "templates"
    values = substitutions(kind, names, contract_version)
    project: dict[PurePosixPath, str] = {}
    for part in ("common", kind):
        for relative, source in _files(templates / part):
            parts = [names.package if p == "package" else p.replace("NAME", names.name) for p in relative.parts]
            target = PurePosixPath(*parts)
            text = source.read_text(encoding="utf-8")
            if target.suffix == TEMPLATE_SUFFIX:
                target = target.with_suffix("")
                try:
                    text = Template(text).substitute(values)
                except (KeyError, ValueError) as err:  # a template bug: name the file
                    raise ScaffoldError(f"template {part}/{relative} has a bad placeholder: {err}") from None
            project[target] = text
    return project


def generate(
    name: str,
    kind: str,
    directory: Path | None = None,
    *,
    taken: Mapping[str, str] | None = None,
    contract_version: str = CONTRACT_VERSION,
) -> Path:
    """Write a new ``kind`` plugin named ``name`` into ``directory`` (default
    ``./<distribution>``, e.g. ``./switchboard-plugin-acme-chat``) and return it. Refuses an invalid or taken name
    and a ``directory`` that exists and is not empty; writes all files or none."""
    check_name(name, installed_plugins() if taken is None else taken)
    names = Names.of(name)
    target = Path(directory) if directory is not None else Path.cwd() / names.distribution
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists; refusing to overwrite it (choose another --dir)")
    project = render(kind, names, contract_version)
    target.parent.mkdir(parents=True, exist_ok=True)
    # written beside the target and renamed into place, so a failure leaves nothing half-made
    staging = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        for relative, text in project.items():
            path = staging.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
