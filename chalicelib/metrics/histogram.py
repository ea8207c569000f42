"""Fixed, log-spaced histogram buckets for durations (seconds), so percentiles can be
added up across days and dimensions with ``ADD`` and read back from a few items.

Bucket 0 holds durations under one second; bucket ``i >= 1`` holds
``[RATIO ** (i - 1), RATIO ** i)`` seconds with ``RATIO = 2 ** (1 / 4)`` (about 19 %
wide), up to :data:`LAST` (anything longer lands there). A percentile is reported as the
geometric middle of its bucket, so it is within about 9 % of the exact value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

RATIO = 2 ** 0.25
LAST = 110  # 2 ** 27.5 s: about 6 years


def bucket_of(seconds: float) -> int:
    """The bucket of a duration (negative durations count as zero)."""
    if seconds < 1:
        return 0
    return min(LAST, math.floor(math.log(seconds, RATIO) + 1e-9) + 1)


def middle_of(bucket: int) -> int:
    """The value a percentile in ``bucket`` is reported as (whole seconds)."""
    if bucket <= 0:
        return 0
    return round(float(RATIO ** (bucket - 0.5)))


def percentile(counts: Mapping[int, int], q: float) -> int | None:
    """The ``q``-th percentile (0 < q <= 1, nearest rank) of bucket counts; ``None`` if empty."""
    total = sum(n for n in counts.values() if n > 0)
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total - 1e-9))
    seen = 0
    for bucket in sorted(counts):
        seen += max(0, counts[bucket])
        if seen >= rank:
            return middle_of(bucket)
    return middle_of(max(counts))


def exact_percentile(values: list[float], q: float) -> float | None:
    """The same nearest-rank percentile of raw values (tests and recomputations)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered) - 1e-9)) - 1]
