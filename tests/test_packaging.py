"""`make package`: the deployment zip carries our wheels (with entry points), a
third-party plugin wheel given with --plugin-wheel, and Linux builds of compiled deps,
and the merged SAM template is wired and lint-clean.

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

from tools.packaging import (
    PackagingError,
    PluginWheel,
    left_out,
    lint,
    main,
    read_plugin_wheel,
    read_plugin_wheels,
    warn_left_out,
)
from tools.scaffold.generate import generate

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
    # a third-party plugin, as its author would build it (`switchboard plugin new`, `pip wheel`)
    project = generate("acme_crm", "connector", base / "acme_crm")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(base / "extra"), str(project)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (base / "extra").glob("*.whl")
    result = subprocess.run(
        [sys.executable, "-m", "tools.packaging", "--out", str(out), "--work", str(base / "build"),
         "--plugin-wheel", str(wheel)],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[package] 5/5 cfn-lint" in result.stdout
    assert wheel.name in result.stdout  # staged with the project's own wheels
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        template = json.loads((out / "sam.json").read_text())
        yield Package(out, archive.namelist(), archive, template)


def test_zip_has_app_and_chalicelib(package: Package) -> None:
    assert "app.py" in package.names
    assert "chalicelib/__init__.py" in package.names
    assert "chalicelib/hub.py" in package.names


def test_every_module_ships_compiled_for_a_read_only_task_root(package: Package) -> None:
    """Lambda's /var/task is read-only: without bytecode in the zip, every cold start compiles
    every module it imports. The hub's, the SDK's and a dependency's are there, hash-based and
    unchecked (no source time stamp read), naming their place in Lambda."""
    import marshal

    tag = sys.implementation.cache_tag
    for module in ("app", "chalicelib/hub", "switchboard_sdk/models", "pydantic/main"):
        directory, _, name = module.rpartition("/")
        pyc = f"{directory + '/' if directory else ''}__pycache__/{name}.{tag}.pyc"
        assert pyc in package.names, pyc
        data = package.zip.read(pyc)
        assert (package.zip.getinfo(pyc).external_attr >> 16) & 0o777 == 0o644, "readable by Lambda's user"
        assert int.from_bytes(data[4:8], "little") == 0b01, "hash-based, source not checked (PEP 552)"
        assert marshal.loads(data[16:]).co_filename == f"/var/task/{module}.py"  # noqa: S302 - our own build
    sources = [n for n in package.names if n.endswith(".py") and n.startswith(("chalicelib/", "switchboard_"))]
    missing = [n for n in sources if f"{n.rpartition('/')[0]}/__pycache__/{n.rpartition('/')[2][:-3]}.{tag}.pyc"
               not in package.names]
    assert missing == []


LAMBDA_UNZIPPED_LIMIT = 250 * 2**20  # a function's code and layers, unzipped (AWS Lambda quotas)


def test_the_package_fits_lambda_unzipped_with_the_widget_script(package: Package) -> None:
    """numpy (the assistant's model) is the largest part; the whole must stay under Lambda's
    250 MB unzipped, and the widget's built script ships with chalicelib (GET /widget.js)."""
    unzipped = sum(info.file_size for info in package.zip.infolist())
    assert unzipped < LAMBDA_UNZIPPED_LIMIT, f"{unzipped / 2**20:.0f} MB unzipped"
    assert "chalicelib/widget/static/widget.js" in package.names
    assert "numpy/__init__.py" in package.names  # chalice drops a dependency it has no Lambda wheel for


def test_the_console_is_not_in_the_zip(package: Package) -> None:
    """The console is served by CloudFront from its bucket (and locally by the runtime's
    HTTP handler), never from Lambda: no build, no sources, no node_modules."""
    assert [n for n in package.names if n.split("/")[0] == "console" or "node_modules/" in n
            or n.endswith((".tsx", ".css")) or n.startswith("assets/")] == []


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


def test_a_given_plugin_wheel_is_packaged_with_its_entry_points(package: Package) -> None:
    [path] = [n for n in package.names
              if n.startswith("switchboard_plugin_acme_crm-") and n.endswith(".dist-info/entry_points.txt")]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(package.zip.read(path).decode())
    assert dict(entry_points[hookspecs.ENTRY_POINT_GROUP]) == {"acme_crm": "switchboard_plugin_acme_crm:plugin"}
    assert {"switchboard_plugin_acme_crm/__init__.py", "switchboard_plugin_acme_crm/deliver.py"} <= set(package.names)


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
                              "StreamFailures", "ObjectFailures", "WorkflowTimers",
                              "TrainAssistants", "AnswerCustomers", "AssistantDeadLetters"}
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["SWITCHBOARD_TABLE"] == {"Ref": "Table"}, name


def test_the_workflow_timers_run_every_minute(package: Package) -> None:
    events = package.functions()["WorkflowTimers"]["Properties"]["Events"]
    schedules = [event["Properties"]["Schedule"] for event in events.values() if event["Type"] == "Schedule"]
    assert schedules == ["rate(1 minute)"]


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


# -- third-party plugin wheels: what is packaged, what is warned about ----------------------


def make_wheel(directory: Path, distribution: str, entry_points: str | None) -> Path:
    """A minimal wheel: a module and a .dist-info with METADATA (and entry_points.txt)."""
    stem = distribution.replace("-", "_")
    path = directory / f"{stem}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{stem}/__init__.py", "plugin = None\n")
        metadata = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n"
        archive.writestr(f"{stem}-0.1.dist-info/METADATA", metadata)
        if entry_points is not None:
            archive.writestr(f"{stem}-0.1.dist-info/entry_points.txt", entry_points)
    return path


def test_a_plugin_wheel_is_read_for_its_distribution_and_plugins(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "Acme.Plugins", "[switchboard.plugins]\nacme-chat = acme_plugins:chat\n"
                                              "Acme_CRM = acme_plugins:crm\n[console_scripts]\nacme = acme:main\n")
    assert read_plugin_wheel(path) == PluginWheel(path.resolve(), "Acme.Plugins", ("acme-chat", "Acme_CRM"))


@pytest.mark.parametrize(("entry_points", "message"), [
    (None, "publishes no plugin"),
    ("[console_scripts]\nacme = acme:main\n", "publishes no plugin"),
])
def test_a_wheel_that_publishes_no_plugin_is_refused(tmp_path: Path, entry_points: str | None, message: str) -> None:
    with pytest.raises(PackagingError, match=message):
        read_plugin_wheel(make_wheel(tmp_path, "acme-lib", entry_points))


def test_a_missing_or_broken_wheel_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match="not found"):
        read_plugin_wheel(tmp_path / "nope-0.1-py3-none-any.whl")
    (tmp_path / "acme.tar.gz").write_bytes(b"")
    with pytest.raises(PackagingError, match=r"is not a wheel \(.whl\)"):
        read_plugin_wheel(tmp_path / "acme.tar.gz")
    (tmp_path / "broken-0.1-py3-none-any.whl").write_bytes(b"not a zip")
    with pytest.raises(PackagingError, match="is not a readable wheel"):
        read_plugin_wheel(tmp_path / "broken-0.1-py3-none-any.whl")


def test_a_wheel_clashing_with_what_is_packaged_is_refused(tmp_path: Path) -> None:
    builtin_name = make_wheel(tmp_path, "acme-web", "[switchboard.plugins]\nweb = acme_web:plugin\n")
    with pytest.raises(PackagingError, match="publishes plugin 'web', which this repository publishes too"):
        read_plugin_wheels([builtin_name])
    (tmp_path / "again").mkdir()
    ours = make_wheel(tmp_path / "again", "Switchboard_Plugins", "[switchboard.plugins]\nacme = a:plugin\n")
    with pytest.raises(PackagingError, match="distribution Switchboard_Plugins is packaged already"):
        read_plugin_wheels([ours])


def test_installed_plugins_neither_built_nor_given_are_the_ones_left_out(tmp_path: Path) -> None:
    given = read_plugin_wheels([make_wheel(tmp_path, "acme_plugins", "[switchboard.plugins]\nacme-chat = a:c\n")])
    installed = [
        ("web", "switchboard-plugins"),  # built here
        ("acme-chat", "Acme.Plugins"),  # given, spelt another way (PEP 503 names compare equal)
        ("globex", "globex-switchboard"),  # installed by hand, not given
        ("globex-sms", "globex-switchboard"),
    ]
    assert left_out(installed, given) == [("globex", "globex-switchboard"), ("globex-sms", "globex-switchboard")]
    assert left_out(installed[:1], []) == []


def test_a_left_out_plugin_is_warned_about_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    warn_left_out([("globex", "globex-switchboard")])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert ("[package] WARNING: plugin 'globex' (distribution globex-switchboard) is installed here but not "
            "packaged: the hub in Lambda will not have it") in captured.err
    assert "make package EXTRA_PLUGINS=" in captured.err


def test_a_bad_plugin_wheel_fails_before_anything_is_built(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--out", str(tmp_path / "dist"), "--work", str(tmp_path / "build"),
                   "--plugin-wheel", str(tmp_path / "missing-0.1-py3-none-any.whl")])
    assert status == 1
    assert "[package] FAILED: plugin wheel" in capsys.readouterr().err
    assert not (tmp_path / "build").exists()
