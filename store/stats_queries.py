"""The script stats' statements as SQLAlchemy Core, each built from its shape with its values as
named parameters (store/sql.py compiles one on first use, or finds it precompiled): the stored
hours, and counts, percentiles and errors chart from the rollups or from the runs themselves.

The database sums the rows, finds each percentile's bucket (nearest rank, window functions)
and lays out the chart, so what travels is a few values per trigger, script and version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import ColumnElement

from .filter_sql import filter_clause
from .filters import FilterShape
from .run_filters import run_conditions, version_conditions
from .schema import script_counts, script_durations, script_runs, trace_runs, traces
from .stats_models import QUANTILES

Rows = Select[Any]
DAY_HOURS = 24
DAILY: ColumnElement[str] = literal_column("'d'")
HOURLY: ColumnElement[str] = literal_column("'h'")
ERROR: ColumnElement[str] = literal_column("'error'")
"""Constants written into the SQL, so they take no parameter a filter's could clash with."""


def stored_hours() -> Rows:
    """The first and last hour the hourly rollups hold."""
    c = script_counts.c
    return select(
        select(func.min(c.t)).where(c.grain == HOURLY).scalar_subquery(),
        select(func.max(c.t)).where(c.grain == HOURLY).scalar_subquery(),
    )


def run_trace_level(shape: FilterShape) -> FilterShape:
    """The trace-level part of a filter of `shape` the runs are read for: its window bounded at
    both ends (`started_from`, `started_until`), its script conditions left to the runs."""
    return shape._replace(
        has_from=True, has_until=True, n_scripts=0, n_script_statuses=0, n_script_versions=0
    )


def _range_conditions(table: Any, n: int) -> ColumnElement[bool]:
    """A rollup's rows in any of `n` (grain, [first, end)) ranges (`range_grain_i`,
    `range_first_i`, `range_end_i`)."""
    c = table.c
    return or_(
        *[
            and_(
                c.grain == bindparam(f"range_grain_{i}"),
                c.t >= bindparam(f"range_first_{i}"),
                c.t < bindparam(f"range_end_{i}"),
            )
            for i in range(n)
        ]
    )


def _key_conditions(table: Any, shape: FilterShape) -> list[ColumnElement[bool]]:
    """The rollup rows a filter's triggers, scripts and versions select."""
    conds: list[ColumnElement[bool]] = []
    if shape.n_triggers:
        triggers: list[BindParameter[str]] = [
            bindparam(f"trigger_{i}") for i in range(shape.n_triggers)
        ]
        conds.append(table.c.trigger_event.in_(triggers))
    if shape.n_scripts:
        scripts: list[BindParameter[str]] = [
            bindparam(f"script_{i}") for i in range(shape.n_scripts)
        ]
        conds.append(table.c.script_id.in_(scripts))
    if shape.n_script_versions:
        versions: list[BindParameter[str]] = [
            bindparam(f"script_version_{i}") for i in range(shape.n_script_versions)
        ]
        conds.append(or_(*[table.c.version.like(v) for v in versions]))
    return conds


def _percentiles(h: Any) -> Rows:
    """Per (trigger, script, version), and per (trigger, script) over every version (version
    NULL), the runs timed and the bucket holding each of QUANTILES, nearest rank (the first
    bucket whose running count reaches the quantile's share), from `h`'s bucket counts."""
    both = union_all(
        select(h.c.trigger_event, h.c.script_id, h.c.version, h.c.bucket, h.c.n),
        select(
            h.c.trigger_event, h.c.script_id, null().label("version"), h.c.bucket, func.sum(h.c.n)
        ).group_by(h.c.trigger_event, h.c.script_id, h.c.bucket),
    ).subquery("per_version")
    part = (both.c.trigger_event, both.c.script_id, both.c.version)
    running = select(
        *part,
        both.c.bucket,
        func.sum(both.c.n).over(partition_by=part, order_by=both.c.bucket).label("running"),
        func.sum(both.c.n).over(partition_by=part).label("total"),
    ).subquery("running")
    r = running.c
    picks = [
        func.min(case((r.running * 100 >= r.total * round(q * 100), r.bucket))) for q in QUANTILES
    ]
    return select(r.trigger_event, r.script_id, r.version, func.max(r.total), *picks).group_by(
        r.trigger_event, r.script_id, r.version
    )


def _charted(cells: Any) -> Rows:
    """Per (trigger, script, version), its chart's "column:errors" cells in one text."""
    pairs = cells.c.col.concat(":").concat(cells.c.n)
    return select(
        cells.c.trigger_event, cells.c.script_id, cells.c.version, func.group_concat(pairs)
    ).group_by(cells.c.trigger_event, cells.c.script_id, cells.c.version)


def rollup_counts(shape: FilterShape, ranges: int) -> Rows:
    """(trigger, script, version, status, runs, limit hits) over `ranges` rollup ranges."""
    c = script_counts.c
    return (
        select(c.trigger_event, c.script_id, c.version, c.status, func.sum(c.n))
        .add_columns(func.sum(c.limits))
        .where(_range_conditions(script_counts, ranges))
        .where(*_key_conditions(script_counts, shape))
        .group_by(c.trigger_event, c.script_id, c.version, c.status)
    )


def rollup_percentiles(shape: FilterShape, ranges: int) -> Rows:
    """(trigger, script, version or NULL, runs timed, bucket of each quantile) over `ranges`."""
    d = script_durations.c
    h = (
        select(d.trigger_event, d.script_id, d.version, d.bucket, func.sum(d.n).label("n"))
        .where(_range_conditions(script_durations, ranges))
        .where(*_key_conditions(script_durations, shape))
        .group_by(d.trigger_event, d.script_id, d.version, d.bucket)
        .cte("buckets")
    )
    return _percentiles(h)


def rollup_chart(shape: FilterShape, ranges: int) -> Rows:
    """(trigger, script, version, "column:errors,...") over `ranges` of hours and days, in
    columns of `chart_hours` from hour `chart_first`."""
    c = script_counts.c
    hour = case((c.grain == DAILY, c.t * DAY_HOURS), else_=c.t)
    first = bindparam("chart_first", type_=BigInteger)
    hours = bindparam("chart_hours", type_=BigInteger)
    col = ((hour - first) // hours).label("col")
    cells = (
        select(c.trigger_event, c.script_id, c.version, col, func.sum(c.n).label("n"))
        .where(_range_conditions(script_counts, ranges), c.status == ERROR)
        .where(*_key_conditions(script_counts, shape))
        .group_by(c.trigger_event, c.script_id, c.version, col)
        .subquery("cells")
    )
    return _charted(cells)


def _runs(shape: FilterShape) -> Any:
    """The runs counted, with what the reads need of them, in the window: the traces' own runs
    and every script's without a script filter, the matching runs of the named scripts with
    one."""
    parts = [_part(script_runs, shape)]
    if not shape.n_scripts:
        parts.append(_part(trace_runs, shape))
    else:
        parts[0] = parts[0].where(
            *run_conditions(shape.n_scripts, shape.n_script_statuses, 0, False, False),
            *version_conditions(shape.n_script_versions),
        )
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("runs")


def _part(table: Any, shape: FilterShape) -> Rows:
    """One table of runs, joined to the traces the trace-level filters keep."""
    r = table.c
    columns = ("trigger_event", "script_id", "version", "status", "limit_hit", "bucket")
    stmt = (
        select(*[r[name] for name in columns], r.started_at)
        .join_from(table, traces, traces.c.id == r.trace_id)
        .where(
            r.started_at >= bindparam("started_from"),
            r.started_at < bindparam("started_until"),
        )
    )
    trace_level = filter_clause(run_trace_level(shape))
    return stmt if trace_level is None else stmt.where(trace_level)


def run_counts(shape: FilterShape) -> Rows:
    """(trigger, script, version, status, runs, limit hits) of the runs themselves."""
    u = _runs(shape).c
    key = (u.trigger_event, u.script_id, u.version, u.status)
    return select(*key, func.count(), func.sum(u.limit_hit)).group_by(*key)


def run_percentiles(shape: FilterShape) -> Rows:
    """(trigger, script, version or NULL, runs timed, bucket of each quantile) of the runs."""
    u = _runs(shape).c
    key = (u.trigger_event, u.script_id, u.version, u.bucket)
    h = select(*key, func.count().label("n")).where(u.bucket.is_not(None)).group_by(*key)
    return _percentiles(h.cte("buckets"))


def run_chart(shape: FilterShape) -> Rows:
    """(trigger, script, version, "column:errors,...") of the runs, in columns of `chart_ns`
    from `chart_start`."""
    u = _runs(shape).c
    offset = u.started_at - bindparam("chart_start", type_=BigInteger)
    col = (offset // bindparam("chart_ns", type_=BigInteger)).label("col")
    key = (u.trigger_event, u.script_id, u.version)
    cells = (
        select(*key, col, func.count().label("n"))
        .where(u.status == ERROR)
        .group_by(*key, col)
        .subquery("cells")
    )
    return _charted(cells)
