"""A loaded model: what classify and answer run on, per customer message."""

from __future__ import annotations

import numpy as np
from switchboard_sdk.assistant import AssistantQuery, Classification, IntentScore, ProposedAnswer

from . import calibration, modelfile
from .features import Featuriser
from .text import language_of

TOP = 5  # intents a classification lists


class FaqModel:
    """The handle :func:`switchboard_assistant_load` returns; immutable once built."""

    def __init__(self, data: modelfile.ModelData) -> None:
        self.data = data
        self._featuriser = Featuriser(data.vocabulary)

    @classmethod
    def from_bytes(cls, payload: bytes) -> FaqModel:
        return cls(modelfile.load(payload))

    def classify(self, text: str) -> Classification:
        """The five likeliest intents; none when the message has no term the model knows."""
        language = language_of(text)
        idx, val = self._featuriser.row(text)
        if len(idx) == 0:
            return Classification(intents=[], language=language)
        scores = (val @ self.data.weights[idx] + self.data.bias).astype(np.float64)
        confidence = calibration.softmax(scores[None, :], self.data.temperature)[0]
        best = np.argsort(-confidence, kind="stable")[:TOP].tolist()
        intents = [IntentScore(intent=self.data.labels[i], confidence=min(1.0, float(confidence[i]))) for i in best]
        return Classification(intents=intents, language=language)

    def answer(self, query: AssistantQuery, classification: Classification) -> ProposedAnswer | None:
        """The top intent's article in the message's language, else the ticket's, else its first."""
        top = classification.top
        by_language = self.data.answers.get(top.intent, {}) if top is not None else {}
        if top is None or not by_language:
            return None
        preferred = (classification.language, query.language, next(iter(by_language)))
        language = next(lang for lang in preferred if lang is not None and lang in by_language)
        chosen = by_language[language]
        return ProposedAnswer(text=chosen.text, article_id=chosen.article_id, confidence=top.confidence,
                              language=language)
