"""A tiny, real assistant plugin for the knowledge and training tests (until the
built-in ``faq`` is installed everywhere): words counted per label, cosine similarity.
It trains, refuses a base of fewer than two labels, serialises, classifies and answers
from the article of the best label in the query's language. Tested here too, so the
tests built on it cannot pass on a plugin that does nothing."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

from switchboard_sdk import CONTRACT_VERSION, InvalidInput, PluginInfo, hookimpl
from switchboard_sdk.assistant import (
    AssistantConfig,
    AssistantQuery,
    Classification,
    IntentScore,
    KnowledgeBase,
    ProposedAnswer,
    TrainedModel,
)

_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")


class WordsConfig(AssistantConfig):
    pass


def _bag(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def _cosine(a: Counter[str], b: dict[str, int]) -> float:
    dot = sum(count * b.get(word, 0) for word, count in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


class WordsAssistant:
    name = "words"

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, kind="assistant", config_model=WordsConfig, contract_version=CONTRACT_VERSION,
                          summary="test assistant: word overlap")

    @hookimpl
    def switchboard_assistant_train(self, knowledge: KnowledgeBase, config: Any) -> TrainedModel:
        bags: dict[str, Counter[str]] = {}
        for text, label in knowledge.labelled():
            bags.setdefault(label, Counter()).update(_bag(text))
        if len(bags) < 2:
            raise InvalidInput("at least two labels", [{"field": "intents", "message": "fewer than two"}])
        answers = {f"{a.label}|{a.language}": [a.id, a.answer] for a in knowledge.articles}
        data = json.dumps({"bags": {k: dict(v) for k, v in sorted(bags.items())}, "answers": answers},
                          sort_keys=True).encode()
        return TrainedModel(data=data, threshold=0.5, labels=sorted(bags), figures={"labels": float(len(bags))})

    @hookimpl
    def switchboard_assistant_load(self, data: bytes, config: Any) -> object:
        return json.loads(data)

    @hookimpl
    def switchboard_assistant_classify(self, model: Any, query: AssistantQuery, config: Any) -> Classification:
        bag = _bag(query.text)
        scores = sorted(((_cosine(bag, b), label) for label, b in model["bags"].items()), reverse=True)[:5]
        return Classification(intents=[IntentScore(intent=label, confidence=round(min(1.0, s), 6))
                                       for s, label in scores], language=query.language)

    @hookimpl
    def switchboard_assistant_answer(self, model: Any, query: AssistantQuery, classification: Classification,
                                     config: Any) -> ProposedAnswer | None:
        top = classification.top
        if top is None:
            return None
        language = query.language or "en"
        found = model["answers"].get(f"{top.intent}|{language}")
        if found is None:
            return None
        return ProposedAnswer(text=found[1], article_id=found[0], confidence=top.confidence, language=language)


def test_the_test_assistant_trains_classifies_and_answers() -> None:
    from switchboard_sdk import build_plugin_manager
    from switchboard_sdk.assistant import FaqArticle, IntentDefinition

    registry = build_plugin_manager(extra_plugins=[WordsAssistant()], load_entry_points=False)
    base = KnowledgeBase(tenant_id="t1", version=1, articles=[
        FaqArticle(id="reset", language="en", questions=["How do I reset my password?"], answer="Use the link.")],
        intents=[IntentDefinition(name="card", examples=["my card has not arrived", "where is my card"])])
    model = registry.train("words", base, WordsConfig())
    handle = registry.load_model("words", model.data, WordsConfig())
    query = AssistantQuery(tenant_id="t1", text="reset my password please", language="en")
    classification = registry.classify("words", handle, query, WordsConfig())
    assert classification.top is not None
    assert classification.top.intent == "faq:reset"
    answer = registry.answer("words", handle, query, classification, WordsConfig())
    assert answer is not None
    assert answer.text == "Use the link."
