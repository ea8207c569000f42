"""Build the Lambda deployment package and SAM template: ``make package``.

Chalice drops local-directory requirement lines but packages wheel paths with
their ``*.dist-info`` (so plugin entry points work in Lambda; docs/deploy.md,
"Build the package"). So this module:

1. builds wheels of ``sdk/`` and ``plugins/`` into ``<work>/wheels``;
2. stages a copy of the project (app.py, chalicelib/, .chalice/, infra/) in
   ``<work>/stage`` with a requirements.txt made of the root requirements.txt
   (the runtime dependencies) plus the absolute paths of those wheels and of any
   third-party plugin wheels given with ``--plugin-wheel`` (``make package
   EXTRA_PLUGINS="a.whl b.whl"``);
3. runs ``chalice package --merge-template infra/template.json`` there into ``<out>``;
4. adds compiled bytecode to ``<out>/deployment.zip`` (:mod:`tools.bytecode`: Lambda's file
   system is read-only, so a cold start would compile every module again);
5. runs cfn-lint on ``<out>/sam.json`` and fails on any finding.

Only what is built or given is packaged, not what is installed: a plugin installed in
this environment from another distribution is missing in Lambda, so packaging warns
about each such plugin on stderr before it starts.

The stage is rebuilt every run: chalice caches dependencies by the text of
requirements.txt, which would hide a rebuilt wheel with an unchanged name.
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from tools.bytecode import add_bytecode

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = ("sdk", "plugins")
STAGED = ("app.py", "chalicelib", ".chalice", "infra")
IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "build", "dist", "*.egg-info", "tests", "deployments", "venv"
)
DEFAULT_REGION = "us-east-1"
PLUGIN_GROUP = "switchboard.plugins"  # switchboard_sdk.ENTRY_POINT_GROUP; the SDK is not imported here


class PackagingError(RuntimeError):
    """A packaging step failed; the message says which and why."""


def step(message: str) -> None:
    """Print one progress line."""
    print(f"[package] {message}", flush=True)


def run(command: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run ``command``; raise PackagingError with its output if it fails."""
    result = subprocess.run(  # noqa: S603 - fixed commands from this venv
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise PackagingError(f"{Path(command[0]).name} exited {result.returncode}:\n{output}")


def tool(name: str) -> Path:
    """A console script installed beside this interpreter (the venv's bin/)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise PackagingError(f"{name} not found next to {sys.executable}; run `make install`")
    return path


def build_wheels(work: Path) -> list[Path]:
    """Wheels of sdk/ and plugins/, built from clean copies (no stale build/ dirs)."""
    sources, wheels = work / "src", work / "wheels"
    for directory in (sources, wheels):
        shutil.rmtree(directory, ignore_errors=True)
    for name in DISTRIBUTIONS:
        shutil.copytree(ROOT / name, sources / name, ignore=IGNORED)
        command: list[str | Path] = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                                     "-w", wheels, sources / name]
        run(command, cwd=work)
    built = sorted(wheels.glob("*.whl"))
    if len(built) != len(DISTRIBUTIONS):
        raise PackagingError(f"expected {len(DISTRIBUTIONS)} wheels in {wheels}, found {built}")
    return built


def normalise(distribution: str) -> str:
    """A distribution's name as pip compares them (PEP 503): ``Switchboard_Plugin.X`` → ``switchboard-plugin-x``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _project(directory: str) -> dict[str, Any]:
    """The ``[project]`` table of ``directory``'s pyproject.toml."""
    project: dict[str, Any] = tomllib.loads((ROOT / directory / "pyproject.toml").read_text())["project"]
    return project


def built_distributions() -> set[str]:
    """The distributions this module builds (switchboard-sdk, switchboard-plugins), normalised."""
    return {normalise(_project(directory)["name"]) for directory in DISTRIBUTIONS}


def built_plugins() -> set[str]:
    """The plugin names the built distributions publish (the built-ins)."""
    names: set[str] = set()
    for directory in DISTRIBUTIONS:
        names |= set(_project(directory).get("entry-points", {}).get(PLUGIN_GROUP, {}))
    return names


@dataclass(frozen=True)
class PluginWheel:
    """A third-party plugin wheel to package: its distribution and the plugins it publishes."""

    path: Path
    distribution: str
    plugins: tuple[str, ...]


def read_plugin_wheel(path: Path) -> PluginWheel:
    """``path`` checked to be a wheel that publishes at least one plugin; else PackagingError."""
    hint = "build one with `pip wheel --no-deps -w dist path/to/plugin`"
    if not path.is_file():
        raise PackagingError(f"plugin wheel {path} not found ({hint})")
    if path.suffix != ".whl":
        raise PackagingError(f"{path} is not a wheel (.whl); {hint}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            [metadata] = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            info = metadata.rpartition("/")[0]
            distribution = HeaderParser().parsestr(archive.read(metadata).decode("utf-8"))["Name"]
            published = configparser.ConfigParser(interpolation=None, delimiters=("=",))
            published.optionxform = str  # type: ignore[assignment,method-assign]  # entry-point names keep their case
            if f"{info}/entry_points.txt" in names:
                published.read_string(archive.read(f"{info}/entry_points.txt").decode("utf-8"))
    except (zipfile.BadZipFile, ValueError, KeyError, configparser.Error) as err:  # ValueError: no or two METADATA
        raise PackagingError(f"{path} is not a readable wheel: {type(err).__name__}: {err}") from err
    if not distribution:
        raise PackagingError(f"{path} has no distribution name in its METADATA")
    plugins = tuple(published[PLUGIN_GROUP]) if published.has_section(PLUGIN_GROUP) else ()
    if not plugins:
        raise PackagingError(
            f"{path.name} publishes no plugin (no [{PLUGIN_GROUP}] entry point in its entry_points.txt), "
            "so the hub would never load it; give plugin wheels only"
        )
    return PluginWheel(path.resolve(), distribution, plugins)


def read_plugin_wheels(paths: Sequence[Path]) -> list[PluginWheel]:
    """Every given wheel, checked; refuses one that repeats a distribution or a plugin
    name already packaged: the hub refuses to start with two plugins of one name."""
    wheels = [read_plugin_wheel(path) for path in paths]
    distributions, plugins = built_distributions(), dict.fromkeys(built_plugins(), "this repository")
    for wheel in wheels:
        if normalise(wheel.distribution) in distributions:
            raise PackagingError(f"{wheel.path.name}: distribution {wheel.distribution} is packaged already")
        distributions.add(normalise(wheel.distribution))
        for name in wheel.plugins:
            if name in plugins:
                raise PackagingError(f"{wheel.path.name} publishes plugin {name!r}, which {plugins[name]} "
                                     "publishes too: the hub would refuse to start")
            plugins[name] = wheel.path.name
    return wheels


def installed_plugins() -> list[tuple[str, str]]:
    """``(plugin name, distribution)`` of every plugin installed in this environment."""
    return [(ep.name, ep.dist.name if ep.dist is not None else "(unknown distribution)")
            for ep in entry_points(group=PLUGIN_GROUP)]


def left_out(installed: Iterable[tuple[str, str]], given: Iterable[PluginWheel]) -> list[tuple[str, str]]:
    """The installed plugins that would be missing in Lambda: their distribution is
    neither built here nor one of the given wheels."""
    packaged = built_distributions() | {normalise(wheel.distribution) for wheel in given}
    return sorted({(name, dist) for name, dist in installed if normalise(dist) not in packaged})


def warn_left_out(missing: Iterable[tuple[str, str]]) -> None:
    """One warning per left-out plugin, on stderr (it does not stop the build: a
    developer may have installed a plugin they do not mean to deploy)."""
    for name, distribution in missing:
        print(f"[package] WARNING: plugin {name!r} (distribution {distribution}) is installed here but not "
              "packaged: the hub in Lambda will not have it, and tenants that enable it will be refused. "
              "To deploy it, give its wheel: make package EXTRA_PLUGINS=path/to/its.whl "
              "(python -m tools.packaging --plugin-wheel path/to/its.whl)", file=sys.stderr, flush=True)


def requirements(wheels: Sequence[Path], plugin_wheels: Sequence[Path] = ()) -> str:
    """The root requirements.txt followed by one absolute line per wheel."""
    lines = (ROOT / "requirements.txt").read_text().rstrip().splitlines()
    lines += ["", "# Added by tools.packaging: the project's own wheels."]
    lines += [str(wheel.resolve()) for wheel in wheels]
    if plugin_wheels:
        lines += ["# Third-party plugin wheels (--plugin-wheel)."]
        lines += [str(wheel.resolve()) for wheel in plugin_wheels]
    return "\n".join(lines) + "\n"


def stage_project(work: Path, wheels: Sequence[Path], plugin_wheels: Sequence[Path] = ()) -> Path:
    """A fresh copy of what chalice packages, with requirements naming the wheels."""
    stage = work / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for name in STAGED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, stage / name, ignore=IGNORED)
        else:
            shutil.copy2(source, stage / name)
    (stage / "requirements.txt").write_text(requirements(wheels, plugin_wheels))
    return stage


def chalice_package(stage: Path, chalice_stage: str, out: Path) -> None:
    """``chalice package`` of the staged project, merged with infra/template.json."""
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    out.mkdir(parents=True, exist_ok=True)
    command: list[str | Path] = [tool("chalice"), "package", "--stage", chalice_stage,
                                 "--merge-template", "infra/template.json", out]
    run(command, cwd=stage, env=env)


def lint(template: Path) -> None:
    """cfn-lint the template; any error or warning fails the build."""
    try:
        run([tool("cfn-lint"), template], cwd=ROOT)
    except PackagingError as err:
        raise PackagingError(f"cfn-lint found problems in {template}:\n{err}") from err


def package(chalice_stage: str, out: Path, work: Path, plugin_wheels: Sequence[Path] = ()) -> None:
    """All five steps, with a progress line for each."""
    started = time.monotonic()
    out, work = out.resolve(), work.resolve()
    extra = read_plugin_wheels(plugin_wheels)  # before the slow steps: a wrong path fails at once
    warn_left_out(left_out(installed_plugins(), extra))
    step(f"1/5 building wheels of {', '.join(DISTRIBUTIONS)} into {work / 'wheels'}")
    wheels = build_wheels(work)
    given = [wheel.path for wheel in extra]
    step(f"2/5 staging the project in {work / 'stage'} ({', '.join(w.name for w in [*wheels, *given])})")
    stage = stage_project(work, wheels, given)
    step(f"3/5 chalice package --stage {chalice_stage} into {out}")
    chalice_package(stage, chalice_stage, out)
    step(f"4/5 compiling bytecode into {out / 'deployment.zip'}")
    step(f"    {add_bytecode(out / 'deployment.zip')} modules compiled")
    step(f"5/5 cfn-lint {out / 'sam.json'}")
    lint(out / "sam.json")
    elapsed = time.monotonic() - started
    step(f"done in {elapsed:.1f}s: {out / 'deployment.zip'} and {out / 'sam.json'}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.packaging", description="Build dist/deployment.zip and dist/sam.json."
    )
    parser.add_argument("--stage", default="dev", help="chalice stage in .chalice/config.json (default: dev)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build",
                        help="directory for wheels/ and the staged project (default: build/)")
    parser.add_argument("--plugin-wheel", dest="plugin_wheels", type=Path, action="append", default=[],
                        metavar="WHEEL", help="a third-party plugin wheel to package too (repeatable); "
                        "make package EXTRA_PLUGINS=\"a.whl b.whl\" passes each")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = parse_args(argv)
    try:
        package(args.stage, args.out, args.work, args.plugin_wheels)
    except PackagingError as err:
        print(f"[package] FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
