"""Build the Lambda deployment package and SAM template: ``make package``.

Chalice drops local-directory requirement lines but packages wheel paths with
their ``*.dist-info`` (so plugin entry points work in Lambda; docs/deploy.md,
"Build the package"). So this module:

1. builds wheels of ``sdk/`` and ``plugins/`` into ``<work>/wheels``;
2. stages a copy of the project (app.py, chalicelib/, .chalice/, infra/) in
   ``<work>/stage`` with a requirements.txt made of the root requirements.txt
   (the runtime dependencies) plus the absolute paths of those wheels;
3. runs ``chalice package --merge-template infra/template.json`` there into ``<out>``;
4. runs cfn-lint on ``<out>/sam.json`` and fails on any finding.

The stage is rebuilt every run: chalice caches dependencies by the text of
requirements.txt, which would hide a rebuilt wheel with an unchanged name.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = ("sdk", "plugins")
STAGED = ("app.py", "chalicelib", ".chalice", "infra")
IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "build", "dist", "*.egg-info", "tests", "deployments", "venv"
)
DEFAULT_REGION = "us-east-1"


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


def requirements(wheels: Sequence[Path]) -> str:
    """The root requirements.txt followed by one absolute line per wheel."""
    lines = (ROOT / "requirements.txt").read_text().rstrip().splitlines()
    lines += ["", "# Added by tools.packaging: the project's own wheels."]
    return "\n".join(lines + [str(wheel.resolve()) for wheel in wheels]) + "\n"


def stage_project(work: Path, wheels: Sequence[Path]) -> Path:
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
    (stage / "requirements.txt").write_text(requirements(wheels))
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


def package(chalice_stage: str, out: Path, work: Path) -> None:
    """All four steps, with a progress line for each."""
    started = time.monotonic()
    out, work = out.resolve(), work.resolve()
    step(f"1/4 building wheels of {', '.join(DISTRIBUTIONS)} into {work / 'wheels'}")
    wheels = build_wheels(work)
    step(f"2/4 staging the project in {work / 'stage'} ({', '.join(w.name for w in wheels)})")
    stage = stage_project(work, wheels)
    step(f"3/4 chalice package --stage {chalice_stage} into {out}")
    chalice_package(stage, chalice_stage, out)
    step(f"4/4 cfn-lint {out / 'sam.json'}")
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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = parse_args(argv)
    try:
        package(args.stage, args.out, args.work)
    except PackagingError as err:
        print(f"[package] FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
