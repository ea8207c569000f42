"""The ``faq`` assistant: the conformance suite, and what it does beyond it (answers in
the customer's language, a threshold chosen for a precision, a model file that cannot
run code)."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from switchboard_plugins.faq import plugin
from switchboard_plugins.faq.calibration import choose_threshold
from switchboard_plugins.faq.config import FaqConfig
from switchboard_plugins.faq.text import language_of
from switchboard_sdk import build_plugin_manager
from switchboard_sdk.assistant import AssistantQuery, Classification, IntentScore, TrainedModel
from switchboard_sdk.errors import BadPayload
from switchboard_sdk.testing import SAMPLE_KNOWLEDGE, AssistantConformance

REGISTRY = build_plugin_manager(extra_plugins=[plugin], load_entry_points=False)
CONFIG = FaqConfig()


class TestFaqConforms(AssistantConformance):
    plugin = plugin

    def make_config(self) -> FaqConfig:
        return CONFIG


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return REGISTRY.train("faq", SAMPLE_KNOWLEDGE, CONFIG)


@pytest.fixture(scope="module")
def model(trained: TrainedModel) -> object:
    return REGISTRY.load_model("faq", trained.data, CONFIG)


def ask(model: object, text: str, language: str | None = None) -> tuple[Classification, object]:
    query = AssistantQuery(tenant_id="t", text=text, language=language)
    classification = REGISTRY.classify("faq", model, query, CONFIG)
    return classification, REGISTRY.answer("faq", model, query, classification, CONFIG)


@pytest.mark.parametrize(("text", "language"), [("How do I reset my password?", "en"), ("请问怎么重置密码\uff1f", "zh"),
                                                ("我的 iPhone 忘记密码了", "zh"), ("reset 密码 please", "en"),
                                                ("\uff1f\uff01123", None)])
def test_the_language_is_the_share_of_chinese_letters(text: str, language: str | None) -> None:
    assert language_of(text) == language


def test_english_and_chinese_questions_get_their_own_languages_answer(model: object) -> None:
    _, english = ask(model, "Help, I forgot my password")
    _, chinese = ask(model, "我的密码忘记了怎么办")
    assert english is not None
    assert chinese is not None
    assert (english.article_id, english.language) == ("reset-password", "en")
    assert (chinese.article_id, chinese.language, chinese.text) == ("reset-password", "zh", "在登录页点击“忘记密码”。")


def test_an_article_in_one_language_answers_in_it_and_a_languageless_message_in_the_tickets(model: object) -> None:
    query = AssistantQuery(tenant_id="t", text="几点", language="zh")
    only_english = Classification(intents=[IntentScore(intent="faq:opening-hours", confidence=0.9)], language="zh")
    answer = REGISTRY.answer("faq", model, query, only_english, CONFIG)
    assert answer is not None
    assert answer.language == "en"
    no_language = Classification(intents=[IntentScore(intent="faq:refund", confidence=0.9)], language=None)
    answer = REGISTRY.answer("faq", model, AssistantQuery(tenant_id="t", text="12345", language="zh"),
                             no_language, CONFIG)
    assert answer is not None
    assert answer.language == "zh"


def test_a_message_of_unknown_words_recognises_nothing(model: object) -> None:
    classification, answer = ask(model, "§§§ ¶¶¶")
    assert classification.intents == []
    assert answer is None


def test_the_threshold_is_the_lowest_confidence_that_keeps_the_precision() -> None:
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, True, True, False, True, False])
    chosen = choose_threshold(confidence, correct, 0.8, standard_errors=0)
    assert (chosen.threshold, chosen.coverage) == (0.6, 6 / 7)
    assert chosen.precision == pytest.approx(5 / 6)
    strict = choose_threshold(confidence, correct, 0.95, standard_errors=0)
    assert (strict.threshold, strict.precision) == (0.8, 1.0)


def test_the_precision_must_be_reached_by_a_standard_error() -> None:
    confidence = np.linspace(1.0, 0.01, 100)
    correct = np.ones(100, dtype=bool)
    correct[[40, 60, 80]] = False
    exact = choose_threshold(confidence, correct, 0.96, standard_errors=0)
    careful = choose_threshold(confidence, correct, 0.96)
    assert exact.coverage == 1.0  # 97 of 100 right
    # 40 of 40 clears 0.96 + sqrt(0.96 x 0.04 / 40) = 0.991; 59 of 60 misses 0.985; 97 of 100 misses 0.980
    assert (careful.coverage, careful.precision) == (0.4, 1.0)


def test_tied_confidences_are_answered_together_or_not_at_all() -> None:
    chosen = choose_threshold(np.array([0.9, 0.9, 0.9]), np.array([True, False, True]), 0.9, standard_errors=0)
    assert chosen.threshold == 1.0
    assert chosen.coverage == 0.0


def test_training_reports_its_cross_validated_figures(trained: TrainedModel) -> None:
    assert trained.figures["examples"] == len(SAMPLE_KNOWLEDGE.labelled())
    assert 0.5 <= trained.figures["cv_accuracy"] <= 1.0
    assert trained.figures["cv_precision"] >= CONFIG.precision
    assert trained.figures["temperature"] > 0.0


def test_a_higher_precision_never_lowers_the_threshold() -> None:
    lenient = REGISTRY.train("faq", SAMPLE_KNOWLEDGE, FaqConfig(precision=0.5))
    strict = REGISTRY.train("faq", SAMPLE_KNOWLEDGE, FaqConfig(precision=0.99))
    assert lenient.threshold <= strict.threshold


def _rezipped(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == name else source.read(info))
    return buffer.getvalue()


def test_a_model_with_a_pickled_array_is_refused(trained: TrainedModel) -> None:
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"run": "code"}], dtype=object), allow_pickle=True)
    with pytest.raises(BadPayload):
        REGISTRY.load_model("faq", _rezipped(trained.data, "bias.npy", pickled.getvalue()), CONFIG)
    with pytest.raises(BadPayload):
        REGISTRY.load_model("faq", pickle.dumps(trained), CONFIG)


@pytest.mark.parametrize(("member", "content"), [
    ("header.json", b'{"format": "switchboard-faq", "version": 99}'),
    ("header.json", b"[]"),
    ("weights.npy", b"\x93NUMPY garbage"),
])
def test_a_model_whose_parts_do_not_fit_is_refused(trained: TrainedModel, member: str, content: bytes) -> None:
    with pytest.raises(BadPayload):
        REGISTRY.load_model("faq", _rezipped(trained.data, member, content), CONFIG)


def test_mismatched_shapes_are_refused(trained: TrainedModel) -> None:
    short = io.BytesIO()
    np.save(short, np.zeros(2, dtype=np.float32))
    with pytest.raises(BadPayload):
        REGISTRY.load_model("faq", _rezipped(trained.data, "bias.npy", short.getvalue()), CONFIG)


def test_registering_the_plugin_loads_neither_numpy_nor_the_model() -> None:
    """Every function of the hub registers every plugin at start-up: the webhook's must not pay for numpy."""
    code = ("import sys; from switchboard_sdk import build_plugin_manager; build_plugin_manager(allowlist={'faq'}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'snowballstemmer') "
            "or m.startswith('switchboard_plugins.faq.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)  # noqa: S603 -- a constant script
    assert result.stdout.strip() == "['switchboard_plugins.faq.config', 'switchboard_plugins.faq.hooks']"
