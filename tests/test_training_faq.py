# ruff: noqa: RUF001  (Chinese texts)
"""Training end to end with the built-in ``faq`` assistant (H2's plugin, found through its
entry point) on the demo tenant's bilingual knowledge base, as ``make run`` does: the
import sends one job, the trainer trains and swaps in the model, the help centre's search
and ``hub.assistant_models`` answer "How do I reset my password?" in both languages."""

from __future__ import annotations

import pytest
from chalice.test import Client
from switchboard_sdk.assistant import AssistantQuery

import app as app_module
from chalicelib.hub import Hub
from tests.test_training import drain
from tools.local.demo import DemoTenant
from tools.local.demo_knowledge import seed_demo_knowledge


@pytest.fixture
def trained(hub: Hub, demo: DemoTenant) -> Hub:
    if "faq" not in hub.registry.infos:
        pytest.skip("the faq assistant plugin is not installed")
    assert seed_demo_knowledge(hub, demo.tenant_id, demo.api_key)
    assert drain(hub) == [{"batchItemFailures": []}]
    return hub


@pytest.mark.parametrize(("text", "language", "words"), [
    ("How do I reset my password?", "en", "Forgot password?"),
    ("how do i reset my password", "en", "Forgot password?"),
    ("如何重置密码？", "zh", "忘记密码"),
])
def test_the_demo_base_trains_and_answers_a_password_question(trained: Hub, text: str, language: str,
                                                              words: str) -> None:
    model = trained.assistant_models.current("demo")
    assert model is not None
    assert model.plugin == "faq"
    query = AssistantQuery(tenant_id="demo", text=text, language=language)
    classification = trained.registry.classify("faq", model.handle, query, model.config)
    assert classification.top is not None
    assert classification.top.intent == "account.password"
    assert classification.top.confidence >= model.threshold
    answer = trained.registry.answer("faq", model.handle, query, classification, model.config)
    assert answer is not None
    assert words in answer.text
    assert answer.article_id == "reset-password"


def test_the_help_centre_suggests_the_model_s_answer(trained: Hub) -> None:
    with Client(app_module.app) as client:
        page = client.http.get("/help/demo?lang=zh&q=%E5%A6%82%E4%BD%95%E9%87%8D%E7%BD%AE%E5%AF%86%E7%A0%81").body
    text = page.decode()
    assert "推荐答案" in text
    assert "忘记密码" in text.split("推荐答案")[1].split("</section>")[0]
    pointer = trained.model_records("demo").pointer()
    assert pointer is not None
    assert (pointer.plugin, pointer.knowledge_version, pointer.labels) == ("faq", 1, 7)
