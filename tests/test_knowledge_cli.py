"""``switchboard knowledge`` against the real KnowledgeApi on moto: the commands' calls
are answered by the API class (handed to the command group, not over HTTP), so what is
checked is what each command sends and shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner
from pydantic import BaseModel
from switchboard_sdk import SwitchboardError

from chalicelib.api.calls import ApiCall
from chalicelib.hub import Hub
from tests.test_knowledge_plugin import WordsAssistant
from tests.test_training import drain
from tools.knowledge_cli import knowledge
from tools.local.demo import DemoTenant


class Direct:
    """What AgentClient.call does, answered by hub.knowledge_api."""

    def __init__(self, hub: Hub, key: str) -> None:
        self.hub, self.key = hub, key

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             query: dict[str, str] | None = None) -> Any:
        request = ApiCall(authorization=f"Bearer {self.key}", query=query or {},
                          body=b"" if body is None else json.dumps(body).encode())
        api = self.hub.knowledge_api
        routes = {("POST", "/v1/knowledge/import"): api.import_knowledge, ("GET", "/v1/knowledge/export"):
                  api.export_knowledge, ("GET", "/v1/knowledge/model"): api.model_status,
                  ("POST", "/v1/knowledge/train"): api.train}
        try:
            answer = routes[(method, path)](request)
        except SwitchboardError as err:
            fields = "".join(f"\n  {f['field']}: {f['message']}" for f in getattr(err, "fields", []))
            raise click.ClickException(f"{err.status} {err.code}: {err.message}{fields}") from None
        return answer.model_dump(mode="json") if isinstance(answer, BaseModel) else answer


def run(hub: Hub, demo: DemoTenant, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(knowledge, list(args), obj={"client": Direct(hub, demo.api_key)})
    return result.exit_code, result.output


def test_import_csv_and_json_then_status_train_and_export(hub: Hub, demo: DemoTenant, tmp_path: Path) -> None:
    hub.registry.add(WordsAssistant())
    hub.tenants.configure("demo", "words", enabled=True, config={})
    examples = tmp_path / "examples.csv"
    examples.write_text("text,category\nwhere is my card,card_arrival\ncard not here,card_arrival\n"
                        "charged twice,double_charge\n", encoding="utf-8")
    code, output = run(hub, demo, "import", str(examples))
    assert code == 0, output
    assert "intents: 2\nexamples: 3\nknowledge_version: 1" in output
    code, output = run(hub, demo, "status")
    assert "state: queued" in output
    drain(hub)
    code, output = run(hub, demo, "status")
    assert "state: ready" in output
    assert "model_version: 1" in output
    assert "labels: 2" in output

    target = tmp_path / "kb.json"
    assert run(hub, demo, "export", "-o", str(target))[0] == 0
    exported = json.loads(target.read_text(encoding="utf-8"))
    exported["intents"] = exported["intents"][:1]
    target.write_text(json.dumps(exported), encoding="utf-8")
    code, output = run(hub, demo, "import", str(target), "--replace")
    assert code == 0, output
    assert [i.name for i in hub.knowledge_store("demo").intents()] == ["card_arrival"]
    code, output = run(hub, demo, "train")
    assert output == "training queued for knowledge version 2\n"


def test_a_bad_file_changes_nothing_and_lists_its_rows(hub: Hub, demo: DemoTenant, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,language,question,answer\na,en,q1,one\na,en,q2,two\n", encoding="utf-8")
    code, output = run(hub, demo, "import", str(bad))
    assert code == 1
    assert "row 3" in output
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,category\nÉté,a\n".encode("latin-1"))
    assert run(hub, demo, "import", str(latin))[0] == 2
    assert hub.knowledge_store("demo").meta().version == 0
