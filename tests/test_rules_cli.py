"""`switchboard rules` over real HTTP: a loopback server hands each request to the rules
API on moto as the edge would (until app.py routes /v1/rules, it stands in for the hub),
so the commands, their table and --json output, and their exit codes are tested whole."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from click.testing import CliRunner
from pydantic import BaseModel
from switchboard_sdk import SwitchboardError

from chalicelib.api.calls import ApiCall
from chalicelib.api.rules import RuleApi
from chalicelib.hub import Hub
from chalicelib.workflow.rules.store import rule_stores
from tests.test_rules_api import REFUND_RULE, VIP_RULE
from tools.cli import main
from tools.local.demo import DemoTenant

pytestmark = pytest.mark.timeout(120)
Route = tuple[str, re.Pattern[str], Callable[..., Any], int]


def routes(api: RuleApi) -> list[Route]:
    """The table the lead wires in app.py: method, path, RuleApi method, status."""
    one = re.compile(r"/v1/rules/([^/]+)")
    return [
        ("GET", re.compile("/v1/rules"), api.list_rules, 200),
        ("POST", re.compile("/v1/rules"), api.create_rule, 201),
        ("POST", re.compile("/v1/rules/test"), api.test_rules, 200),
        ("GET", re.compile(r"/v1/rules/([^/]+)/versions"), api.rule_versions, 200),
        ("GET", one, api.get_rule, 200),
        ("PUT", one, api.update_rule, 200),
        ("DELETE", one, api.delete_rule, 200),
    ]


@pytest.fixture
def hub_url(hub: Hub, demo: DemoTenant) -> Iterator[str]:
    api = RuleApi(hub.access, rule_stores(hub.aws.dynamodb, hub.settings.table_name), hub.audit, hub.clock)
    table = routes(api)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            call = ApiCall(authorization=self.headers.get("authorization"), source_ip="127.0.0.1",
                           query=dict(parse_qsl(parts.query)), body=body)
            status, answer = 404, {"error": {"code": "not_found", "message": "no route"}}
            for method, path, handler, ok in table:
                found = path.fullmatch(parts.path)
                if method == self.command and found:
                    try:
                        result = handler(call, *found.groups())
                        status, answer = ok, result.model_dump(mode="json") if isinstance(result, BaseModel) else result
                    except SwitchboardError as err:
                        status, answer = err.status, err.to_body()
                    break
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

        def do_DELETE(self) -> None:
            self._handle()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def rules(hub_url: str, key: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["rules", *args, "--api-url", hub_url, "--api-key", key], input=stdin)
    return result.exit_code, result.output


def write(tmp_path: Path, name: str, body: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return str(path)


def test_an_admin_manages_rules_with_the_cli(hub_url: str, demo: DemoTenant, tmp_path: Path) -> None:
    key = demo.api_key
    code, out = rules(hub_url, key, "create", "--file", write(tmp_path, "vip.json", VIP_RULE), "--json")
    assert code == 0, out
    created = json.loads(out)
    assert created["version"] == 1
    code, out = rules(hub_url, key, "create", "--file", "-", stdin=json.dumps(REFUND_RULE))
    assert code == 0, out
    assert "then: {\"type\": \"set_category\", \"category\": \"billing\"}" in out
    code, table = rules(hub_url, key, "list")
    assert code == 0
    assert table.splitlines()[0].split() == ["POSITION", "ID", "TRIGGER", "ENABLED", "VERSION", "NAME"]
    assert table.splitlines()[1].split()[1] == created["id"], "position 10 before position 20"
    changed = VIP_RULE | {"name": "VIP first"}
    code, out = rules(hub_url, key, "update", created["id"], "--file", write(tmp_path, "v2.json", changed))
    assert code == 0, out
    assert "version: 2" in out
    code, out = rules(hub_url, key, "show", created["id"], "--json")
    assert json.loads(out)["name"] == "VIP first"
    code, out = rules(hub_url, key, "delete", created["id"], "--version", "2")
    assert (code, out.strip()) == (0, f"deleted {created['id']} (kept as version 3)")
    code, out = rules(hub_url, key, "versions", created["id"])
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["3", "2", "1"]
    assert "True" in out.splitlines()[1]


def test_test_explains_which_rules_fire(hub_url: str, demo: DemoTenant, tmp_path: Path) -> None:
    for body in (VIP_RULE, REFUND_RULE):
        assert rules(hub_url, demo.api_key, "create", "--file", "-", stdin=json.dumps(body))[0] == 0
    sample = {"trigger": "ticket.created", "customer": {"tags": ["vip"]}, "message": {"text": "hi"}}
    code, out = rules(hub_url, demo.api_key, "test", "--file", write(tmp_path, "sample.json", sample))
    assert code == 0, out
    assert "1 rule(s) would fire" in out
    assert '"priority": "urgent"' in out
    assert "side effect: {\"type\": \"send_template\", \"code\": \"vip_hello\"}" in out
    assert "not fired:" in out
    assert "all[0] failed" in out
    code, out = rules(hub_url, demo.api_key, "test", "--file", "-", "--json", stdin=json.dumps(sample))
    assert [r["name"] for r in json.loads(out)["fired"]] == [VIP_RULE["name"]]


def test_exit_codes_say_who_is_at_fault(hub: Hub, hub_url: str, demo: DemoTenant, tmp_path: Path) -> None:
    code, out = rules(hub_url, demo.api_key, "create", "--file", "-", stdin=json.dumps(VIP_RULE | {"actions": []}))
    assert code == 1
    assert "422 invalid_input" in out
    assert "actions" in out
    code, out = rules(hub_url, demo.api_key, "create", "--file", "-", stdin="not json")
    assert code == 2
    code, out = rules(hub_url, demo.api_key, "show", "rul_missing")
    assert (code, "404 not_found" in out) == (1, True)
    reader = hub.api_keys.create("demo", ["read-only"], name="reader")[1]
    code, out = rules(hub_url, reader, "create", "--file", "-", stdin=json.dumps(VIP_RULE))
    assert (code, "403 forbidden" in out) == (1, True)
    created = json.loads(rules(hub_url, demo.api_key, "create", "--file", "-", "--json",
                               stdin=json.dumps(VIP_RULE))[1])
    stale = VIP_RULE | {"version": 7}
    code, out = rules(hub_url, demo.api_key, "update", created["id"], "--file", "-", stdin=json.dumps(stale))
    assert (code, "409 conflict" in out) == (1, True)
    code, out = rules("http://127.0.0.1:9", demo.api_key, "list")
    assert code == 3
