"""TF-IDF features over the terms of :mod:`.text`, in numpy only.

Each block (word stems, characters in words, CJK characters) is weighted on its own -
sublinear term frequency (``1 + ln tf``) times smoothed inverse document frequency
(``ln((1 + n) / (1 + df)) + 1``) - and scaled to unit length, as scikit-learn's
``TfidfVectorizer(sublinear_tf=True)`` does for each of two stacked vectorisers: a
long message's hundred character n-grams then weigh no more than its ten words.

A document is a sparse row: unique ``int32`` feature indices and their ``float32``
values. Training numbers every term of the knowledge base once (:class:`Corpus`), so the
vocabulary and rows of each cross-validation fold are array operations, not a new pass
over the text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .text import BLOCKS, terms

Indices = npt.NDArray[np.int32]
Values = npt.NDArray[np.float32]
Row = tuple[Indices, Values]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Terms = dict[str, list[str]]
MIN_DF = {"w": 1, "c": 2, "h": 1}  # character n-grams seen once are mostly typos and noise


@dataclass(frozen=True)
class Vocabulary:
    """Terms (``"<block>:<term>"``, sorted, in index order) and their idf weights."""

    terms: tuple[str, ...]
    idf: npt.NDArray[np.float32]

    @property
    def size(self) -> int:
        return len(self.terms)


def _block_ids(names: Sequence[str]) -> Ints:
    return np.array([BLOCKS.index(name[0]) for name in names], dtype=np.int64)


def weigh(doc: Ints, local: Ints, count: Floats, block: Ints, idf: npt.NDArray[np.float32],
          n_docs: int) -> list[Row]:
    """Rows of ``n_docs`` documents from their (document, feature, count, block) entries,
    grouped by document in order; entries of unknown features (``local`` -1) are dropped."""
    keep = local >= 0
    doc, local, count, block = doc[keep], local[keep], count[keep], block[keep]
    values = (1.0 + np.log(count)) * idf[local]
    group = doc * len(BLOCKS) + block
    norms = np.sqrt(np.bincount(group, weights=values * values, minlength=n_docs * len(BLOCKS)))
    values = values / norms[group]
    bounds = np.searchsorted(doc, np.arange(1, n_docs))
    return list(zip(np.split(local.astype(np.int32), bounds), np.split(values.astype(np.float32), bounds),
                    strict=True))


class Corpus:
    """Documents' terms as flat arrays: every distinct term numbered once, in sorted order."""

    def __init__(self, documents: Sequence[Terms]) -> None:
        names = sorted({f"{block}:{term}" for document in documents for block, items in document.items()
                        for term in items})
        number = {name: i for i, name in enumerate(names)}
        docs: list[int] = []
        ids: list[int] = []
        counts: list[int] = []
        for n, document in enumerate(documents):
            for block, items in document.items():
                for term, count in Counter(items).items():
                    docs.append(n)
                    ids.append(number[f"{block}:{term}"])
                    counts.append(count)
        self.names = names
        self.size = len(documents)
        self.doc = np.array(docs, dtype=np.int64)
        self.term = np.array(ids, dtype=np.int64)
        self.count = np.array(counts, dtype=np.float64)
        self.block = _block_ids(names)[self.term] if names else np.zeros(0, dtype=np.int64)

    def _entries(self, docs: Ints) -> tuple[Ints, npt.NDArray[np.bool_]]:
        """Each entry's position among ``docs`` (strictly increasing) and which entries are theirs."""
        if np.any(np.diff(docs) <= 0):
            raise ValueError("documents must be given in increasing order")
        position = np.full(self.size, -1, dtype=np.int64)
        position[docs] = np.arange(len(docs))
        mask = position[self.doc] >= 0
        return position[self.doc[mask]], mask

    def fit(self, docs: Ints) -> tuple[Vocabulary, Ints]:
        """The vocabulary of ``docs`` (terms in at least ``MIN_DF`` of them, per block) and
        each corpus term's index in it (-1: not in it)."""
        _, mask = self._entries(docs)
        df = np.bincount(self.term[mask], minlength=len(self.names))
        least = np.array([MIN_DF[block] for block in BLOCKS])[_block_ids(self.names)] if self.names else df
        kept = np.flatnonzero((df >= least) & (df > 0))
        local = np.full(len(self.names), -1, dtype=np.int64)
        local[kept] = np.arange(len(kept))
        idf = (np.log((1.0 + len(docs)) / (1.0 + df[kept])) + 1.0).astype(np.float32)
        return Vocabulary(terms=tuple(self.names[i] for i in kept.tolist()), idf=idf), local

    def rows(self, docs: Ints, local: Ints, vocabulary: Vocabulary) -> list[Row]:
        """Rows of ``docs`` in ``vocabulary`` (``local`` as :meth:`fit` returned it)."""
        position, mask = self._entries(docs)
        return weigh(position, local[self.term[mask]], self.count[mask], self.block[mask], vocabulary.idf,
                     len(docs))


class Featuriser:
    """The row of one message in a :class:`Vocabulary` (what classify runs per message)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._index = {term: i for i, term in enumerate(vocabulary.terms)}
        self._idf = vocabulary.idf

    def row(self, text: str) -> Row:
        local: list[int] = []
        counts: list[int] = []
        blocks: list[int] = []
        for block, items in terms(text).items():
            for term, count in Counter(items).items():
                local.append(self._index.get(f"{block}:{term}", -1))
                counts.append(count)
                blocks.append(BLOCKS.index(block))
        (row,) = weigh(np.zeros(len(local), dtype=np.int64), np.array(local, dtype=np.int64),
                       np.array(counts, dtype=np.float64), np.array(blocks, dtype=np.int64), self._idf, 1)
        return row
