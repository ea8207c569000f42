"""The ``faq`` assistant on real data: a stratified slice of BANKING77's training split
(tests/data/banking77: 12 examples of each of the 77 intents to train on, 4 others each to
measure on) through ``switchboard assistant evaluate``'s own functions, and a Chinese
knowledge base written for the project (tests/data/assistant_zh).

The bounds are what this slice gives with room for noise (chance is 1.3% on BANKING77):
a broken feature, solver or calibration lands far below them."""

from __future__ import annotations

from pathlib import Path

import pytest
from switchboard_plugins.faq import plugin
from switchboard_sdk import build_plugin_manager

from tools.assistant_cli import Evaluation, read_labelled, score, train

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
REGISTRY = build_plugin_manager(extra_plugins=[plugin], load_entry_points=False)


def evaluate(directory: str, train_file: str, test_file: str) -> Evaluation:
    trained = train(REGISTRY, "faq", read_labelled(DATA / directory / train_file), 0.97)
    return score(REGISTRY, "faq", trained, read_labelled(DATA / directory / test_file), 0.97)


@pytest.fixture(scope="module")
def banking77() -> Evaluation:
    return evaluate("banking77", "train_subset.csv", "test_subset.csv")


def test_banking77_intents_are_recognised_from_twelve_examples_each(banking77: Evaluation) -> None:
    assert banking77.accuracy >= 0.68


def test_answers_above_the_threshold_are_mostly_right(banking77: Evaluation) -> None:
    assert banking77.coverage >= 0.25
    assert banking77.precision >= 0.9


def test_chinese_questions_phrased_otherwise_are_recognised() -> None:
    chinese = evaluate("assistant_zh", "train.csv", "test.csv")
    assert chinese.accuracy >= 0.85
    assert chinese.coverage >= 0.4
