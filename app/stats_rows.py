"""The script stats as rows to show: sorted, flattened (trigger, its scripts, their versions), with
a sparkline of errors and JSON for tools; `stats` and the viewer's stats screen share this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipetrace.store.duration_buckets import RELATIVE_ERROR
from pipetrace.store.stats_models import QUANTILES, StatsReport, StatsRow

from .timeparse import format_ns, iso_ns, zone_name

SortKey = Callable[[StatsRow], Any]
SORTS: dict[str, SortKey] = {
    "failures": lambda r: r.tally.failures,
    "runs": lambda r: r.tally.runs,
    "blocked": lambda r: r.tally.count("blocked"),
    "errors": lambda r: r.tally.count("error"),
    "skipped": lambda r: r.tally.count("skipped"),
    "limits": lambda r: r.tally.limits,
    "blocked-rate": lambda r: r.tally.rate(r.tally.count("blocked")) or 0.0,
    "error-rate": lambda r: r.tally.rate(r.tally.failures) or 0.0,
    "skipped-rate": lambda r: r.tally.skipped_rate or 0.0,
    "limit-rate": lambda r: r.tally.rate(r.tally.limits) or 0.0,
    "p50": lambda r: r.percentile(0.5) or 0.0,
    "p95": lambda r: r.percentile(0.95) or 0.0,
    "p99": lambda r: r.percentile(0.99) or 0.0,
    "name": lambda r: (r.script or "", r.version or ""),
}
"""Every column a table can be sorted by; all but name sort the largest first."""
DEFAULT_SORT = "failures"
BARS = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class ShownRow:
    """One line of the table: how deep it sits (0 trigger, 1 script, 2 version) and its row."""

    depth: int
    row: StatsRow

    @property
    def label(self) -> str:
        """What its first column names: the trigger, the script, or the version."""
        if self.depth == 2:
            return self.row.version or "(unknown)"
        return self.row.script or self.row.trigger


def ordered(report: StatsReport, sort: str = DEFAULT_SORT) -> list[ShownRow]:
    """Each trigger's own row, then its scripts, each followed by its versions when it has more
    than one; triggers, scripts and versions each sorted by `sort` (then by name)."""
    key = SORTS[sort]
    largest = sort != "name"

    def by(rows: list[StatsRow]) -> list[StatsRow]:
        named = sorted(rows, key=lambda r: (r.trigger, r.script or "", r.version or ""))
        return sorted(named, key=key, reverse=largest)

    shown: list[ShownRow] = []
    groups = sorted(report.triggers, key=lambda t: t.trigger)
    if largest:
        groups.sort(key=lambda t: key(t.own) if t.own else max(map(key, t.scripts)), reverse=True)
    for group in groups:
        if group.own is not None:
            shown.append(ShownRow(0, group.own))
            shown += [ShownRow(2, v) for v in by(group.own.versions) if len(group.own.versions) > 1]
        for script in by(group.scripts):
            shown.append(ShownRow(1, script))
            if len(script.versions) > 1:
                shown += [ShownRow(2, v) for v in by(script.versions)]
    return shown


def single_version(row: StatsRow) -> str:
    """The one version a row's runs all had ("" when unknown, or when there are several)."""
    return row.versions[0].version or "" if len(row.versions) == 1 else ""


def sparkline(counts: list[int]) -> str:
    """Counts as one line of bars of eight heights, the largest full; a blank for none."""
    return bar_chart(counts, 1)[0]


def bar_chart(counts: list[int], height: int, width: int = 1) -> list[str]:
    """Counts as bars `height` lines tall (eighths of a line each) and `width` cells wide, the
    largest full height, any count above none at least an eighth; its lines, top first."""
    top = max(counts, default=0)
    eighths = [0 if not n else max(1, round(8 * height * n / top)) for n in counts]
    lines = []
    for level in range(height - 1, -1, -1):
        cells = (BARS[min(8, max(0, e - 8 * level))] * width for e in eighths)
        lines.append("".join(cells))
    return lines


def rate_text(rate: float | None) -> str:
    """A share as a percentage, "-" when nothing ran."""
    if rate is None:
        return "-"
    if 0 < rate < 0.001:
        return "<0.1%"
    return f"{rate * 100:.1f}%"


def window_text(report: StatsReport, *, local: bool = False) -> str:
    """The hours a report covers, in UTC (or local time, named by its zone)."""
    if report.start is None or report.end is None:
        return "no traces in this window"
    start, end = (format_ns(ns, local=local)[:16] for ns in (report.start, report.end))
    return f"{start} to {end} {zone_name(local, report.start)}"


def report_json(report: StatsReport, sort: str = DEFAULT_SORT) -> dict[str, Any]:
    """The report as JSON: window, chart columns, and per trigger its traces and its scripts,
    each with its versions, sorted as the table is."""
    triggers = []
    for group in sorted(report.triggers, key=lambda t: t.trigger):
        scripts = sorted(group.scripts, key=lambda r: r.script or "")
        scripts.sort(key=SORTS[sort], reverse=sort != "name")
        triggers.append(
            {
                "trigger": group.trigger,
                "traces": None if group.own is None else row_json(group.own),
                "scripts": [row_json(s) for s in scripts],
            }
        )
    return {
        "window": {
            "start": iso_ns(report.start),
            "end": iso_ns(report.end),
            "start_ns": report.start,
            "end_ns": report.end,
        },
        "source": "rollups" if report.from_rollups else "runs",
        "duration_relative_error": RELATIVE_ERROR,
        "chart_columns": [iso_ns(edge) for edge in report.column_edges[:-1]],
        "sort": sort,
        "triggers": triggers,
    }


def row_json(row: StatsRow, *, nested: bool = True) -> dict[str, Any]:
    """One row's counts, rates, percentiles (ms) and errors per chart column."""
    tally = row.tally
    data: dict[str, Any] = {
        "version": row.version,
        "runs": tally.runs,
        "statuses": dict(sorted(tally.by_status.items())),
        "blocked": tally.count("blocked"),
        "errors": tally.failures,
        "skipped": tally.count("skipped"),
        "limit_hits": tally.limits,
        "blocked_rate": tally.rate(tally.count("blocked")),
        "error_rate": tally.rate(tally.failures),
        "limit_rate": tally.rate(tally.limits),
        "skipped_rate": tally.skipped_rate,
        "timed_runs": row.timed,
        **{f"p{round(q * 100)}_ms": row.percentile(q) for q in QUANTILES},
        "errors_over_time": list(row.failures_over_time),
    }
    if row.script is not None:
        data = {"script": row.script, **data}
    if nested:
        data["versions"] = [row_json(v, nested=False) for v in row.versions]
    return data
