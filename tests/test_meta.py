"""Meta-tests: the plugin contract is documented and tested, the exported JSON
Schemas are current, and every module says what it is for."""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from switchboard_sdk import build_plugin_manager, hookspecs

from tools.schemas import rendered_schemas

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "docs" / "schemas"
SOURCE_PACKAGES = [ROOT / "chalicelib", ROOT / "tools", ROOT / "sdk" / "switchboard_sdk",
                   ROOT / "plugins" / "switchboard_plugins"]
TEST_DIRS = [ROOT / "tests", ROOT / "plugins" / "tests"]
SPEC_MARK = f"{hookspecs.PROJECT_NAME}_spec"


def _hookspecs() -> dict[str, Any]:
    return {
        name: func for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(func, SPEC_MARK)
    }


HOOKSPECS = _hookspecs()


def _firstresult(name: str) -> bool:
    return bool(getattr(HOOKSPECS[name], SPEC_MARK)["firstresult"])


def test_hookspecs_are_found() -> None:
    assert {"switchboard_plugin_info", "switchboard_channel_verify", "switchboard_connector_deliver"} <= set(
        HOOKSPECS
    )
    assert all(name.startswith("switchboard_") for name in HOOKSPECS)


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hookspec_is_documented(name: str) -> None:
    doc = inspect.getdoc(HOOKSPECS[name]) or ""
    assert ":returns:" in doc, f"{name} must document what it returns"
    flat = " ".join(doc.split())
    if _firstresult(name):
        assert "Stops at first non-None result" in flat, f"{name} is firstresult: say so"
    for param in inspect.signature(HOOKSPECS[name]).parameters:
        assert f":param {param}:" in doc, f"{name} must document its parameter {param!r}"


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hookspec_is_listed_in_the_module_docstring(name: str) -> None:
    assert name in (hookspecs.__doc__ or ""), f"add {name} to the phase list in hookspecs.py"


def _test_sources() -> dict[Path, str]:
    files = [path for directory in TEST_DIRS for path in directory.rglob("test_*.py")]
    return {path: path.read_text() for path in files if path.resolve() != Path(__file__).resolve()}


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_every_hookspec_has_a_test(name: str) -> None:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    users = [path for path, text in _test_sources().items() if pattern.search(text)]
    assert users, f"no test under tests/ or plugins/tests/ mentions {name}"


def test_exported_schemas_are_current() -> None:
    rendered = rendered_schemas()
    on_disk = {path.name: path.read_text() for path in SCHEMAS.glob("*.json")}
    assert sorted(on_disk) == sorted(rendered), "run `make schemas`"
    stale = [name for name, text in rendered.items() if on_disk[name] != text]
    assert stale == [], f"run `make schemas`: {stale} differ from the models"
    for text in on_disk.values():
        assert json.loads(text)["type"] == "object"


def _modules() -> list[Path]:
    return sorted(path for package in SOURCE_PACKAGES for path in package.rglob("*.py"))


def test_modules_are_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in _modules()}
    assert {"chalicelib/pipeline/worker.py", "sdk/switchboard_sdk/hookspecs.py",
            "plugins/switchboard_plugins/web/hooks.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_module_has_a_docstring(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert (docstring or "").strip(), f"{path.relative_to(ROOT)} needs a module docstring"


def test_every_builtin_plugin_is_documented() -> None:
    registry = build_plugin_manager()
    builtins = [ep.name for ep in entry_points(group=hookspecs.ENTRY_POINT_GROUP)
                if ep.value.startswith("switchboard_plugins.")]
    assert builtins
    folders = {"channel": "channels", "connector": "connectors", "assistant": "assistants"}
    missing = [name for name in builtins
               if not (ROOT / "docs" / folders[registry.infos[name].kind] / f"{name}.md").is_file()]
    assert missing == []


@pytest.mark.parametrize("path", sorted((ROOT / "sdk" / "switchboard_sdk").glob("*.py")), ids=lambda p: p.name)
def test_the_sdk_stands_alone(path: Path) -> None:
    """Plugin authors install only switchboard-sdk: it may not import the hub or the built-ins."""
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m.split(".")[0] in {"chalicelib", "switchboard_plugins", "app"}}


# What a webhook container runs: the app, the plugins, the deployment's settings (the
# outbound allowance unset, as in production). Then what only a delivery worker runs.
WEBHOOK_PATH = """
import sys
import app
from switchboard_sdk import build_plugin_manager
from chalicelib.settings import Settings
build_plugin_manager()
settings = Settings.from_env()
print("webhook path:", "switchboard_sdk.netguard" in sys.modules)
from switchboard_sdk import OutboundPolicy
assert settings.outbound_policy == OutboundPolicy()
print("outbound call:", "switchboard_sdk.netguard" in sys.modules)
"""


def test_netguard_loads_only_when_an_outbound_policy_is_used() -> None:
    """switchboard_sdk.netguard costs ~8 ms at import and only outbound calls need it."""
    env = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_OUTBOUND_ALLOW"}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result = subprocess.run([sys.executable, "-c", WEBHOOK_PATH], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["webhook path: False", "outbound call: True"]
