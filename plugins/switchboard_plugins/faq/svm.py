"""One-vs-rest linear SVMs (L2-regularised squared hinge) by dual coordinate descent.

The algorithm of LIBLINEAR (Hsieh et al., ICML 2008; scikit-learn's ``LinearSVC``),
written for numpy alone: scipy, which every packaged SVM needs, would take the
assistant's function past Lambda's 250 MB. One-vs-rest problems are independent, so
one pass updates the dual variables of a sample in all classes at once: a handful of
numpy calls per sample, whatever the number of intents.

For sample ``i`` (sparse row ``x``, labels ``y`` = ±1 per class, duals ``a``)::

    g = y * (x·W + b) - 1 + a / (2C)        # the dual's gradient
    a' = max(a - g / (|x|² + 1 + 1/(2C)), 0)
    W[x] += x ⊗ (a' - a) y ;  b += (a' - a) y

``b`` is LIBLINEAR's bias: a constant feature 1, regularised like the others. Samples
are visited in a seeded permutation each epoch, and the loop stops when no dual moves
by more than ``tol`` in projected gradient, or after ``max_epochs``: the same data
always gives the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .features import Row

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Settings:
    c: float = 0.5
    max_epochs: int = 60
    tol: float = 0.2  # 0.05 gave the same out-of-fold accuracy for 50% more CPU (docs/assistants/faq.md)
    seed: int = 0


@dataclass(frozen=True)
class LinearModel:
    weights: Matrix  # features x classes
    bias: npt.NDArray[np.float64]  # classes

    def scores(self, rows: Sequence[Row]) -> Matrix:
        """Decision values, one row per sample."""
        out = np.empty((len(rows), self.bias.shape[0]))
        for n, (idx, val) in enumerate(rows):
            out[n] = val @ self.weights[idx] + self.bias
        return out


def train(rows: Sequence[Row], labels: npt.NDArray[np.int64], n_classes: int, n_features: int,
          settings: Settings | None = None) -> LinearModel:
    """Weights of one SVM per class, from ``rows`` labelled ``0 … n_classes-1``."""
    settings = settings or Settings()
    problem = _Problem(rows, labels, n_classes, n_features, settings.c)
    rng = np.random.default_rng(settings.seed)
    everyone: npt.NDArray[np.int64] = np.arange(len(rows), dtype=np.int64)
    active: npt.NDArray[np.int64] = everyone
    for _ in range(settings.max_epochs):
        worst, settled = problem.epoch(rng.permutation(active).tolist())
        if worst > settings.tol:
            active = np.setdiff1d(active, settled, assume_unique=True).astype(np.int64, copy=False)
        elif len(active) < len(everyone):
            active = everyone  # converged on the active samples: check every sample again
        else:
            break
    return LinearModel(weights=problem.weights, bias=problem.bias)


class _Problem:
    """The dual problem's state; ``epoch`` is one pass of coordinate descent."""

    def __init__(self, rows: Sequence[Row], labels: npt.NDArray[np.int64], n_classes: int, n_features: int,
                 c: float) -> None:
        n = len(rows)
        self.rows = rows
        self.signs = -np.ones((n, n_classes))
        self.signs[np.arange(n), labels] = 1.0
        self.duals = np.zeros((n, n_classes))
        self.weights = np.zeros((n_features, n_classes))
        self.bias = np.zeros(n_classes)
        self.diagonal = 1.0 / (2.0 * c)
        self.steps = np.array([float(val @ val) + 1.0 + self.diagonal for _, val in rows])

    def epoch(self, order: list[int]) -> tuple[float, list[int]]:
        """Visit ``order``; the largest step seen (in units of the projected gradient),
        and the samples beyond the margin of every class (all duals zero: "shrunk" from
        the next passes, as LIBLINEAR does, until the rest has converged)."""
        worst = 0.0
        settled: list[int] = []
        weights, bias, diagonal = self.weights, self.bias, self.diagonal
        for i in order:
            idx, val = self.rows[i]
            y, a = self.signs[i], self.duals[i]
            rows = weights.take(idx, axis=0)
            gradient = y * (val @ rows + bias) - 1.0 + diagonal * a
            moved = np.maximum(a - gradient / self.steps[i], 0.0)
            change = moved - a
            # |change| x step is the projected gradient, or less where a dual hits zero
            largest = float(np.abs(change).max()) * self.steps[i]
            if largest == 0.0:
                if not a.any():
                    settled.append(i)
                continue
            worst = max(worst, largest)
            change *= y
            self.duals[i] = moved
            weights[idx] = rows + val[:, None] * change  # a row's indices are unique: no update is lost
            bias += change
        return worst, settled
