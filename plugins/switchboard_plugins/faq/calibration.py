"""Confidence from SVM scores, and the threshold that reaches a precision.

An SVM's scores are margins, not probabilities. The confidence of an intent is the
softmax of the scores divided by a temperature ``T`` (one number per model), fitted to
out-of-fold scores by minimising their log loss on a fixed grid: deterministic, and it
makes "0.9" mean about nine right in ten. A low ``T`` also ranks messages by how far
the best intent leads the second, which is what separates the right answers from the
wrong ones.

The threshold for precision ``P`` is the lowest out-of-fold confidence ``t`` at which the
messages with confidence ≥ ``t`` are right at least ``P`` of the time, by one standard
error (``P + sqrt(P(1 - P) / answered)``): chosen at exactly ``P``, new messages would
fall short of it about half the time. On BANKING77 the margin costs one point of coverage;
on a small knowledge base, whose estimate is rough, it costs more, as it should.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
TEMPERATURES = np.geomspace(0.005, 2.0, 121)  # the grid the temperature is chosen from
STANDARD_ERRORS = 1.0  # how far above the precision asked the out-of-fold precision must be


def softmax(scores: Matrix, temperature: float) -> Matrix:
    """Row-wise softmax of ``scores / temperature``."""
    z = scores / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Matrix = e / e.sum(axis=1, keepdims=True)
    return out


def fit_temperature(scores: Matrix, labels: npt.NDArray[np.int64]) -> float:
    """The grid temperature with the least log loss of ``labels`` (the first on a tie)."""
    rows = np.arange(len(labels))
    losses = []
    for temperature in TEMPERATURES:
        z = scores / temperature
        top = z.max(axis=1)
        log_norm = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
        losses.append(float(np.mean(log_norm - z[rows, labels])))
    return float(TEMPERATURES[int(np.argmin(losses))])


@dataclass(frozen=True)
class Operating:
    """A threshold and what it gives on the out-of-fold predictions."""

    threshold: float
    coverage: float  # share of messages with confidence ≥ threshold
    precision: float  # share of those whose best intent is right


def choose_threshold(confidence: npt.NDArray[np.float64], correct: npt.NDArray[np.bool_], precision: float,
                     standard_errors: float = STANDARD_ERRORS) -> Operating:
    """The lowest confidence ``t`` among ``confidence`` whose answered set (``≥ t``) is right
    at least ``precision`` of the time, by ``standard_errors``; 1.0 (answer almost nothing)
    when none is."""
    order = np.argsort(-confidence, kind="stable")
    ranked, hits = confidence[order], correct[order].astype(np.float64)
    answered = np.arange(1, len(hits) + 1)
    cumulative = np.cumsum(hits) / answered
    needed = precision + standard_errors * np.sqrt(precision * (1.0 - precision) / answered)
    # ties: a threshold answers every message of its confidence, so only the last of a run counts
    last_of_run = np.append(ranked[1:] != ranked[:-1], True)
    good = np.flatnonzero((cumulative >= needed) & last_of_run)
    if len(good) == 0:
        return Operating(threshold=1.0, coverage=float(np.mean(confidence >= 1.0)), precision=1.0)
    end = int(good[-1])
    return Operating(threshold=float(ranked[end]), coverage=(end + 1) / len(ranked),
                     precision=float(cumulative[end]))
