"""`switchboard plugins check`: every installed plugin loaded as the hub loads it, offline.

A made-up distribution is "installed" the way pip installs one: a ``*.dist-info``
directory with ``entry_points.txt`` on ``sys.path``, which importlib.metadata reads.
Its entry points name the fake plugins of tests/test_registry.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from switchboard_sdk import CONTRACT_VERSION

from tests.test_registry import MAJOR, MINOR
from tools.cli import main
from tools.scaffold.check import check_installed

ENTRY_POINTS = """\
[switchboard.plugins]
acme-chat = tests.test_registry:ACME_CHAT
future-chat = tests.test_registry:NEWER_MINOR_CHAT
ancient-chat = tests.test_registry:OTHER_MAJOR_CHAT
chat = tests.test_registry:ACME_CHAT
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    info = root / "acme_plugins-2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 2.3\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return root


@pytest.fixture(autouse=True)
def installed(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(site))


def check(allowlist: str | None, *args: str) -> Result:
    env = {"SWITCHBOARD_PLUGINS": allowlist}  # None unsets it
    return CliRunner().invoke(main, ["plugins", "check", *args], env=env)


def rows(output: str) -> dict[str, list[str]]:
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("NAME "))
    return {line.split()[0]: line.split()[1:] for line in lines[header + 1:]}


def test_allowed_plugins_that_load_pass() -> None:
    result = check("web,acme-chat")
    assert result.exit_code == 0, result.output
    assert f"plugin contract {CONTRACT_VERSION}; SWITCHBOARD_PLUGINS acme-chat, web" in result.stdout
    table = rows(result.stdout)
    assert set(table) == {"web", "acme-chat"}
    assert table["acme-chat"] == ["channel", "0", CONTRACT_VERSION, "acme-plugins", "2.3", "ok"]
    assert table["web"] == ["channel", "0.1.0", CONTRACT_VERSION, "switchboard-plugins", "0.1.0", "ok"]
    assert result.stderr == ""


def test_an_allowlisted_plugin_that_is_not_installed_is_a_problem() -> None:
    result = check("web,acme-crm")
    assert result.exit_code == 1
    assert set(rows(result.stdout)) == {"web"}
    assert ("problem: SWITCHBOARD_PLUGINS names 'acme-crm', but no installed distribution publishes a plugin "
            "of that name") in result.stderr


def test_a_plugin_built_for_another_major_is_refused() -> None:
    result = check("ancient-chat,web")
    assert result.exit_code == 1
    table = rows(result.stdout)
    assert table["ancient-chat"] == ["-", "-", "-", "acme-plugins", "2.3", "refused"]
    assert table["web"][-1] == "ok"
    assert (f"problem: ancient-chat: plugin 'ancient-chat' was built for plugin contract {MAJOR - 1}.9, but the "
            f"installed switchboard-sdk implements contract {CONTRACT_VERSION}") in result.stderr


def test_a_plugin_built_for_a_newer_minor_passes_with_a_warning() -> None:
    result = check("future-chat")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout)["future-chat"][-1] == "warning"
    assert f"warning: future-chat: plugin 'future-chat' was built for plugin contract {MAJOR}.{MINOR + 1}" \
        in result.stderr


def test_every_installed_plugin_is_checked_when_nothing_is_allowlisted() -> None:
    result = check(None)
    assert result.exit_code == 1
    table = rows(result.stdout)
    assert {"web", "webhook", "email", "acme-chat", "future-chat", "ancient-chat", "chat"} <= set(table)
    assert {name for name, row in table.items() if row[-1] == "refused"} == {"ancient-chat", "chat"}
    assert ("problem: chat: entry point 'chat' (group 'switchboard.plugins') publishes a plugin named 'acme-chat'; "
            "the entry-point name must equal PluginInfo.name") in result.stderr


def test_two_distributions_publishing_one_name_are_both_refused(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub refuses to start with two plugins of one name, whichever it meant."""
    info = tmp_path / "other_acme-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other-acme\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[switchboard.plugins]\nacme-chat = tests.test_registry:ACME_CHAT\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    report = check_installed({"SWITCHBOARD_PLUGINS": "acme-chat"})
    assert not report.ok
    assert [row.distribution for row in report.rows] == ["acme-plugins 2.3", "other-acme 1.0"]
    assert all("two plugins are named 'acme-chat'" in row.detail for row in report.rows)


def test_json_for_scripts() -> None:
    result = check("web,ancient-chat", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["allowlist"] == ["ancient-chat", "web"]
    assert report["contract_version"] == CONTRACT_VERSION
    assert [(row["name"], row["status"]) for row in report["plugins"]] == [("ancient-chat", "refused"), ("web", "ok")]
    assert report["problems"][0].startswith("ancient-chat: plugin 'ancient-chat' was built for plugin contract")
