"""TF-IDF features over the terms of :mod:`.text`, in numpy only.

Each block (word stems, characters in words, CJK characters) is weighted on its own —
sublinear term frequency (``1 + ln tf``) times smoothed inverse document frequency
(``ln((1 + n) / (1 + df)) + 1``) — and scaled to unit length, as scikit-learn's
``TfidfVectorizer(sublinear_tf=True)`` does for each of two stacked vectorisers: a
long message's thousand character n-grams then weigh no more than its ten words.

A document is a sparse row: unique ``int32`` feature indices and their ``float32`` values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .text import terms

Indices = npt.NDArray[np.int32]
Values = npt.NDArray[np.float32]
Row = tuple[Indices, Values]
MIN_DF = {"w": 1, "c": 2, "h": 1}  # character n-grams seen once are mostly typos and noise


@dataclass(frozen=True)
class Vocabulary:
    """Terms (``"<block>:<term>"``, in index order) and their idf weights."""

    terms: tuple[str, ...]
    idf: npt.NDArray[np.float32]

    @property
    def size(self) -> int:
        return len(self.terms)

    def index(self) -> dict[str, int]:
        return {term: i for i, term in enumerate(self.terms)}


Terms = dict[str, list[str]]


def fit(documents: Sequence[Terms]) -> Vocabulary:
    """The vocabulary of ``documents`` (each the :func:`.text.terms` of a text): per block,
    the terms in at least ``MIN_DF`` of them, sorted."""
    df: Counter[str] = Counter()
    for document in documents:
        df.update({f"{block}:{term}" for block, items in document.items() for term in items})
    kept = sorted(term for term, count in df.items() if count >= MIN_DF[term[0]])
    n = len(documents)
    idf = np.array([np.log((1 + n) / (1 + df[term])) + 1.0 for term in kept], dtype=np.float32)
    return Vocabulary(terms=tuple(kept), idf=idf)


class Featuriser:
    """Rows of a :class:`Vocabulary` from raw text (what classify runs per message)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._index = vocabulary.index()
        self._idf = vocabulary.idf

    def row(self, text: str) -> Row:
        return self.row_of(terms(text))

    def row_of(self, document: Terms) -> Row:
        """The row of a text's terms (training computes them once for all its folds)."""
        parts: list[tuple[Indices, Values]] = []
        for block, items in document.items():
            counts = Counter(i for i in (self._index.get(f"{block}:{t}") for t in items) if i is not None)
            if not counts:
                continue
            idx = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
            tf = np.fromiter((counts[i] for i in idx.tolist()), dtype=np.float32, count=len(counts))
            val = (1.0 + np.log(tf)) * self._idf[idx]
            parts.append((idx, (val / np.linalg.norm(val)).astype(np.float32)))
        if not parts:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        # each block's indices are its own (the prefix is part of the term): the row's are unique
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def rows(self, documents: Iterable[Terms]) -> list[Row]:
        return [self.row_of(document) for document in documents]

