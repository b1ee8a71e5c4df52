"""The traces of a file that the store does not have yet, written without staging: which of a
file's traces are stored already, and the rows of the others, summarised from their spans.

Their trace rows are inserted without OR IGNORE, so a trace another client stores between the
lookup and the write breaks the primary key and fails the file's transaction; the import then
looks again and merges that trace instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..backends import Backend
from ..batch_runs import batch_runs
from ..codec import trace_to_tuple
from ..columns import SPAN_COLUMNS, SPAN_TABLE, TRACE_COLUMNS, TRACE_TABLE
from ..errors import StoreError
from ..rollup_writes import filed
from ..span_filing_pause import without_filing_trigger
from ..sql import InsertMany, Operation, Statement
from .held import HeldSpan, HeldSpans
from .summary import summarize

CONFLICT = f"UNIQUE constraint failed: {TRACE_TABLE}.id"
"""How both backends word the refusal of a trace row that is stored already."""
LOOKUP_PAGE = 500
"""Trace ids looked up per query."""


class TraceConflict(StoreError):
    """A trace written as new was stored by another client meanwhile: look again."""


def stored_ids(backend: Backend, trace_ids: Sequence[str]) -> set[str]:
    """Those of `trace_ids` the store has, by primary key lookups a page of ids at a time."""
    found: set[str] = set()
    for start in range(0, len(trace_ids), LOOKUP_PAGE):
        page = tuple(trace_ids[start : start + LOOKUP_PAGE])
        marks = ", ".join("?" * len(page))
        sql = f"SELECT id FROM {TRACE_TABLE} WHERE id IN ({marks})"
        found.update(str(row[0]) for row in backend.query(Statement(sql, page)))
    return found


def new_trace_row(
    trace_id: str, spans: Sequence[HeldSpan], source: str, warnings: Iterable[str], now: int
) -> tuple[Any, ...]:
    """The row (TRACE_COLUMNS values) of a trace the store does not have, from its spans."""
    row = summarize(trace_id, [s.facts() for s in spans], None, source, warnings, now)
    return (trace_id, *trace_to_tuple(row, now)[1:])


def insert_operations(
    trace_rows: Mapping[str, tuple[Any, ...]],
    held: HeldSpans,
    file_runs: bool,
    trigger: str | None = None,
) -> list[Operation]:
    """Inserts of new traces' rows, then of their held spans (a trace stored meanwhile fails
    them); with `file_runs` (a store that keeps script runs), their runs filed and counted in
    the same writes, as the repository's saves do, rather than span by span by the triggers.
    Given the span-filing trigger's text, the spans are inserted with it off while they are
    filed that way (see span_filing_pause)."""
    held_spans = [s for trace_id in trace_rows for s in held.spans_of(trace_id)]
    span_rows = [s.values for s in held_spans]
    traces_insert = InsertMany(TRACE_TABLE, TRACE_COLUMNS, list(trace_rows.values()))
    spans_insert = InsertMany(SPAN_TABLE, SPAN_COLUMNS, span_rows)
    runs = None
    if file_runs:
        facts = [_run_attributes(s.run) for s in held_spans]
        runs = batch_runs(list(trace_rows.values()), span_rows, facts)
    if runs is None:
        return [traces_insert, spans_insert]
    spans_ops = (
        [spans_insert] if trigger is None else without_filing_trigger(trigger, [spans_insert])
    )
    return filed([traces_insert, *spans_ops], runs, list(trace_rows))


def _run_attributes(run: tuple[Any, Any, Any] | None) -> dict[str, Any] | None:
    """A held span's run facts as the attributes batch_runs reads."""
    if run is None:
        return None
    return {"script.sha256": run[0], "limit": run[1], "custom": run[2]}


def conflict_of(exc: StoreError) -> TraceConflict | None:
    """`exc` as a TraceConflict when it is the refusal of a trace stored meanwhile."""
    return TraceConflict(exc.message) if CONFLICT in exc.message else None
