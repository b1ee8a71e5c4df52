"""The log-linear duration buckets: every duration from 0.1 µs to 2.8 hours is within the stated
relative error of its bucket's value, and so is each percentile read from bucket counts."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from pipetrace.store.duration_buckets import (
    BUCKETS,
    LARGEST_MS,
    LOWER_EDGES,
    RELATIVE_ERROR,
    SMALLEST_MS,
    bucket_of,
    bucket_value,
    exact_percentile,
    percentile,
)

DURATIONS = st.floats(min_value=SMALLEST_MS, max_value=LARGEST_MS, allow_nan=False)
SLACK = 1e-12
"""Float rounding at a bucket's edge."""


@given(DURATIONS)
def test_a_duration_is_within_the_relative_error_of_its_bucket(duration: float) -> None:
    bucket = bucket_of(duration)
    assert 1 <= bucket < BUCKETS
    assert LOWER_EDGES[bucket] <= duration
    assert abs(bucket_value(bucket) - duration) <= (RELATIVE_ERROR + SLACK) * duration


@given(st.lists(DURATIONS, min_size=1, max_size=300), st.sampled_from((0.5, 0.95, 0.99)))
def test_percentiles_from_counts_are_within_the_relative_error(
    durations: list[float], quantile: float
) -> None:
    histogram = Counter(bucket_of(d) for d in durations)
    exact = exact_percentile(durations, quantile)
    estimate = percentile(histogram, quantile)
    assert exact is not None and estimate is not None
    assert abs(estimate - exact) <= (RELATIVE_ERROR + SLACK) * exact


def test_the_ends_of_the_range() -> None:
    for duration in (SMALLEST_MS, LARGEST_MS):
        value = bucket_value(bucket_of(duration))
        assert abs(value - duration) <= (RELATIVE_ERROR + SLACK) * duration


def test_edges_below_and_above_the_range() -> None:
    assert bucket_of(0.0) == 0 and bucket_value(0) == 0.0
    assert bucket_of(SMALLEST_MS / 2) == 0
    assert bucket_of(LARGEST_MS * 10) == BUCKETS - 1
    assert percentile({}, 0.5) is None and exact_percentile([], 0.5) is None
