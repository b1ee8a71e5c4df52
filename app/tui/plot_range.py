"""Where the duration plot's time axis runs, so one very old trace cannot squeeze the rest.

The axis follows the filter's time window when one is set. Where its start is open, it covers
the bulk of the traces rather than reaching back to a trace far older than the rest (and, with
no window at all, forward to one far newer): such traces are drawn at the edge and counted in
the plot's title.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipetrace.store import DurationPoints, Repository, TraceFilter
from pipetrace.store.codec import INT64_MAX, INT64_MIN

FAR = 3
"""A gap wider than this many interquartile ranges of the points parts far outliers from them
(Tukey's "far out"); where the quartiles meet, half the 10th-90th percentile range stands in."""
MIN_POINTS = 8
"""Fewer points than this tell too little about where the bulk is: the axis holds them all."""


@dataclass(frozen=True, slots=True)
class PlotData:
    """The plot's points, its time axis, and how many traces lie beyond either end of it."""

    plot: DurationPoints
    window: tuple[int | None, int | None]
    older: int = 0
    newer: int = 0


def bulk_bounds(times: list[int], newer_too: bool = True) -> tuple[int | None, int | None]:
    """Where the bulk of `times` begins and ends when far outliers lie before or after it (None
    on a side with none); `newer_too` False looks for older ones only.

    Outliers are the times beyond the quartiles that a gap wider than FAR interquartile ranges
    parts from the bulk. The bounds fall just inside those gaps, so a store read finds the
    bulk's real edges even where the points are a sparse sample of it (the plot samples each
    time slice's newest traces).
    """
    t = sorted(times)
    n = len(t)
    if n < MIN_POINTS:
        return None, None
    q1, q3 = (n - 1) // 4, 3 * (n - 1) // 4
    # Where most times are equal the quartiles meet: half the 10th-90th percentile range then
    # sets the scale, so a burst stamped to the second keeps its neighbours on the axis.
    p10, p90 = (n - 1) // 10, 9 * (n - 1) // 10
    reach = FAR * max(1, t[q3] - t[q1], (t[p90] - t[p10]) // 2)
    low = next((t[k - 1] + 1 for k in range(q1, 0, -1) if t[k] - t[k - 1] > reach), None)
    ends = range(q3 + 1, n) if newer_too else range(0)
    high = next((t[j] - 1 for j in ends if t[j] - t[j - 1] > reach), None)
    return low, high


def plot_data(
    repo: Repository, filters: TraceFilter, now_ns: int, limit: int, slices: int
) -> PlotData:
    """The points for `filters` over the window they set, or over the bulk of the traces."""
    plot = repo.duration_points(filters, limit=limit, slices=slices)
    if filters.started_from is not None:
        until = filters.started_until if filters.started_until is not None else now_ns
        return PlotData(plot, (filters.started_from, until))
    open_end = filters.started_until is None
    low, high = bulk_bounds([p[0] for p in plot.points], newer_too=open_end)
    if low is None and high is None:
        return PlotData(plot, (None, filters.started_until))
    start = INT64_MIN if low is None else low
    end = filters.started_until if high is None else high + 1
    bulk = repo.started_range(replace(filters, started_from=start, started_until=end))
    if bulk is None:
        return PlotData(plot, (None, filters.started_until))
    first, last = bulk
    inner = repo.duration_points(
        replace(filters, started_from=first, started_until=last + 1), limit=limit, slices=slices
    )
    beyond = [p for p in plot.points if not first <= p[0] <= last]
    older = newer = 0
    if low is not None:
        older = repo.count_rows(replace(filters, started_from=INT64_MIN, started_until=first))
    if high is not None:
        newer = repo.count_rows(replace(filters, started_from=last + 1, started_until=INT64_MAX))
    points = DurationPoints(inner.points + beyond, inner.sampled, plot.unplaceable)
    return PlotData(points, (first, last if open_end else filters.started_until), older, newer)
