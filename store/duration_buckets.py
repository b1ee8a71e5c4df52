"""Log-linear duration buckets (DDSketch's mapping), so rollups give percentiles within a stated
relative error from counts alone.

Bucket 0 holds durations under `SMALLEST_MS`; bucket i >= 1 holds [SMALLEST_MS * GAMMA**(i-1),
SMALLEST_MS * GAMMA**i), and the last one (whose upper edge is past `LARGEST_MS`) everything
above too. A bucket's value is the point whose relative distance to both of its edges is
`RELATIVE_ERROR`, so any duration in it is within that relative error of it (bucket 0's value
is 0; a duration past the last bucket's upper edge is not within it).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping

RELATIVE_ERROR = 0.01
"""The most a percentile read from the buckets differs from the duration at the same rank,
relative to it, for durations from SMALLEST_MS to LARGEST_MS."""
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
SMALLEST_MS = 0.0001
"""A tenth of a microsecond: shorter durations count as 0."""
LARGEST_MS = 10_000_000.0
"""About 2.8 hours: longer durations count as this."""
BUCKETS = 1 + math.ceil(math.log(LARGEST_MS / SMALLEST_MS) / math.log(GAMMA))
LOWER_EDGES: tuple[float, ...] = (0.0, *(SMALLEST_MS * GAMMA**i for i in range(BUCKETS - 1)))
"""The lower edge of each bucket, in ms; the store keeps the same numbers in a table, so SQL and
Python put a duration in the same bucket."""


def bucket_of(duration_ms: float) -> int:
    """The bucket a duration (ms, not negative) falls in."""
    return bisect.bisect_right(LOWER_EDGES, duration_ms) - 1


def bucket_value(bucket: int) -> float:
    """The duration a bucket stands for (see the module's docstring)."""
    if bucket <= 0:
        return 0.0
    return LOWER_EDGES[bucket] * 2 * GAMMA / (GAMMA + 1)


def percentile(histogram: Mapping[int, int], quantile: float) -> float | None:
    """The duration at rank ceil(quantile * n) (nearest rank) of the durations a histogram of
    bucket counts holds, as its bucket's value; None for an empty histogram."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(quantile * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(max(histogram))


def exact_percentile(durations: Iterable[float], quantile: float) -> float | None:
    """The duration at rank ceil(quantile * n) of `durations`: what `percentile` estimates."""
    ordered = sorted(durations)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(quantile * len(ordered))) - 1]


def edges_sql_values() -> str:
    """The bucket table's rows as a SQL VALUES list, each edge written so it reads back equal."""
    return ", ".join(f"({i}, {edge!r})" for i, edge in enumerate(LOWER_EDGES))
