"""``switchboard assistant evaluate``: its four lines on stdout, progress on stderr, and
the same figures every time for the same files."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from tools.cli import main

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "assistant_zh"
ARGS = ["assistant", "evaluate", "--train", str(DATA / "train.csv"), "--test", str(DATA / "test.csv")]


def test_prints_the_four_figures_and_only_them_on_stdout() -> None:
    first = CliRunner().invoke(main, ARGS)
    assert first.exit_code == 0, first.output
    names = [re.fullmatch(r"([a-z_]+)=(\d\.\d{4})", line) for line in first.stdout.splitlines()]
    assert [match.group(1) if match else None for match in names] == [
        "accuracy", "threshold", "coverage_at_precision", "precision_at_threshold"]
    assert "training faq on 225 examples of 15 intents" in first.stderr
    assert CliRunner().invoke(main, ARGS).stdout == first.stdout


def test_an_unknown_plugin_or_a_file_without_the_columns_is_a_usage_error(tmp_path: Path) -> None:
    unknown = CliRunner().invoke(main, [*ARGS, "--plugin", "nope"])
    assert unknown.exit_code == 2
    assert "no assistant plugin named 'nope'" in unknown.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("question,answer\nhi,hello\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["assistant", "evaluate", "--train", str(wrong), "--test", str(wrong)])
    assert refused.exit_code == 2
    assert "expected the columns text,category" in refused.stderr
