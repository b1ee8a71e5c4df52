"""The repository's statements as SQLAlchemy Core, each built from its shape with its values as
named parameters; store/sql.py compiles one on first use, or finds it precompiled, so this
module (and SQLAlchemy) is imported only for a statement the precompiled table lacks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Delete,
    Select,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    union,
)

from .codec import SUMMARY_COLUMNS
from .columns import SPAN_COLUMNS, TRACE_COLUMNS
from .filter_sql import filter_clause
from .filters import FilterShape
from .replay_reads import REPLAY_COLUMNS, attribute, own_script_span, runs_column
from .run_filters import version_conditions
from .schema import script_runs as runs_table
from .schema import script_sources, spans, trace_counts, traces
from .sound_span_sql import SOUND_SPAN

Rows = Select[*tuple[Any, ...]]


def trace_by_id() -> Rows:
    """One trace with its JSON columns (`trace_id`)."""
    return select(*[traces.c[n] for n in TRACE_COLUMNS]).where(traces.c.id == bindparam("trace_id"))


def spans_of_trace() -> Rows:
    """A trace's spans in start order (`trace_id`)."""
    return (
        select(*[spans.c[n] for n in SPAN_COLUMNS])
        .where(spans.c.trace_id == bindparam("trace_id"))
        .order_by(spans.c.started_at, spans.c.pk)
    )


def outline_spans() -> Rows:
    """A trace's spans in start order, each row's key last (`trace_id`)."""
    return (
        select(*[spans.c[n] for n in SPAN_COLUMNS], spans.c.pk)
        .where(spans.c.trace_id == bindparam("trace_id"))
        .order_by(spans.c.started_at, spans.c.pk)
    )


def damaged_spans() -> Rows:
    """A trace's spans whose rows do not read without a problem, each row's key last
    (`trace_id`; see `sound_span_sql`): a test in the WHERE clause stops at a row's first
    failing check and hands no flag per row to Python, so a sound trace costs the least."""
    return select(*[spans.c[n] for n in SPAN_COLUMNS], spans.c.pk).where(
        spans.c.trace_id == bindparam("trace_id"), text(f"NOT ({SOUND_SPAN})")
    )


def span_page(after: bool) -> Rows:
    """One page of a trace's spans in (start, key) order, key first (`trace_id`, `limit`),
    after a position if asked (`after_started`, `after_pk`)."""
    stmt = select(spans.c.pk, *[spans.c[n] for n in SPAN_COLUMNS]).where(
        spans.c.trace_id == bindparam("trace_id")
    )
    if after:
        stmt = stmt.where(
            tuple_(spans.c.started_at, spans.c.pk)
            > tuple_(bindparam("after_started"), bindparam("after_pk"))
        )
    return stmt.order_by(spans.c.started_at, spans.c.pk).limit(bindparam("limit"))


def span_links() -> Rows:
    """(span id, parent span id) of each span of a trace (`trace_id`)."""
    return select(spans.c.id, spans.c.parent_span_id).where(
        spans.c.trace_id == bindparam("trace_id")
    )


def id_lookup(arms: int) -> CompoundSelect[*tuple[Any, ...]]:
    """The ids in `arms` ranges [`start_i`, `stop_i`), at most `limit`, sorted: each range is
    one index range read that stops after `limit` ids, and a UNION joins them (an OR of the
    ranges would read every id in each range before sorting)."""
    reads = [
        select(traces.c.id)
        .where(traces.c.id >= bindparam(f"start_{i}"), traces.c.id < bindparam(f"stop_{i}"))
        .order_by(traces.c.id)
        .limit(bindparam("limit"))
        .subquery()
        for i in range(arms)
    ]
    return union(*[select(read.c.id) for read in reads]).order_by("id").limit(bindparam("limit"))


def filtered(stmt: Rows, shape: FilterShape) -> Rows:
    """`stmt` with the conditions of a filter of `shape`, if any."""
    condition = filter_clause(shape)
    return stmt if condition is None else stmt.where(condition)


def trace_page(shape: FilterShape, after_cursor: bool) -> Rows:
    """A page of matching trace summaries, newest first (`limit`), after a cursor if asked
    (`cursor_started`, `cursor_id`)."""
    stmt = filtered(select(*[traces.c[n] for n in SUMMARY_COLUMNS]), shape)
    if after_cursor:
        stmt = stmt.where(
            tuple_(traces.c.started_at, traces.c.id)
            < tuple_(bindparam("cursor_started"), bindparam("cursor_id"))
        )
    return stmt.order_by(traces.c.started_at.desc(), traces.c.id.desc()).limit(bindparam("limit"))


def newer_traces(shape: FilterShape) -> Rows:
    """The `limit` matching trace summaries just newer than a position (`after_started`,
    `after_id`), nearest first (a keyset read upwards)."""
    return (
        filtered(select(*[traces.c[n] for n in SUMMARY_COLUMNS]), shape)
        .where(
            tuple_(traces.c.started_at, traces.c.id)
            > tuple_(bindparam("after_started"), bindparam("after_id"))
        )
        .order_by(traces.c.started_at, traces.c.id)
        .limit(bindparam("limit"))
    )


def count_rows(shape: FilterShape) -> Rows:
    """COUNT(*) of the matching rows."""
    return filtered(select(func.count()).select_from(traces), shape)


def count_hours(n_triggers: int, n_statuses: int, has_first: bool, has_last: bool) -> Rows:
    """The sum of the hourly counts of the triggers and statuses (`trigger_i`, `status_i`) from
    hour `first_hour` up to `last_hour` (either end open when not asked)."""
    c = trace_counts.c
    stmt = select(func.coalesce(func.sum(c.n), 0))
    if n_triggers:
        stmt = stmt.where(
            c.trigger_event.in_([bindparam(f"trigger_{i}") for i in range(n_triggers)])
        )
    if n_statuses:
        stmt = stmt.where(c.status.in_([bindparam(f"status_{i}") for i in range(n_statuses)]))
    if has_first:
        stmt = stmt.where(c.hour >= bindparam("first_hour"))
    if has_last:
        stmt = stmt.where(c.hour < bindparam("last_hour"))
    return stmt


def sampled_points(shape: FilterShape) -> Rows:
    """The slice number and newest `per_slice` matching traces in each of `slices` time slices
    of `slice_ns` from `plot_start` (a recursive CTE numbers the slices; a correlated,
    index-ordered subquery picks each one's traces)."""
    numbers = select(literal(0).label("i")).cte("slice_numbers", recursive=True)
    numbers = numbers.union_all(
        select(numbers.c.i + 1).where(numbers.c.i + 1 < bindparam("slices"))
    )
    low: ColumnElement[int] = bindparam("plot_start") + numbers.c.i * bindparam("slice_ns")
    picked = (
        filtered(select(traces.c.id), shape)
        .where(traces.c.started_at >= low, traces.c.started_at < low + bindparam("slice_ns"))
        .order_by(traces.c.started_at.desc())
        .limit(bindparam("per_slice"))
        .correlate(numbers)
    )
    point = traces.alias("point")
    return select(
        numbers.c.i, point.c.started_at, point.c.id, point.c.duration_ms, point.c.status
    ).select_from(numbers.join(point, point.c.id.in_(picked.scalar_subquery())))


def count_unplaceable(shape: FilterShape) -> Rows:
    """How many matching traces start outside [`int64_min`, `int64_max`] (text, a BLOB, beyond
    64 bits): two short index ranges."""
    outside = traces.alias("outside")
    matches = filtered(select(literal(1)), shape).where(traces.c.id == outside.c.id)
    return select(func.count()).where(
        or_(
            outside.c.started_at > bindparam("int64_max"),
            outside.c.started_at < bindparam("int64_min"),
        ),
        matches.exists(),
    )


def edge(newest: bool, shape: FilterShape) -> Rows:
    """The newest (or oldest) start within [`int64_min`, `int64_max`] of a matching trace."""
    order = traces.c.started_at.desc() if newest else traces.c.started_at.asc()
    return (
        filtered(select(traces.c.started_at), shape)
        .where(traces.c.started_at.between(bindparam("int64_min"), bindparam("int64_max")))
        .order_by(order)
        .limit(1)
    )


def distinct_triggers() -> Rows:
    """Every trigger name, sorted."""
    return select(traces.c.trigger_event).distinct().order_by(traces.c.trigger_event)


def replays_of() -> Rows:
    """Summaries of the traces that replay `trace_id`, newest first."""
    return (
        select(*[traces.c[n] for n in SUMMARY_COLUMNS])
        .where(traces.c.replay_of == bindparam("trace_id"))
        .order_by(traces.c.started_at.desc())
    )


def count_traces_before() -> Rows:
    """How many traces started before `cutoff`."""
    return select(func.count()).select_from(traces).where(traces.c.started_at < bindparam("cutoff"))


def count_spans_before() -> Rows:
    """How many spans belong to traces that started before `cutoff`."""
    old = select(traces.c.id).where(traces.c.started_at < bindparam("cutoff"))
    return select(func.count()).select_from(spans).where(spans.c.trace_id.in_(old))


def oldest_ids() -> Rows:
    """The ids and starts of the oldest `limit` traces that started before `cutoff`."""
    return (
        select(traces.c.id, traces.c.started_at)
        .where(traces.c.started_at < bindparam("cutoff"))
        .order_by(traces.c.started_at)
        .limit(bindparam("limit"))
    )


def traces_by_ids(ids: Sequence[str]) -> Rows:
    """The traces of `ids` with their JSON columns."""
    return select(*[traces.c[n] for n in TRACE_COLUMNS]).where(traces.c.id.in_(ids))


def spans_by_trace_ids(ids: Sequence[str]) -> Rows:
    """The spans of the traces of `ids`, by trace, in start order."""
    return (
        select(*[spans.c[n] for n in SPAN_COLUMNS])
        .where(spans.c.trace_id.in_(ids))
        .order_by(spans.c.trace_id, spans.c.started_at, spans.c.pk)
    )


def script_runs(ids: Sequence[str]) -> Rows:
    """The script spans of the traces of `ids` in start order, without custom spans, with the
    limit each hit read from its attributes where they are sound JSON."""
    columns = (spans.c.script_id, spans.c.status, spans.c.duration_ms, attribute("limit"))
    return (
        select(spans.c.trace_id, *columns)
        .where(spans.c.trace_id.in_(ids), own_script_span())
        .order_by(spans.c.trace_id, spans.c.started_at, spans.c.pk)
    )


def key_after(shape: FilterShape, after_cursor: bool) -> Rows:
    """The position of the matching trace `skip` rows past a cursor (`cursor_started`,
    `cursor_id`, when asked), newest first: an OFFSET the cursor bounds."""
    stmt = filtered(select(traces.c.started_at, traces.c.id), shape)
    if after_cursor:
        stmt = stmt.where(
            tuple_(traces.c.started_at, traces.c.id)
            < tuple_(bindparam("cursor_started"), bindparam("cursor_id"))
        )
    return (
        stmt.order_by(traces.c.started_at.desc(), traces.c.id.desc())
        .limit(1)
        .offset(bindparam("skip"))
    )


def traces_with_runs(shape: FilterShape, bounded: bool) -> Rows:
    """The matching traces from `newest_started`/`newest_id` (included) down to
    `older_started`/`older_id` (left out, when `bounded`), newest first, each with its scripts'
    own runs packed into one JSON value (see replay_reads.py)."""
    key = tuple_(traces.c.started_at, traces.c.id)
    stmt = filtered(select(*[traces.c[n] for n in REPLAY_COLUMNS], runs_column()), shape)
    stmt = stmt.where(key <= tuple_(bindparam("newest_started"), bindparam("newest_id")))
    if bounded:
        stmt = stmt.where(key > tuple_(bindparam("older_started"), bindparam("older_id")))
    return stmt.order_by(traces.c.started_at.desc(), traces.c.id.desc())


def stored_ids(ids: Sequence[str]) -> Rows:
    """Which of `ids` are stored."""
    return select(traces.c.id).where(traces.c.id.in_(ids))


def delete_spans_of(ids: Sequence[str]) -> Delete:
    """Delete the spans of the traces of `ids`."""
    return delete(spans).where(spans.c.trace_id.in_(ids))


def delete_traces(ids: Sequence[str]) -> Delete:
    """Delete the traces of `ids`."""
    return delete(traces).where(traces.c.id.in_(ids))


def sources_by_sha(count: int) -> Rows:
    """The stored (sha256, text) of `count` script versions (`sha_0`, `sha_1`, ...)."""
    wanted: list[BindParameter[str]] = [bindparam(f"sha_{i}") for i in range(count)]
    return select(script_sources.c.sha256, script_sources.c.source).where(
        script_sources.c.sha256.in_(wanted)
    )


def forget_sources() -> Delete:
    """Delete the sources whose every trace started before `edge`."""
    return delete(script_sources).where(script_sources.c.used_until <= bindparam("edge"))


def statuses_of_script() -> Rows:
    """Every status the runs of script `script` have, one index seek each (a skip scan by a
    recursive CTE over the runs' (script, status, ...) index)."""
    r = runs_table.c
    found = select(func.min(r.status).label("status")).where(r.script_id == bindparam("script"))
    found_cte = found.cte("found", recursive=True)
    after = (
        select(func.min(r.status))
        .where(r.script_id == bindparam("script"), r.status > found_cte.c.status)
        .scalar_subquery()
    )
    found_cte = found_cte.union_all(select(after).where(found_cte.c.status.is_not(None)))
    return select(found_cte.c.status).where(found_cte.c.status.is_not(None))


def runs_page(shape: FilterShape, after_cursor: bool) -> Rows:
    """A page of the traces whose run of script `pair_script` ended in `pair_status`, newest
    first (`limit`), after a cursor if asked (`cursor_started`, `cursor_id`): the runs' index
    read in order (the trace-level filters, if any, checked on each run's trace), then the
    page's traces."""
    r = runs_table.c
    keys = (
        select(r.started_at, r.trace_id)
        .distinct()
        .where(r.script_id == bindparam("pair_script"), r.status == bindparam("pair_status"))
        .where(*version_conditions(shape.n_script_versions))
    )
    if shape.replays != "include":
        keys = keys.where(r.replay == int(shape.replays == "only"))
    if shape.has_from:
        keys = keys.where(r.started_at >= bindparam("started_from"))
    if shape.has_until:
        keys = keys.where(r.started_at < bindparam("started_until"))
    plain = shape._replace(n_scripts=0, n_script_statuses=0, n_script_versions=0)
    trace_level = filter_clause(plain._replace(replays="include"))
    if trace_level is not None:
        keys = keys.join_from(runs_table, traces, traces.c.id == r.trace_id).where(trace_level)
    if after_cursor:
        keys = keys.where(
            tuple_(r.started_at, r.trace_id)
            < tuple_(bindparam("cursor_started"), bindparam("cursor_id"))
        )
    page = (
        keys.order_by(r.started_at.desc(), r.trace_id.desc())
        .limit(bindparam("limit"))
        .subquery("page")
    )
    return (
        select(*[traces.c[n] for n in SUMMARY_COLUMNS])
        .join_from(page, traces, traces.c.id == page.c.trace_id)
        .order_by(page.c.started_at.desc(), page.c.trace_id.desc())
    )


def deciding_runs() -> Rows:
    """(trace id, script id, status) of the script runs that blocked or errored in the traces
    of `ids` (a JSON array, so any number of ids is one statement), by trace in start order."""
    listed = func.json_each(bindparam("ids")).table_valued("value")
    return (
        select(spans.c.trace_id, spans.c.script_id, spans.c.status)
        .where(
            spans.c.trace_id.in_(select(listed.c.value)),
            spans.c.status.in_([literal("blocked"), literal("error")]),
            own_script_span(),
        )
        .order_by(spans.c.trace_id, spans.c.started_at, spans.c.pk)
    )
