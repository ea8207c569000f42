"""``switchboard templates`` against the real TemplateApi on moto: the commands' calls
go straight to the API class instead of over HTTP (the HTTP client itself is
tests/test_agent_cli.py's), so what is checked is what each command sends and shows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel
from switchboard_sdk import InvalidInput, SwitchboardError

import tools.templates_cli as templates_cli
from chalicelib.api.calls import ApiCall
from chalicelib.api.templates import TemplateApi
from chalicelib.hub import Hub
from chalicelib.storage.keys import TenantKeys
from chalicelib.workflow.template_csv import BOM
from chalicelib.workflow.template_store import TemplateStore
from tools.local.demo import DemoTenant


class Direct:
    """What AgentClient.call does, answered by the API class."""

    def __init__(self, api: TemplateApi, key: str) -> None:
        self.api, self.key = api, key
        self.calls: list[tuple[str, str, Any, Any]] = []

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             query: dict[str, str] | None = None) -> Any:
        self.calls.append((method, path, body, query))
        request = ApiCall(authorization=f"Bearer {self.key}", query=query or {},
                          body=b"" if body is None else json.dumps(body).encode())
        parts = path.removeprefix("/v1/templates").strip("/").split("/")
        try:
            answer = self._route(method, parts, request)
        except SwitchboardError as err:
            fields = "".join(f"\n  {f['field']}: {f['message']}" for f in getattr(err, "fields", []))
            raise click.ClickException(f"{err.status} {err.code}: {err.message}{fields}") from None
        return answer.model_dump(mode="json") if isinstance(answer, BaseModel) else answer

    def _route(self, method: str, parts: list[str], request: ApiCall) -> Any:
        api = self.api
        code = parts[0]
        routes: dict[tuple[str, int], Callable[[], Any]] = {
            ("GET", 1): lambda: api.get_template(request, code) if code else api.list_templates(request),
            ("POST", 1): lambda: api.import_templates(request) if code == "import" else api.create_template(request),
            ("PUT", 1): lambda: api.update_template(request, code),
            ("DELETE", 1): lambda: api.delete_template(request, code),
            ("POST", 2): lambda: api.render_template(request, code),
        }
        return routes[(method, len(parts))]()


@pytest.fixture
def hub_client(hub: Hub, demo: DemoTenant, monkeypatch: pytest.MonkeyPatch) -> Direct:
    api = TemplateApi(hub.access, lambda t: TemplateStore(hub.aws.dynamodb, hub.settings.table_name, TenantKeys(t)),
                      hub.audit, hub.clock, hub.store.reads)
    direct = Direct(api, demo.api_key)
    monkeypatch.setattr(templates_cli, "_client", lambda options: direct)
    return direct


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(templates_cli.templates, list(args))
    return result.exit_code, result.output


def test_create_show_list_update_and_delete_from_the_command_line(hub_client: Direct, tmp_path: Path) -> None:
    file = tmp_path / "greet.json"
    file.write_text(json.dumps({"code": "greet", "title": "Greeting", "tags": ["vip"],
                                "texts": {"en": "Hi {{customer.name}}", "zh-CN": "您好 {{customer.name}}"}}),
                    encoding="utf-8")
    assert run("create", "--file", str(file))[0] == 0
    code, shown = run("show", "greet")
    assert code == 0
    assert "[zh-CN]\n您好 {{customer.name}}" in shown
    code, table = run("list")
    assert table.splitlines()[0].split() == ["CODE", "TITLE", "LANGUAGES", "TAGS", "VERSION"]
    assert table.splitlines()[1].split() == ["greet", "Greeting", "en,zh-CN", "vip", "1"]
    file.write_text(json.dumps({"title": "Hello", "texts": {"en": "Hello"}}), encoding="utf-8")
    assert run("update", "greet", "--file", str(file))[0] == 0  # the version read first
    assert hub_client.calls[-1][2]["version"] == 1
    code, output = run("delete", "greet", "--version", "1")
    assert code == 1
    assert "409" in output
    assert run("delete", "greet", "--version", "2") == (0, "deleted greet (version 2)\n")


def test_import_export_round_trip_and_a_bad_file_lists_its_rows(hub_client: Direct, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes((BOM + "code,title,language,text,tags\r\nthanks,感谢,zh-CN,\"谢谢您、{{customer.name}}\",a b\r\n"
                        "thanks,,en,\"=Thanks, {{customer.name}}\",\r\n").encode("utf-8"))
    code, output = run("import", str(source))
    assert code == 0, output
    assert "created: 1 (thanks)" in output
    target = tmp_path / "out.csv"
    assert run("export", "-o", str(target))[0] == 0
    exported = target.read_bytes().decode("utf-8")
    assert exported.startswith(BOM)
    assert "'=Thanks" in exported
    assert "unchanged: 1" in run("import", str(target))[1]
    source.write_bytes(b"code,title,language,text\nbad,B,en,{{nope}}\n")
    code, output = run("import", str(source), "--replace")
    assert code == 1
    assert "row 2: text: unknown variable {{nope}}" in output
    assert hub_client.calls[-1][3] == {"mode": "replace"}
    source.write_bytes("code,title,language,text\nx,é,en,é\n".encode("latin-1"))
    assert run("import", str(source))[0] == 2  # not UTF-8: a usage error, nothing sent


def test_render_prints_the_text_or_the_missing_variables(hub_client: Direct, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_render(request: ApiCall, code: str) -> Any:
        assert json.loads(request.body) == {"ticket_id": "tkt_1", "language": "zh"}
        raise InvalidInput("no value for customer.name", [{"field": "customer.name", "message": "no value"}])

    monkeypatch.setattr(hub_client.api, "render_template", fake_render)
    code, output = run("render", "greet", "--ticket", "tkt_1", "--language", "zh")
    assert code == 1
    assert "customer.name: no value" in output
