"""The script stats of a window: from the rollups when the filters are only trigger, time, script
and version (a cost that does not grow with the traces), else from the script runs themselves.

Windows are whole hours: a start is taken back to its hour and an end on to the next, so the
hourly, daily and all-time rollups answer exactly; the report says which hours it covers. A
window covering every stored hour reads the all-time rollups; otherwise its whole days read the
daily ones and the hours at either end the hourly ones. The database sums the rows, finds each
percentile's bucket and lays out the chart, so what travels (from a libSQL server too) is a few
values per trigger, script and version, however many buckets and hours they span.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .backends import Backend
from .columns import HOUR_NS
from .duration_buckets import bucket_value
from .filters import filter_shape, filter_values, run_values
from .models import TraceFilter
from .sql import Statement, named_statement
from .stats_models import QUANTILES, StatsReport, StatsRow, TriggerStats

BOOK = ".stats_queries"
"""The module of the stats' SQLAlchemy statement builders (see store/sql.py)."""
DAY_HOURS = 24
HOURLY_CHART_HOURS = 72
"""Windows up to three days chart by the hour; longer ones by whole days."""

Range = tuple[str, int, int]
"""A grain ("h", "d" or "a") and the [first, end) of its time units to read."""
RowKey = tuple[str, str, str | None]
"""(trigger, script, version); script "" is the trigger's own row, version None every one."""


@dataclass(frozen=True, slots=True)
class _Window:
    """The hours a report covers, [first, end), within what the store holds."""

    first: int
    end: int
    everything: bool
    """The window covers every stored hour (the all-time rollups answer it)."""


@dataclass(frozen=True, slots=True)
class _Chart:
    """The chart's columns: the hour they start at and how many hours each covers."""

    first_hour: int
    hours: int
    columns: int

    def edges(self, window: _Window) -> list[int]:
        """Each column's start and the window's end, in Unix ns."""
        starts = [self.first_hour + i * self.hours for i in range(self.columns)]
        return [hour * HOUR_NS for hour in (*starts, window.end)]


def hour_window(f: TraceFilter) -> tuple[int | None, int | None]:
    """`f`'s time bounds as whole hours: its start's hour and the hour after its end's."""
    first = None if f.started_from is None else f.started_from // HOUR_NS
    end = None if f.started_until is None else -(-f.started_until // HOUR_NS)
    return first, end


def from_rollups(f: TraceFilter) -> bool:
    """Whether the rollups can answer `f`: they know trigger, script, version and time, and
    leave replays out; any other filter needs the runs and their traces read."""
    plain = TraceFilter(
        triggers=f.triggers,
        started_from=f.started_from,
        started_until=f.started_until,
        scripts=f.scripts,
        script_versions=f.script_versions,
    )
    return f == plain


def read_stats(backend: Backend, f: TraceFilter, columns: int) -> StatsReport:
    """The stats `f` asks for, with a failures chart of about `columns` columns."""
    rollups = from_rollups(f)
    window = _window(backend, f)
    if window is None:
        first, end = hour_window(f)
        return StatsReport(
            None if first is None else first * HOUR_NS,
            None if end is None else end * HOUR_NS,
            [],
            [],
            rollups,
        )
    chart = _chart(window, columns)
    rows: dict[RowKey, StatsRow] = {}
    reader = _RollupReader(f, window) if rollups else _RunReader(f, window)
    for trigger, script, version, status, n, limits in backend.query(reader.counts()):
        for key in _keys(trigger, script, version):
            _row(rows, key, chart.columns).tally.add(str(status), int(n), int(limits or 0))
    for trigger, script, version, timed, *buckets in backend.query(reader.percentiles()):
        row = _row(rows, (str(trigger), str(script), _version(version)), chart.columns)
        row.timed = int(timed)
        row.percentiles = {q: bucket_value(int(b)) for q, b in zip(QUANTILES, buckets, strict=True)}
    for trigger, script, version, cells in backend.query(reader.chart(chart)):
        for key in _keys(trigger, script, version):
            row = _row(rows, key, chart.columns)
            for cell in str(cells).split(","):
                column, n = (int(part) for part in cell.split(":"))
                row.failures_over_time[min(max(column, 0), chart.columns - 1)] += n
    return StatsReport(
        window.first * HOUR_NS,
        window.end * HOUR_NS,
        chart.edges(window),
        _grouped(rows, keep_triggers=not f.scripts),
        rollups,
    )


def _keys(trigger: Any, script: Any, version: Any) -> tuple[RowKey, RowKey]:
    """The row of one version and the row of every version that a count adds to."""
    return (str(trigger), str(script), str(version)), (str(trigger), str(script), None)


def _version(value: Any) -> str | None:
    """A version as read back: None marks the row of every version."""
    return None if value is None else str(value)


def _row(rows: dict[RowKey, StatsRow], key: RowKey, columns: int) -> StatsRow:
    """The row of one (trigger, script, version), made on first use."""
    row = rows.get(key)
    if row is None:
        trigger, script, version = key
        row = StatsRow(trigger, script or None, version, failures_over_time=[0] * columns)
        rows[key] = row
    return row


def _window(backend: Backend, f: TraceFilter) -> _Window | None:
    """`f`'s hours within the hours the store holds traces of; None when they do not meet."""
    extent = backend.query(named_statement(BOOK, "stored_hours", (), {}))[0]
    if extent[0] is None:
        return None
    stored_first, stored_end = int(extent[0]), int(extent[1]) + 1
    first, end = hour_window(f)
    first = stored_first if first is None else max(first, stored_first)
    end = stored_end if end is None else min(end, stored_end)
    if first >= end:
        return None
    return _Window(first, end, first == stored_first and end == stored_end)


def _ranges(window: _Window, *, use_all: bool) -> list[Range]:
    """The rollup rows that add up to the window: all time when it covers everything (and
    `use_all`), else its whole days and the hours at either end."""
    if use_all and window.everything:
        return [("a", 0, 1)]
    first_day = -(-window.first // DAY_HOURS)
    end_day = window.end // DAY_HOURS
    if first_day >= end_day:
        return [("h", window.first, window.end)]
    ranges = [("d", first_day, end_day)]
    if window.first < first_day * DAY_HOURS:
        ranges.append(("h", window.first, first_day * DAY_HOURS))
    if end_day * DAY_HOURS < window.end:
        ranges.append(("h", end_day * DAY_HOURS, window.end))
    return ranges


def _chart(window: _Window, columns: int) -> _Chart:
    """Columns of whole hours for a short window; of whole days beyond, from the start of the
    window's first day, so each daily rollup falls in one column."""
    hours = window.end - window.first
    unit = 1 if hours <= HOURLY_CHART_HOURS else DAY_HOURS
    first = window.first // unit * unit
    units = -(-(window.end - first) // unit)
    width = unit * -(-units // max(1, columns))
    return _Chart(first, width, -(-(window.end - first) // width))


class _RollupReader:
    """The three reads from the rollups: counts, percentiles and chart."""

    def __init__(self, f: TraceFilter, window: _Window) -> None:
        self.f = f
        self.window = window

    def _statement(self, name: str, ranges: list[Range], **extra: Any) -> Statement:
        """Statement `name` over `ranges`, with the filter's values."""
        values = filter_values(self.f)
        for i, (grain, first, end) in enumerate(ranges):
            values[f"range_grain_{i}"] = grain
            values[f"range_first_{i}"], values[f"range_end_{i}"] = first, end
        values.update(extra)
        return named_statement(BOOK, name, (filter_shape(self.f), len(ranges)), values)

    def counts(self) -> Statement:
        """(trigger, script, version, status, runs, limit hits) over the window."""
        return self._statement("rollup_counts", _ranges(self.window, use_all=True))

    def percentiles(self) -> Statement:
        """(trigger, script, version or NULL, runs timed, bucket of each quantile)."""
        return self._statement("rollup_percentiles", _ranges(self.window, use_all=True))

    def chart(self, chart: _Chart) -> Statement:
        """(trigger, script, version, "column:errors,...") over the window's hours and days."""
        return self._statement(
            "rollup_chart",
            _ranges(self.window, use_all=False),
            chart_first=chart.first_hour,
            chart_hours=chart.hours,
        )


class _RunReader:
    """The same three reads from the runs themselves, joined to their traces, for any filter:
    the traces' own runs and every script's without a script filter, the matching runs of the
    named scripts with one."""

    def __init__(self, f: TraceFilter, window: _Window) -> None:
        self.f = f
        self.trace_level = replace(
            f,
            started_from=window.first * HOUR_NS,
            started_until=window.end * HOUR_NS,
            scripts=(),
            script_statuses=(),
            script_versions=(),
        )

    def _statement(self, name: str, **extra: Any) -> Statement:
        """Statement `name` for the filter's shape, with its values."""
        values = filter_values(self.trace_level)
        values.update(run_values(self.f))
        values.update(extra)
        return named_statement(BOOK, name, (filter_shape(self.f),), values)

    def counts(self) -> Statement:
        """(trigger, script, version, status, runs, limit hits) over the window."""
        return self._statement("run_counts")

    def percentiles(self) -> Statement:
        """(trigger, script, version or NULL, runs timed, bucket of each quantile)."""
        return self._statement("run_percentiles")

    def chart(self, chart: _Chart) -> Statement:
        """(trigger, script, version, "column:errors,...") over the window."""
        return self._statement(
            "run_chart", chart_start=chart.first_hour * HOUR_NS, chart_ns=chart.hours * HOUR_NS
        )


def _grouped(rows: dict[RowKey, StatsRow], *, keep_triggers: bool) -> list[TriggerStats]:
    """Version rows under their script's (or trigger's) row, scripts under their trigger."""
    triggers: dict[str, TriggerStats] = {}
    for (trigger, script, version), row in sorted(rows.items(), key=_order):
        group = triggers.setdefault(trigger, TriggerStats(trigger, None, []))
        if version is not None:
            rows[(trigger, script, None)].versions.append(row)
        elif not script:
            group.own = row if keep_triggers else None
        else:
            group.scripts.append(row)
    return list(triggers.values())


def _order(item: tuple[RowKey, StatsRow]) -> tuple[str, str, str]:
    """Rows by trigger, script and version, the row of every version first."""
    (trigger, script, version), _row = item
    return (trigger, script, "" if version is None else "v" + version)
