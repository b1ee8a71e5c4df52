"""The auther repository's statements as SQLAlchemy Core over auther's own columns, built from
their shapes with values as named parameters (compiled on first use, see store/sql.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Delete,
    Select,
    Table,
    bindparam,
    delete,
    false,
    func,
    literal,
    literal_column,
    select,
    tuple_,
)

from ..filter_sql import filter_clause
from ..filters import FilterShape
from ..schema import spans, traces
from .detect import SPAN_COLUMNS, TRACE_COLUMNS

Rows = Select[*tuple[Any, ...]]
SUMMARY = tuple(c for c in TRACE_COLUMNS if c not in ("context_snapshot", "result_data"))
"""A listed trace's columns, then its span count."""


def _span_count() -> ColumnElement[int]:
    """A listed trace's spans, counted on auther's idx_spans_trace (it keeps no span_count)."""
    return (
        select(func.count())
        .select_from(spans)
        .where(spans.c.trace_id == traces.c.id)
        .correlate(traces)
        .scalar_subquery()
    )


def filtered(stmt: Rows, shape: FilterShape) -> Rows:
    """`stmt` with the conditions of a filter of `shape` on auther's columns (times in its
    milliseconds, no replay column: replays are never stored there); a lower time bound is
    also put on `created_at` (a trace is written after it starts), so it reads the index
    range only."""
    condition = filter_clause(shape._replace(replays="include"))
    if condition is not None:
        stmt = stmt.where(condition)
    if shape.has_from:
        stmt = stmt.where(traces.c.created_at >= bindparam("started_from"))
    if shape.replays == "only":
        stmt = stmt.where(false())
    return stmt


def trace_by_id() -> Rows:
    """One trace by its stored id (`trace_id`)."""
    return select(*[traces.c[n] for n in TRACE_COLUMNS]).where(traces.c.id == bindparam("trace_id"))


def id_range() -> Rows:
    """Up to `limit` stored ids from `start` up to `stop`, sorted."""
    return (
        select(traces.c.id)
        .where(traces.c.id >= bindparam("start"), traces.c.id < bindparam("stop"))
        .order_by(traces.c.id)
        .limit(bindparam("limit"))
    )


def trace_page(shape: FilterShape, after_cursor: bool) -> Rows:
    """A page of matching summaries with their span counts, newest `created_at` first
    (`limit`), after a cursor if asked (`cursor_created`, `cursor_id`)."""
    stmt = filtered(select(*[traces.c[n] for n in SUMMARY], _span_count()), shape)
    if after_cursor:
        stmt = stmt.where(
            tuple_(traces.c.created_at, traces.c.id)
            < tuple_(bindparam("cursor_created"), bindparam("cursor_id"))
        )
    return stmt.order_by(traces.c.created_at.desc(), traces.c.id.desc()).limit(bindparam("limit"))


def newer_traces(shape: FilterShape) -> Rows:
    """The `limit` matching summaries written just after a position (`after_created`,
    `after_id`), nearest first (a keyset read upwards)."""
    return (
        filtered(select(*[traces.c[n] for n in SUMMARY], _span_count()), shape)
        .where(
            tuple_(traces.c.created_at, traces.c.id)
            > tuple_(bindparam("after_created"), bindparam("after_id"))
        )
        .order_by(traces.c.created_at, traces.c.id)
        .limit(bindparam("limit"))
    )


def count_rows(shape: FilterShape) -> Rows:
    """COUNT(*) over at most `cap` matching rows."""
    matching = (
        filtered(select(literal(1)).select_from(traces), shape).limit(bindparam("cap")).subquery()
    )
    return select(func.count()).select_from(matching)


def sampled_points(shape: FilterShape) -> Rows:
    """Per slice of `slice_ms` of `created_at` from `plot_start` (`slices` of them), its newest
    `per_slice` matching traces (index range reads)."""
    numbers = select(literal(0).label("i")).cte("slice_numbers", recursive=True)
    numbers = numbers.union_all(
        select(numbers.c.i + 1).where(numbers.c.i + 1 < bindparam("slices"))
    )
    low: ColumnElement[int] = bindparam("plot_start") + numbers.c.i * bindparam("slice_ms")
    picked = (
        filtered(select(traces.c.id), shape)
        .where(traces.c.created_at >= low, traces.c.created_at < low + bindparam("slice_ms"))
        .order_by(traces.c.created_at.desc())
        .limit(bindparam("per_slice"))
        .correlate(numbers)
    )
    point = traces.alias("point")
    return select(
        numbers.c.i, point.c.started_at, point.c.id, point.c.duration_ms, point.c.status
    ).select_from(numbers.join(point, point.c.id.in_(picked.scalar_subquery())))


def edge(newest: bool, shape: FilterShape) -> Rows:
    """The newest (or oldest) `created_at` of a matching trace."""
    order = traces.c.created_at.desc() if newest else traces.c.created_at.asc()
    return filtered(select(traces.c.created_at), shape).order_by(order).limit(1)


def count_traces_before() -> Rows:
    """How many traces were written before `cutoff_ms`."""
    return (
        select(func.count()).select_from(traces).where(traces.c.created_at < bindparam("cutoff_ms"))
    )


def count_spans_before() -> Rows:
    """How many spans started before `cutoff_ms`."""
    return (
        select(func.count()).select_from(spans).where(spans.c.started_at < bindparam("cutoff_ms"))
    )


def delete_batch(spans_phase: bool) -> Delete:
    """Delete up to `limit` spans that started (or traces written) before `cutoff_ms`."""
    table: Table = spans if spans_phase else traces
    column = spans.c.started_at if spans_phase else traces.c.created_at
    pick = (
        select(literal_column("rowid"))
        .select_from(table)
        .where(column < bindparam("cutoff_ms"))
        .limit(bindparam("limit"))
        .scalar_subquery()
    )
    return delete(table).where(literal_column("rowid").in_(pick))


def traces_by_ids(ids: Sequence[str]) -> Rows:
    """The traces of `ids` (stored ids)."""
    return select(*[traces.c[n] for n in TRACE_COLUMNS]).where(traces.c.id.in_(ids))


def spans_by_trace_ids(ids: Sequence[str]) -> Rows:
    """The spans of the traces of `ids`, by trace, in start order (then as written)."""
    return (
        select(*[spans.c[n] for n in SPAN_COLUMNS])
        .where(spans.c.trace_id.in_(ids))
        .order_by(spans.c.trace_id, spans.c.started_at, literal_column("rowid"))
    )


def stored_ids(ids: Sequence[str]) -> Rows:
    """Which of `ids` are stored."""
    return select(traces.c.id).where(traces.c.id.in_(ids))
