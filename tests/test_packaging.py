"""`make package`: the deployment zip carries our wheels (with entry points) and
Linux builds of compiled deps, and the merged SAM template is wired and lint-clean.

Packaging runs once per module into a temp directory, so a developer's dist/
and build/ are left alone. It needs PyPI (chalice fetches manylinux wheels).
"""

from __future__ import annotations

import configparser
import json
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from switchboard_sdk import hookspecs

from tools.packaging import PackagingError, lint

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Package:
    out: Path
    names: list[str]
    zip: zipfile.ZipFile
    template: dict[str, Any]

    def functions(self) -> dict[str, dict[str, Any]]:
        resources = self.template["Resources"]
        return {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    base = tmp_path_factory.mktemp("package")
    out = base / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "tools.packaging", "--out", str(out), "--work", str(base / "build")],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[package] 4/4 cfn-lint" in result.stdout
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        template = json.loads((out / "sam.json").read_text())
        yield Package(out, archive.namelist(), archive, template)


def test_zip_has_app_and_chalicelib(package: Package) -> None:
    assert "app.py" in package.names
    assert "chalicelib/__init__.py" in package.names
    assert "chalicelib/hub.py" in package.names


def test_zip_has_sdk_and_plugins(package: Package) -> None:
    assert "switchboard_sdk/__init__.py" in package.names
    assert "switchboard_plugins/__init__.py" in package.names


def test_plugin_entry_points_are_packaged(package: Package) -> None:
    [path] = [n for n in package.names
              if n.startswith("switchboard_plugins-") and n.endswith(".dist-info/entry_points.txt")]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(package.zip.read(path).decode())
    assert {"web", "webhook"} <= set(entry_points["switchboard.plugins"])


def test_zip_has_no_developer_tooling_but_every_plugin(package: Package) -> None:
    """tools/ (the CLI, packaging, the local runtime, ...) stays out of Lambda, under its
    own name or chalicelib's; every entry point plugins/pyproject.toml declares is
    packaged, with the module it names."""
    tooling = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "tools").rglob("*.py"))
    assert "tools/cli.py" in tooling
    assert "tools/local/runtime.py" in tooling
    assert [name for name in package.names if name.split("/")[0] == "tools"] == []
    moved = {"chalicelib/" + path.removeprefix("tools/") for path in tooling if path != "tools/__init__.py"}
    assert moved & set(package.names) == set()  # chalicelib/cli.py, chalicelib/local/runtime.py, ...

    declared = tomllib.loads((ROOT / "plugins" / "pyproject.toml").read_text())["project"]["entry-points"]
    wanted = declared[hookspecs.ENTRY_POINT_GROUP]
    [path] = [n for n in package.names
              if n.startswith("switchboard_plugins-") and n.endswith(".dist-info/entry_points.txt")]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(package.zip.read(path).decode())
    assert dict(entry_points[hookspecs.ENTRY_POINT_GROUP]) == wanted
    for value in wanted.values():
        module = value.partition(":")[0].replace(".", "/")
        assert {f"{module}.py", f"{module}/__init__.py"} & set(package.names), value


def test_pydantic_core_is_a_linux_build(package: Package) -> None:
    [module] = [n for n in package.names
                if n.startswith("pydantic_core/_pydantic_core") and n.endswith(".so")]
    assert "linux" in module
    assert package.zip.read(module)[:4] == b"\x7fELF"
    [wheel] = [n for n in package.names if n.startswith("pydantic_core-") and n.endswith(".dist-info/WHEEL")]
    assert "manylinux" in package.zip.read(wheel).decode()


def test_boto3_is_not_bundled(package: Package) -> None:
    bundled = {name.split("/")[0] for name in package.names}
    assert not {top for top in bundled if top.startswith(("boto3", "botocore"))}


def test_stream_event_source_uses_the_table_stream(package: Package) -> None:
    events = package.template["Resources"]["StoreChanges"]["Properties"]["Events"]
    source = events["StoreChangesDynamodbEventSource"]["Properties"]
    assert source["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_sqs_event_source_uses_the_delivery_queue(package: Package) -> None:
    events = package.template["Resources"]["Deliveries"]["Properties"]["Events"]
    source = events["DeliveriesSqsEventSource"]["Properties"]
    # The ARN of DeliveryQueue, as the one key chalice's deep merge can replace
    # (see infra/template.json's Description); equivalent to Fn::GetAtt [DeliveryQueue, Arn].
    assert source["Queue"] == {"Fn::Sub": "${DeliveryQueue.Arn}"}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_every_function_knows_the_table(package: Package) -> None:
    functions = package.functions()
    assert set(functions) == {"APIHandler", "StoreChanges", "Deliveries", "StoredObjects",
                              "StreamFailures", "ObjectFailures"}
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["SWITCHBOARD_TABLE"] == {"Ref": "Table"}, name


def test_stored_objects_fire_on_our_bucket_through_eventbridge(package: Package) -> None:
    template = json.loads((package.out / "sam.json").read_text())
    bucket = template["Resources"]["PayloadBucket"]["Properties"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True
    events = package.functions()["StoredObjects"]["Properties"]["Events"]
    pattern = events["StoredObjectsEvent"]["Properties"]["Pattern"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "PayloadBucket"}]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "inbound/"}]


def test_template_is_cfn_lint_clean(package: Package) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(package.out / "sam.json")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_failure_is_loud(tmp_path: Path) -> None:
    broken = tmp_path / "sam.json"
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"Nope": 1}}
    broken.write_text(json.dumps({"Resources": {"Queue": queue}}))
    with pytest.raises(PackagingError, match="cfn-lint found problems"):
        lint(broken)
