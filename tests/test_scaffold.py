"""`switchboard plugin new`: the generated packages have the built-ins' layout, install
with pip, pass their own tests (the SDK's conformance suites among them), and load in
the hub through their entry points.

The install is the cheapest sound one: ``pip install --no-deps --no-build-isolation
--target`` of every generated project into one directory (no network: setuptools comes
from this venv), which then goes on ``PYTHONPATH`` of subprocesses, where
importlib.metadata finds its ``*.dist-info`` like any installed distribution's.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import pytest
from click.testing import CliRunner
from switchboard_sdk import CONTRACT_VERSION

from tools.cli import main
from tools.scaffold.generate import Names, ScaffoldError, check_name, generate, installed_plugins, render

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = {"channel": "acme_chat", "connector": "acme_crm", "assistant": "acme_bot"}
LAYOUT = {  # the modules plugins/tests/test_layout.py requires of the built-ins; a channel that answers has send
    "channel": {"__init__", "config", "hooks", "verify", "parse", "respond", "send"},
    "connector": {"__init__", "config", "hooks", "client", "deliver"},
    "assistant": {"__init__", "config", "hooks", "model"},
}
PLACEHOLDER = re.compile(r"\$\{?[A-Za-z_]")
HUB_LOAD = """
import json, warnings
from switchboard_sdk import ContractWarning, build_plugin_manager
warnings.simplefilter("error", ContractWarning)  # a plugin the hub would warn about fails here
registry = build_plugin_manager()  # discovery by entry point, as the hub starts
print(json.dumps({name: [info.kind, info.contract_version, info.config_model.__module__]
                  for name, info in registry.infos.items()}))
"""


@dataclass(frozen=True)
class Installed:
    projects: dict[str, Path]  # kind -> generated project
    site: Path  # where pip installed them

    def env(self) -> dict[str, str]:
        """This environment plus the install, minus the hub tests' settings (the generated
        tests must not depend on them)."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("SWITCHBOARD_OUTBOUND_ALLOW", "SWITCHBOARD_PLUGINS", "PYTEST_ADDOPTS")}
        return env | {"PYTHONPATH": str(self.site)}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("scaffold")
    projects = {kind: generate(name, kind, base / f"switchboard-plugin-{name}") for kind, name in PLUGINS.items()}
    site = base / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), *map(str, projects.values())],
        capture_output=True, text=True, check=False, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Installed(projects, site)


# -- what is generated -------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(PLUGINS))
def test_the_package_has_the_builtins_layout(kind: str) -> None:
    names = Names.of(PLUGINS[kind])
    project = render(kind, names)
    package = {path.stem for path in project if path.parent == PurePosixPath(names.package) and path.suffix == ".py"}
    assert package == LAYOUT[kind]
    assert PurePosixPath(names.package, "py.typed") in project
    assert {PurePosixPath("pyproject.toml"), PurePosixPath("README.md"),
            PurePosixPath("tests", f"test_{names.name}.py")} <= set(project)
    init = ast.parse(project[PurePosixPath(names.package, "__init__.py")])
    imports = [(getattr(node, "module", None), [alias.name for alias in node.names]) for node in init.body
               if isinstance(node, ast.Import | ast.ImportFrom)]
    assert imports == [("hooks", ["plugin"])]
    assert [ast.unparse(node) for node in init.body if isinstance(node, ast.Assign)] == ["__all__ = ['plugin']"]
    for path, text in project.items():
        assert not PLACEHOLDER.search(text), f"{path} keeps a template placeholder"
        if path.suffix == ".py":
            ast.parse(text, str(path))


@pytest.mark.parametrize("kind", sorted(PLUGINS))
def test_the_distribution_publishes_the_plugin_under_its_own_name(kind: str) -> None:
    names = Names.of(PLUGINS[kind])
    pyproject = tomllib.loads(render(kind, names)[PurePosixPath("pyproject.toml")])
    assert pyproject["project"]["name"] == "switchboard-plugin-" + names.name.replace("_", "-")
    major, minor = CONTRACT_VERSION.split(".")
    assert pyproject["project"]["dependencies"] == [f"switchboard-sdk>={major}.{minor},<{int(major) + 1}"]
    # the registry refuses an entry-point name other than PluginInfo.name
    assert pyproject["project"]["entry-points"]["switchboard.plugins"] == {names.name: f"{names.package}:plugin"}
    assert pyproject["tool"]["setuptools"]["package-data"] == {names.package: ["py.typed"]}


@pytest.mark.parametrize("kind", sorted(PLUGINS))
@pytest.mark.parametrize("contract", [CONTRACT_VERSION, "1.3", "2.0"])
def test_the_contract_version_is_written_as_a_literal(kind: str, contract: str) -> None:
    names = Names.of(PLUGINS[kind])
    project = render(kind, names, contract)
    hooks = ast.parse(project[PurePosixPath(names.package, "hooks.py")])
    declared = [kw.value for node in ast.walk(hooks) if isinstance(node, ast.Call)
                for kw in node.keywords if kw.arg == "contract_version"]
    assert [ast.literal_eval(value) for value in declared] == [contract]
    major, minor = contract.split(".")
    dependencies = tomllib.loads(project[PurePosixPath("pyproject.toml")])["project"]["dependencies"]
    assert dependencies == [f"switchboard-sdk>={major}.{minor},<{int(major) + 1}"]


def test_every_template_is_package_data() -> None:
    """`switchboard plugin new` reads the templates from the installed tools package."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    scaffold = ROOT / "tools" / "scaffold"
    covered = {path for pattern in patterns["tools.scaffold"] for path in scaffold.glob(pattern) if path.is_file()}
    templates = {path for path in (scaffold / "templates").rglob("*") if path.is_file()}
    assert templates
    assert templates <= covered


# -- names and directories ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["Acme", "acme-chat", "1acme", "_acme", "acme chat", "a" * 33, "", "acmé",
                                  "acme.chat"])
def test_a_name_that_is_not_a_lowercase_identifier_is_refused(name: str) -> None:
    with pytest.raises(ScaffoldError, match="lower-case Python identifier"):
        check_name(name, {})


def test_the_name_of_a_builtin_is_refused() -> None:
    taken = installed_plugins()
    assert taken["web"] == "switchboard-plugins"
    with pytest.raises(ScaffoldError, match=r"'web' is already the name of an installed plugin "
                                            r"\(distribution switchboard-plugins\)"):
        check_name("web", taken)


def test_an_existing_directory_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(ScaffoldError, match="already exists; refusing to overwrite"):
        generate("acme_chat", "channel", target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # nothing half-written beside it


def test_an_empty_directory_is_filled(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    assert generate("acme_crm", "connector", target) == target
    assert (target / "switchboard_plugin_acme_crm" / "deliver.py").is_file()


def test_the_command_writes_the_project(tmp_path: Path) -> None:
    target = tmp_path / "out"
    result = CliRunner().invoke(main, ["plugin", "new", "acme_chat", "--kind", "channel", "--dir", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target}: channel plugin 'acme_chat'" in result.output
    assert (target / "switchboard_plugin_acme_chat" / "verify.py").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["plugin", "new", "web", "--kind", "channel"], "'web' is already the name of an installed plugin"),
    (["plugin", "new", "Acme", "--kind", "connector"], "must be a lower-case Python identifier"),
    (["plugin", "new", "acme", "--kind", "crm"], "'crm' is not one of 'channel', 'connector', 'assistant'"),
])
def test_the_command_refuses_with_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, [*args, "--dir", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


# -- installed ------------------------------------------------------------------------------


def _pytest(project: Path, installed: Installed, log: IO[str]) -> subprocess.Popen[str]:
    # run from outside the project, so its modules come from the install, not the sources
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", str(project / "tests")],
        cwd=installed.site.parent, env=installed.env(), stdout=log, stderr=subprocess.STDOUT, text=True,
    )


@pytest.fixture(scope="module")
def generated_runs(installed: Installed) -> Iterator[dict[str, tuple[int, str]]]:
    """Every project's tests at once; output to files, which never fill up as pipes do."""
    logs = {kind: (installed.site.parent / f"{kind}.log").open("w+") for kind in installed.projects}
    running = {kind: _pytest(project, installed, logs[kind]) for kind, project in installed.projects.items()}
    try:
        statuses = {kind: run.wait(timeout=180) for kind, run in running.items()}
        yield {kind: (statuses[kind], Path(logs[kind].name).read_text()) for kind in running}
    finally:
        for kind, run in running.items():
            run.kill()  # a no-op unless it overran the timeout
            run.wait()
            logs[kind].close()


@pytest.mark.parametrize(("kind", "suite"), [("channel", "AcmeChatConformance"),
                                             ("connector", "AcmeCrmConformance"),
                                             ("assistant", "AcmeBotConformance")])
def test_the_generated_tests_pass_with_the_conformance_suite(
    generated_runs: dict[str, tuple[int, str]], kind: str, suite: str
) -> None:
    status, output = generated_runs[kind]
    assert status == 0, output
    assert " failed" not in output
    assert re.search(rf"Test{suite}::test_declares_an?_{kind} PASSED", output), output
    assert "::test_is_discovered_through_its_entry_point PASSED" in output
    if kind == "channel":  # it answers customers too, and passes the send section
        assert "TestAcmeChatSends::test_success_is_sent_with_the_providers_id PASSED" in output
        assert "TestAcmeChatSends::test_a_provider_that_hangs_is_retried PASSED" in output
    if kind == "assistant":  # trained, loaded and asked through the hub's registry
        assert "TestAcmeBotConformance::test_training_is_deterministic PASSED" in output
        assert "TestAcmeBotConformance::test_an_unreadable_model_is_a_bad_payload" in output


def test_the_channels_hooks_load_their_modules_on_first_use() -> None:
    """As the built-ins' do: the hub imports hooks.py at start-up in every container."""
    names = Names.of(PLUGINS["channel"])
    hooks = ast.parse(render("channel", names)[PurePosixPath(names.package, "hooks.py")])
    top = {node.module for node in hooks.body if isinstance(node, ast.ImportFrom) and node.level}
    inner = {node.module for node in ast.walk(hooks) if isinstance(node, ast.ImportFrom) and node.level} - top
    assert top == {"config"}
    assert inner == {"verify", "parse", "respond", "send"}


def test_the_hub_loads_the_plugins_by_entry_point(installed: Installed) -> None:
    result = subprocess.run([sys.executable, "-c", HUB_LOAD], env=installed.env(), cwd=installed.site.parent,
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    infos = json.loads(result.stdout)
    assert infos["acme_chat"] == ["channel", CONTRACT_VERSION, "switchboard_plugin_acme_chat.config"]
    assert infos["acme_crm"] == ["connector", CONTRACT_VERSION, "switchboard_plugin_acme_crm.config"]
    assert infos["acme_bot"] == ["assistant", CONTRACT_VERSION, "switchboard_plugin_acme_bot.config"]
    assert {"web", "webhook"} <= set(infos)  # beside the built-ins, no clash


def test_plugins_check_lists_them_with_their_distributions(installed: Installed) -> None:
    env = installed.env() | {"SWITCHBOARD_PLUGINS": "acme_chat,acme_crm,web"}
    result = subprocess.run([sys.executable, "-m", "tools.cli", "plugins", "check", "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["plugins"]}
    assert set(rows) == {"acme_chat", "acme_crm", "web"}
    assert rows["acme_chat"]["distribution"] == "switchboard-plugin-acme-chat 0.1.0"
    assert (rows["acme_crm"]["kind"], rows["acme_crm"]["status"]) == ("connector", "ok")
