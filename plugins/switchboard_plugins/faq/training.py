"""A knowledge base into a model: features, SVMs, and a threshold from cross-validation.

Everything is chosen from the knowledge base alone. Its labelled examples are split
into ``FOLDS`` folds (per intent, in a seeded order, so each fold has its share of every
intent); a model trained on the other folds scores each fold, and those out-of-fold
scores fit the confidence's temperature and the threshold for the tenant's precision
(:mod:`.calibration`). Then one model is trained on every example. Seeds are fixed and
no step reads a clock or a hash of memory: the same knowledge base gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from switchboard_sdk.assistant import KnowledgeBase, TrainedModel
from switchboard_sdk.errors import InvalidInput

from . import calibration, features, svm
from .modelfile import Answer, ModelData, dump
from .text import terms

FOLDS = 5
SEED = 14


@dataclass(frozen=True)
class Examples:
    texts: list[str]
    labels: npt.NDArray[np.int64]  # indices into names
    names: list[str]  # every intent, sorted


def examples_of(knowledge: KnowledgeBase) -> Examples:
    """The labelled examples; ``InvalidInput`` when there is nothing to tell apart."""
    pairs = [(text, label) for text, label in knowledge.labelled() if text.strip()]
    names = sorted({label for _, label in pairs})
    if len(names) < 2:
        raise InvalidInput(f"the knowledge base needs examples of at least two intents to train on, "
                           f"it has {len(names)}")
    index = {name: i for i, name in enumerate(names)}
    return Examples(texts=[text for text, _ in pairs], names=names,
                    labels=np.array([index[label] for _, label in pairs], dtype=np.int64))


def answers_of(knowledge: KnowledgeBase) -> dict[str, dict[str, Answer]]:
    """label → language → the answer (the first article of that label in each language)."""
    found: dict[str, dict[str, Answer]] = {}
    for article in knowledge.articles:
        found.setdefault(article.label, {}).setdefault(article.language, Answer(article.id, article.answer))
    return found


def folds_of(labels: npt.NDArray[np.int64], folds: int, seed: int) -> npt.NDArray[np.int64]:
    """Each example's fold: every intent's examples shuffled (seeded) and dealt in turn."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), dtype=np.int64)
    start = 0
    for label in np.unique(labels).tolist():
        members = rng.permutation(np.flatnonzero(labels == label))
        fold[members] = (np.arange(len(members)) + start) % folds
        start += len(members)  # small intents do not all start in fold 0
    return fold


def _fit(corpus: features.Corpus, docs: npt.NDArray[np.int64], labels: npt.NDArray[np.int64], n_classes: int,
         settings: svm.Settings) -> tuple[features.Vocabulary, npt.NDArray[np.int64], svm.LinearModel]:
    vocabulary, local = corpus.fit(docs)
    rows = corpus.rows(docs, local, vocabulary)
    return vocabulary, local, svm.train(rows, labels[docs], n_classes, vocabulary.size, settings)


def out_of_fold_scores(corpus: features.Corpus, examples: Examples, settings: svm.Settings,
                       folds: int = FOLDS) -> npt.NDArray[np.float64]:
    """Each example's scores by a model that never saw it."""
    fold = folds_of(examples.labels, folds, SEED)
    scores = np.zeros((corpus.size, len(examples.names)))
    for k in range(folds):
        held = np.flatnonzero(fold == k)
        if len(held) == 0:
            continue
        vocabulary, local, model = _fit(corpus, np.flatnonzero(fold != k), examples.labels, len(examples.names),
                                        settings)
        scores[held] = model.scores(corpus.rows(held, local, vocabulary))
    return scores


def train(knowledge: KnowledgeBase, precision: float, settings: svm.Settings | None = None) -> TrainedModel:
    """The model of ``knowledge`` and its threshold for ``precision``."""
    settings = settings or svm.Settings()
    examples = examples_of(knowledge)
    corpus = features.Corpus([terms(text) for text in examples.texts])
    oof = out_of_fold_scores(corpus, examples, settings)
    temperature = calibration.fit_temperature(oof, examples.labels)
    confidence = calibration.softmax(oof, temperature).max(axis=1)
    correct = oof.argmax(axis=1) == examples.labels
    operating = calibration.choose_threshold(confidence, correct, precision)
    vocabulary, _, model = _fit(corpus, np.arange(corpus.size), examples.labels, len(examples.names), settings)
    data = ModelData(labels=examples.names, vocabulary=vocabulary, weights=model.weights, bias=model.bias,
                     temperature=temperature, answers=answers_of(knowledge))
    figures = {
        "cv_accuracy": round(float(correct.mean()), 4), "cv_coverage": round(operating.coverage, 4),
        "cv_precision": round(operating.precision, 4), "temperature": round(temperature, 6),
        "examples": float(len(examples.texts)), "features": float(vocabulary.size),
    }
    return TrainedModel(data=dump(data), threshold=operating.threshold, labels=examples.names, figures=figures)
