"""Every built-in plugin has the one layout a third-party plugin copies (docs/plugins.md,
"Layout"), so readers find the same thing in the same place in each of them."""

from __future__ import annotations

import ast
import importlib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from switchboard_sdk import ENTRY_POINT_GROUP, build_plugin_manager

REQUIRED = {
    "channel": {"__init__", "config", "hooks", "verify", "parse", "respond", "send"},
    "connector": {"__init__", "config", "hooks", "client", "deliver"},
    "assistant": {"__init__", "config", "hooks", "training", "model"},
}
MAX_MODULE_LINES = 400
BUILTINS = sorted(
    (ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.value.startswith("switchboard_plugins.")
)


def package_dir(value: str) -> Path:
    module = importlib.import_module(value.partition(":")[0])
    assert module.__file__ is not None
    return Path(module.__file__).parent


def test_the_builtins_are_found() -> None:
    assert {name for name, _ in BUILTINS} == {
        "web", "twilio", "wechat", "email", "webhook", "hubspot", "salesforce", "odoo", "widget", "faq"
    }


@pytest.mark.parametrize(("name", "value"), BUILTINS)
def test_the_entry_point_is_the_packages_plugin(name: str, value: str) -> None:
    assert value == f"switchboard_plugins.{name}:plugin"
    assert package_dir(value).name == name


@pytest.mark.parametrize(("name", "value"), BUILTINS)
def test_each_plugin_has_the_modules_of_its_kind(name: str, value: str) -> None:
    kind = build_plugin_manager(allowlist={name}).infos[name].kind
    modules = {path.stem for path in package_dir(value).glob("*.py")}
    assert REQUIRED[kind] <= modules, f"{name} ({kind}) lacks {sorted(REQUIRED[kind] - modules)}"


@pytest.mark.parametrize(("name", "value"), BUILTINS)
def test_the_package_exports_only_its_plugin_object(name: str, value: str) -> None:
    package = importlib.import_module(value.partition(":")[0])
    assert package.__all__ == ["plugin"]
    assert type(package.plugin).__module__ == f"switchboard_plugins.{name}.hooks"
    tree = ast.parse((package_dir(value) / "__init__.py").read_text())
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert [(node.module, [alias.name for alias in node.names]) for node in imports] == [("hooks", ["plugin"])]


@pytest.mark.parametrize(("name", "value"), BUILTINS)
def test_modules_stay_small(name: str, value: str) -> None:
    long = {path.name: n for path in package_dir(value).glob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}
