"""The operator's path with the CLI alone, on the local runtime over HTTP: the
first platform key, a tenant, its admin key, the web channel and the webhook
connector with secrets that never come back in clear, and every step in the
tenant's audit log. Also: table output, --json, and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.hub import Hub
from tests.helpers import local_runtime
from tools.local.demo import DemoTenant, new_whsec

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, DemoTenant, Path]]:
    state = tmp_path_factory.mktemp("state")
    with local_runtime(state, queue_workers=1) as (hub, demo):
        yield hub, demo, state


def cli(state: Path, *args: str, key: str | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    # a fresh shell: no AWS credentials either (the local emulator needs none)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "AWS_"))}
    env |= {"SWITCHBOARD_API_KEY": key} if key else {}
    return subprocess.run([sys.executable, "-m", "tools.cli", *args, "--state-dir", str(state)],
                          cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_operator_sets_up_a_tenant_with_the_cli_alone(runtime: tuple[Hub, DemoTenant, Path]) -> None:
    hub, _, state = runtime
    platform = ok(cli(state, "bootstrap")).strip()
    assert platform.startswith("sbk_")
    ok(cli(state, "tenants", "create", "acme", "--name", "Acme Ltd", "--set", "time_zone=Europe/Berlin",
           key=platform))
    created = json.loads(ok(cli(state, "keys", "create", "--tenant", "acme", "--scope", "tenant-admin",
                                "--name", "acme admin", "--json", key=platform)))
    admin = created["key"]
    web_secret, hook_secret = new_whsec(), new_whsec()
    enabled = ok(cli(state, "plugins", "enable", "web", "--set", f"secrets={json.dumps([web_secret])}", key=admin))
    assert "webhook URL: http://" in enabled
    assert "/hooks/acme/web" in enabled
    ok(cli(state, "plugins", "enable", "webhook", "--set", "url=https://crm.acme.example/hook",
           "--secret", "secret", key=admin, stdin=hook_secret + "\n"))
    shown = ok(cli(state, "plugins", "show", "webhook", "--json", key=admin))
    listing = ok(cli(state, "plugins", "list", key=admin))
    assert hook_secret not in shown + listing
    assert web_secret not in shown + listing
    assert json.loads(shown)["config"]["url"] == "https://crm.acme.example/hook"
    live = hub.tenants.plugin_config(hub.tenants.get("acme"), "webhook")
    assert live.secret.get_secret_value() == hook_secret  # type: ignore[attr-defined]
    audit = json.loads(ok(cli(state, "audit", "--json", key=admin)))["records"]
    assert [r["action"] for r in reversed(audit)] == ["tenant.create", "key.create", "plugin.enable",
                                                      "plugin.enable"]
    assert web_secret not in json.dumps(audit)
    assert hook_secret not in json.dumps(audit)
    assert {r["actor"]["source_ip"] for r in audit} == {"127.0.0.1"}
    assert audit[0]["actor"]["key_id"] == created["key_id"], "the tenant admin's own key did the last step"
    table = ok(cli(state, "audit", key=admin))
    assert table.splitlines()[0].split() == ["AT", "ACTION", "TARGET", "KEY", "IP"]


def test_errors_are_clear_and_exit_codes_say_who_is_at_fault(runtime: tuple[Hub, DemoTenant, Path]) -> None:
    _, demo, state = runtime
    refused = cli(state, "plugins", "configure", "webhook", "--set", "url=not-a-url", key=demo.api_key)
    assert refused.returncode == 1
    assert "422 invalid_input" in refused.stderr
    assert "config.url" in refused.stderr
    assert cli(state, "tenants", "list", key=demo.api_key).returncode == 1, "a tenant key is not a platform key"
    assert cli(state, "plugins", "list").returncode == 2, "no key: a usage error"
    unreachable = cli(state, "plugins", "list", "--api-url", "http://127.0.0.1:9", key=demo.api_key)
    assert unreachable.returncode == 3
    assert "cannot reach" in unreachable.stderr


def test_bootstrap_against_a_table_that_is_not_there_fails_clearly(runtime: tuple[Hub, DemoTenant, Path]) -> None:
    _, demo, state = runtime
    failed = cli(state, "bootstrap", "--table", "no-such-table", "--aws-endpoint", demo.aws_endpoint)
    assert failed.returncode == 3
    assert "could not write the key to table no-such-table" in failed.stderr
    assert "Traceback" not in failed.stderr
