"""The script stats equal a recount of the saved traces for any window and filter, from the
rollups (all time, whole days and edge hours, hours alone) and from the runs, on both backends:
counts and limit hits exactly, each percentile as the bucket of the duration at its rank, and
the errors chart column by column."""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

import pytest
from factories import BASE_NS, SEC
from rollup_recount import random_traces

from pipetrace.store import Repository, TraceFilter, TraceWithSpans
from pipetrace.store.duration_buckets import bucket_value
from pipetrace.store.schema import HOUR_NS
from pipetrace.store.sql import Statement
from pipetrace.store.stats_models import QUANTILES, StatsReport, StatsRow

HOUR = 3600 * SEC
WINDOWS = (
    TraceFilter(),
    TraceFilter(started_from=BASE_NS + 5 * HOUR + 7, started_until=BASE_NS + 50 * HOUR - 3),
    TraceFilter(started_from=BASE_NS + 2 * HOUR, started_until=BASE_NS + 9 * HOUR),
)
FILTERS = (
    TraceFilter(),
    TraceFilter(triggers=("before_signin",)),
    TraceFilter(scripts=("velocity", "risk_scorer")),
    TraceFilter(scripts=("velocity",), script_versions=("b2",)),
    TraceFilter(statuses=("blocked",)),
    TraceFilter(replays="include", scripts=("risk_scorer",), script_statuses=("error", "blocked")),
)


def _recount(
    items: list[TraceWithSpans], f: TraceFilter, report: StatsReport, edges: list[float]
) -> dict[tuple[str, str | None, str | None], dict[str, Any]]:
    """Per (trigger, script or None for the traces, version or None for every version): the
    statuses, limit hits, durations' buckets and errors per chart column of what `f` counts."""
    assert report.start is not None and report.end is not None
    columns = report.column_edges
    found: dict[tuple[str, str | None, str | None], dict[str, Any]] = defaultdict(
        lambda: {"statuses": Counter(), "limits": 0, "buckets": [], "chart": Counter()}
    )

    def add(key: tuple[str, str | None, str], status: str, limit: int, ms: Any, at: int) -> None:
        for version in (key[2], None):
            entry = found[(key[0], key[1], version)]
            entry["statuses"][status] += 1
            entry["limits"] += limit
            if status != "skipped" and isinstance(ms, float | int) and ms >= 0:
                entry["buckets"].append(bisect.bisect_right(edges, ms) - 1)
            if status == "error":
                entry["chart"][bisect.bisect_right(columns, at) - 1] += 1

    for item in items:
        t = item.trace
        if not report.start <= t.started_at < report.end:
            continue
        if (f.replays == "exclude" and t.replay_of) or (f.statuses and t.status not in f.statuses):
            continue
        if f.triggers and t.trigger_event not in f.triggers:
            continue
        if not f.scripts:
            add((t.trigger_event, None, (t.pipeline_version or "")[:12]), t.status, 0,
                _stored_ms(t.duration_ms, t.started_at, t.ended_at), t.started_at)  # fmt: skip
        for s in item.spans:
            if s.script_id is None or s.attributes.get("custom"):
                continue
            version = str(s.attributes.get("script.sha256", ""))[:12]
            if f.scripts and s.script_id not in f.scripts:
                continue
            if f.script_statuses and s.status not in f.script_statuses:
                continue
            if f.script_versions and not any(version.startswith(v) for v in f.script_versions):
                continue
            limit = int(isinstance(s.attributes.get("limit"), str))
            add((t.trigger_event, s.script_id, version), s.status, limit,
                _stored_ms(s.duration_ms, s.started_at, s.ended_at), t.started_at)  # fmt: skip
    return found


def _stored_ms(ms: float | None, started: int, ended: int | None) -> float | None:
    """The duration the store keeps: the given one, else the one the times imply."""
    if ms is None and ended is not None:
        return (ended - started) / 1_000_000
    return ms


def _rows(report: StatsReport) -> dict[tuple[str, str | None, str | None], StatsRow]:
    """Every row of a report, by (trigger, script, version)."""
    rows: dict[tuple[str, str | None, str | None], StatsRow] = {}
    for group in report.triggers:
        for whole in ([group.own] if group.own else []) + group.scripts:
            rows[(whole.trigger, whole.script, None)] = whole
            for version in whole.versions:
                rows[(version.trigger, version.script, version.version)] = version
    return rows


@pytest.mark.parametrize("window", WINDOWS, ids=["all", "days and hours", "hours"])
def test_stats_equal_a_recount(repo: Repository, window: TraceFilter) -> None:
    items = random_traces(random.Random(17), 150)
    repo.save_traces(items)
    edges = [
        float(e)
        for (e,) in repo.backend.query(
            Statement("SELECT lower_ms FROM pipeline_duration_buckets ORDER BY bucket")
        )
    ]
    for f in FILTERS:
        f = replace(f, started_from=window.started_from, started_until=window.started_until)
        report = repo.script_stats(f, columns=12)
        assert report.from_rollups == (f.replays == "exclude" and not f.statuses)
        if window.started_from is not None:
            assert report.start == window.started_from // HOUR_NS * HOUR_NS
        expected = _recount(items, f, report, edges)
        rows = _rows(report)
        assert set(rows) == set(expected), f
        for key, row in rows.items():
            want = expected[key]
            assert row.tally.by_status == dict(want["statuses"]), (f, key)
            assert row.tally.limits == want["limits"], (f, key)
            assert row.timed == len(want["buckets"]), (f, key)
            ranked = sorted(want["buckets"])
            for q in QUANTILES:
                exact = ranked[max(1, math.ceil(q * len(ranked))) - 1] if ranked else None
                assert row.percentile(q) == (None if exact is None else bucket_value(exact))
            chart = [want["chart"].get(i, 0) for i in range(len(report.column_edges) - 1)]
            assert row.failures_over_time == chart, (f, key)
