"""Durations in logarithmic buckets: p50 and p95 in constant memory, within 1% of the truth."""

from __future__ import annotations

import math
from collections import Counter

GAMMA = 1.02
"""Bucket bounds grow by 2%; a bucket's midpoint is within 1% of any value in it."""
SMALLEST_MS = 1e-6
"""Durations at or below one nanosecond share the first bucket."""
_LOG_GAMMA = math.log(GAMMA)


class DurationHistogram:
    """Counts of durations per bucket; about 1,200 buckets cover a nanosecond to an hour."""

    __slots__ = ("buckets", "count")

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0

    def add(self, duration_ms: float) -> None:
        """Count one duration (negative ones, from a clock that stepped back, count as zero)."""
        value = max(duration_ms, SMALLEST_MS)
        self.buckets[math.floor(math.log(value / SMALLEST_MS) / _LOG_GAMMA)] += 1
        self.count += 1

    def merge(self, other: DurationHistogram) -> None:
        """Count another histogram's durations too (a worker's, of a range of traces)."""
        self.buckets.update(other.buckets)
        self.count += other.count

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0..1) of the durations counted, or None if there are none."""
        if not self.count:
            return None
        rank = q * (self.count - 1)
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen > rank:
                return _midpoint(index)
        return _midpoint(max(self.buckets))


def _midpoint(index: int) -> float:
    """The value a bucket stands for: halfway between its bounds."""
    low = SMALLEST_MS * GAMMA**index
    return low * (1 + GAMMA) / 2
