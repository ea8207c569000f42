"""The conformance suite's assistant section: :class:`AssistantConformance`.

Import it from :mod:`switchboard_sdk.testing`, beside the other suites::

    class TestMyAssistant(AssistantConformance):
        plugin = my_plugin
        def make_config(self): ...      # optional: the plugin's config (default: its model's defaults)
        def knowledge(self): ...        # optional: a knowledge base (default: SAMPLE_KNOWLEDGE)
        def queries(self): ...          # optional: (message, the intent it must get) for that base

Every hook is called through the hub's own :class:`PluginRegistry` (train, load_model,
classify, answer), so a result of the wrong type fails as it would in the hub.
"""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from .assistant import (
    AssistantConfig,
    AssistantQuery,
    Classification,
    FaqArticle,
    IntentDefinition,
    IntentScore,
    KnowledgeBase,
    TrainedModel,
)
from .errors import BadPayload, InvalidInput
from .registry import PluginRegistry, build_plugin_manager

__all__ = ["SAMPLE_KNOWLEDGE", "SAMPLE_QUERIES", "AssistantConformance"]

TENANT = "t-conformance"
SAMPLE_KNOWLEDGE = KnowledgeBase(tenant_id=TENANT, version=1, articles=[
    FaqArticle(id="reset-password", language="en", answer="Choose 'Forgot password' on the sign-in page.",
               questions=["How do I reset my password?", "I forgot my password", "reset my password please",
                          "I cannot log in, I lost my password", "change my password"]),
    FaqArticle(id="reset-password", language="zh", answer="在登录页点击“忘记密码”。",
               questions=["怎么重置密码", "我忘记密码了", "如何修改密码", "密码找不回来了", "登录不了 密码忘了"]),
    FaqArticle(id="refund", language="en", answer="Refunds reach your card within five working days.",
               questions=["How do I get a refund?", "I want my money back", "refund my order",
                          "when will I get my refund", "please refund the payment"]),
    FaqArticle(id="refund", language="zh", answer="退款将在五个工作日内退回您的银行卡。",
               questions=["怎么申请退款", "我要退款", "钱什么时候退回来", "退款多久到账", "请帮我退钱"]),
    FaqArticle(id="opening-hours", language="en", answer="We are open 9:00-18:00, Monday to Saturday.",
               questions=["When are you open?", "What are your opening hours?", "Are you open on Sunday?",
                          "what time do you close", "opening hours of the shop"]),
], intents=[
    IntentDefinition(name="order_status", examples=[
        "where is my parcel", "track my order", "my delivery has not arrived", "when will my order arrive",
        "order status please", "我的快递到哪了", "查一下订单物流", "包裹还没到"]),
])
"""A small bilingual knowledge base: three articles (two in English and Chinese, one in
English only) and an intent without an article."""
SAMPLE_QUERIES = [
    ("I forgot my password", "faq:reset-password"),
    ("我忘记密码了", "faq:reset-password"),
    ("I want my money back", "faq:refund"),
    ("退款多久到账", "faq:refund"),
    ("What are your opening hours?", "faq:opening-hours"),
    ("track my order", "order_status"),
]
"""Messages of :data:`SAMPLE_KNOWLEDGE` (as customers asked them) and their intents."""
_TEXT = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


class AssistantConformance:
    """What every assistant plugin must do."""

    plugin: ClassVar[object]

    def make_config(self) -> BaseModel:
        model = self._registry().infos[self._name()].config_model
        return model()

    def knowledge(self) -> KnowledgeBase:
        return SAMPLE_KNOWLEDGE

    def queries(self) -> list[tuple[str, str]]:
        return SAMPLE_QUERIES

    # -- helpers --------------------------------------------------------------

    def _registry(self) -> PluginRegistry:
        return build_plugin_manager(extra_plugins=[self.plugin], load_entry_points=False)

    def _name(self) -> str:
        (info,) = build_plugin_manager(extra_plugins=[self.plugin], load_entry_points=False).infos.values()
        return info.name

    @pytest.fixture(scope="class")
    @classmethod
    def trained(cls) -> TrainedModel:
        suite = cls()
        return suite._registry().train(suite._name(), suite.knowledge(), suite.make_config())

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, trained: TrainedModel) -> Any:
        suite = cls()
        return suite._registry().load_model(suite._name(), trained.data, suite.make_config())

    def _classify(self, model: Any, text: str, language: str | None = None) -> Classification:
        query = AssistantQuery(tenant_id=TENANT, text=text, language=language)
        return self._registry().classify(self._name(), model, query, self.make_config())

    # -- the suite --------------------------------------------------------------

    def test_declares_an_assistant(self) -> None:
        info = self._registry().infos[self._name()]
        assert info.kind == "assistant"
        assert issubclass(info.config_model, AssistantConfig)
        assert isinstance(self.make_config(), info.config_model)

    @pytest.mark.parametrize("articles", [0, 1])
    def test_refuses_a_knowledge_base_of_fewer_than_two_intents(self, articles: int) -> None:
        knowledge = KnowledgeBase(tenant_id=TENANT, version=1, articles=self.knowledge().articles[:articles])
        with pytest.raises(InvalidInput):
            self._registry().train(self._name(), knowledge, self.make_config())

    def test_training_is_deterministic(self, trained: TrainedModel) -> None:
        again = self._registry().train(self._name(), self.knowledge(), self.make_config())
        assert (again.data, again.threshold, again.labels) == (trained.data, trained.threshold, trained.labels)

    def test_the_model_names_every_intent(self, trained: TrainedModel) -> None:
        assert set(trained.labels) == {label for _, label in self.knowledge().labelled()}
        assert 0.0 <= trained.threshold <= 1.0

    def test_recognises_its_examples(self, model: Any) -> None:
        for text, intent in self.queries():
            top = self._classify(model, text).top
            assert top is not None, text
            assert top.intent == intent, text

    def test_classifications_are_bounded_and_ordered(self, model: Any, trained: TrainedModel) -> None:
        for text, _ in [*self.queries(), ("", ""), ("???", ""), ("x" * 5000, "")]:
            intents = self._classify(model, text).intents
            assert len(intents) <= 5
            assert len({score.intent for score in intents}) == len(intents)
            assert all(score.intent in trained.labels and 0.0 <= score.confidence <= 1.0 for score in intents)

    def test_classifying_is_pure(self, model: Any) -> None:
        for text, _ in self.queries():
            assert self._classify(model, text) == self._classify(model, text)

    def test_a_loaded_copy_classifies_alike(self, trained: TrainedModel, model: Any) -> None:
        copy = self._registry().load_model(self._name(), trained.data, self.make_config())
        for text, _ in self.queries():
            assert self._classify(copy, text) == self._classify(model, text)

    def test_answers_from_the_top_intents_article_in_the_customers_language(self, model: Any) -> None:
        articles = {(a.label, a.language): a for a in self.knowledge().articles}
        for text, intent in self.queries():
            classification = self._classify(model, text)
            query = AssistantQuery(tenant_id=TENANT, text=text)
            answer = self._registry().answer(self._name(), model, query, classification, self.make_config())
            if not any(label == intent for label, _ in articles):
                assert answer is None, f"{intent} has no article"
                continue
            assert answer is not None, text
            if (intent, classification.language) in articles:
                assert answer.language == classification.language
            article = articles[(intent, answer.language)]
            assert (answer.article_id, answer.text) == (article.id, article.answer)

    def test_no_answer_for_an_intent_without_an_article(self, model: Any) -> None:
        answered = {article.label for article in self.knowledge().articles}
        bare = [label for _, label in self.knowledge().labelled() if label not in answered]
        for intent in bare[:1]:
            classification = Classification(intents=[IntentScore(intent=intent, confidence=0.99)])
            query = AssistantQuery(tenant_id=TENANT, text="anything")
            assert self._registry().answer(self._name(), model, query, classification, self.make_config()) is None

    @pytest.mark.parametrize("data", [b"", b"not a model", b"PK\x03\x04broken", pickle.dumps({"weights": [1.0]})])
    def test_an_unreadable_model_is_a_bad_payload(self, data: bytes) -> None:
        with pytest.raises(BadPayload):
            self._registry().load_model(self._name(), data, self.make_config())

    @_TEXT
    @given(text=st.text(max_size=300))
    def test_any_text_classifies(self, model: Any, text: str) -> None:
        intents = self._classify(model, text).intents
        assert all(0.0 <= score.confidence <= 1.0 for score in intents)
