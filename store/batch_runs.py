"""What a batch's script runs add to the rollups, worked out in Python from the rows the
repository is about to store, as store/run_sql.py's SQL works the runs out from stored rows (a
test holds both to a recount): so a save adds to its rollups with one upsert per rollup row it
touches, and SQL (which files the runs) need not read them again to count them.

A batch this cannot speak for exactly (a span of a trace outside it, a start time that is no
integer, attributes whose JSON SQLite may read otherwise) gets None: the triggers file it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from .columns import SPAN_COLUMNS, TRACE_COLUMNS
from .duration_buckets import bucket_of
from .filters import VERSION_DIGITS
from .run_sql import HOUR

_TRACE_ID, _TRIGGER, _STATUS, _STARTED = (
    TRACE_COLUMNS.index(name) for name in ("id", "trigger_event", "status", "started_at")
)
_DURATION, _REPLAY_OF, _PIPELINE = (
    TRACE_COLUMNS.index(name) for name in ("duration_ms", "replay_of", "pipeline_version")
)
_SPAN_TRACE, _SCRIPT, _SPAN_STATUS, _SPAN_DURATION, _ATTRIBUTES = (
    SPAN_COLUMNS.index(name)
    for name in ("trace_id", "script_id", "status", "duration_ms", "attributes")
)
_HOUR = int(HOUR)
_UNREADABLE = ("NaN", "Infinity")
"""What Python writes into JSON for a float that is no number, which SQLite may not take as JSON
(json_valid): such attributes are left to SQL."""


class BatchRuns(NamedTuple):
    """What a batch's script runs and its traces' own runs add to the rollup rows."""

    counts: list[tuple[Any, ...]]
    """(grain, t, trigger, script, version, status, runs, limit hits)."""
    durations: list[tuple[Any, ...]]
    """(grain, t, trigger, script, version, bucket, runs)."""


def batch_runs(
    trace_rows: Sequence[tuple[Any, ...]],
    span_rows: Sequence[tuple[Any, ...]],
    attributes: Sequence[dict[str, Any] | None],
) -> BatchRuns | None:
    """The runs and rollup increments of storing `trace_rows` and `span_rows` (whose decoded
    attributes are `attributes`), or None when the triggers must file the batch."""
    traces = {row[_TRACE_ID]: row for row in trace_rows}
    if len(traces) != len(trace_rows) or not all(_plain_start(row) for row in trace_rows):
        return None
    runs: list[tuple[Any, ...]] = []
    for span, attrs in zip(span_rows, attributes, strict=True):
        trace = traces.get(span[_SPAN_TRACE])
        if trace is None or not _readable(span[_ATTRIBUTES]):
            return None
        if span[_SCRIPT] is None or _custom(attrs):
            continue
        status = span[_SPAN_STATUS]
        runs.append(
            (
                trace[_STARTED],
                trace[_TRIGGER],
                span[_SCRIPT],
                _version((attrs or {}).get("script.sha256")),
                status,
                int(trace[_REPLAY_OF] is not None),
                int(isinstance((attrs or {}).get("limit"), str)),
                _bucket(status, span[_SPAN_DURATION]),
            )
        )
    runs += [
        (
            row[_STARTED],
            row[_TRIGGER],
            "",
            _version(row[_PIPELINE]),
            row[_STATUS],
            int(row[_REPLAY_OF] is not None),
            0,
            _bucket(row[_STATUS], row[_DURATION]),
        )
        for row in trace_rows
    ]
    return BatchRuns(*_tallies(runs))


def _tallies(
    runs: list[tuple[Any, ...]],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Runs of (started, trigger, script, version, status, replay, limit, bucket) summed per
    rollup row of each grain, replays left out: per hour first (a batch's runs share a few), then
    the hours' sums into their days and all time."""
    hourly: dict[tuple[Any, ...], list[int]] = {}
    for started, trigger, script, version, status, replay, limit, bucket in runs:
        if not replay:
            hour = _truncated(started, _HOUR)
            tally = hourly.setdefault((hour, trigger, script, version, status, bucket), [0, 0])
            tally[0] += 1
            tally[1] += limit
    counts: dict[tuple[Any, ...], list[int]] = {}
    durations: dict[tuple[Any, ...], int] = {}
    for (hour, trigger, script, version, status, bucket), (n, limits) in hourly.items():
        for grain, t in (("h", hour), ("d", _truncated(hour, 24)), ("a", 0)):
            key = (grain, t, trigger, script, version)
            tally = counts.setdefault((*key, status), [0, 0])
            tally[0] += n
            tally[1] += limits
            if bucket is not None:
                durations[(*key, bucket)] = durations.get((*key, bucket), 0) + n
    return (
        [(*key, n, limits) for key, (n, limits) in counts.items()],
        [(*key, n) for key, n in durations.items()],
    )


def _plain_start(row: tuple[Any, ...]) -> bool:
    """Whether a trace's start is an integer, as SQL divides it into hours and days."""
    return type(row[_STARTED]) is int


def _readable(text: str | None) -> bool:
    """Whether SQLite reads stored attributes as the JSON Python wrote (nothing but finite
    numbers)."""
    return text is None or not any(word in text for word in _UNREADABLE)


def _custom(attrs: dict[str, Any] | None) -> bool:
    """A custom span, as SQL reads `coalesce(json_extract(attributes, '$.custom'), 0) != 0`:
    text, arrays and objects are never equal to 0, true is 1, false and null are 0."""
    value = (attrs or {}).get("custom")
    if value is None or value is False:
        return False
    if type(value) in (int, float):
        return bool(value != 0)
    return True


def _version(value: Any) -> str:
    """A version as SQL keeps it: the first digits of a text value, else ''."""
    return value[:VERSION_DIGITS] if isinstance(value, str) else ""


def _bucket(status: Any, duration: Any) -> int | None:
    """A run's duration bucket, as SQL finds it: none for a skipped run or one not timed."""
    if status == "skipped" or type(duration) not in (int, float) or math.isnan(duration):
        return None
    return bucket_of(duration) if duration >= 0 else None


def _truncated(value: int, width: int) -> int:
    """`value` divided by `width`, rounded towards zero as SQLite's integer division is (so a
    start's day is its hour's divided by 24, as it is its start's divided by a day's ns)."""
    quotient = abs(value) // width
    return quotient if value >= 0 else -quotient
