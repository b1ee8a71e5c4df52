"""The Repository over an auther database: its own columns, units and indexes, read-only
except for retention, which follows auther's cleanupOldTraces in our batches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from ..backends import Backend
from ..errors import StoreError
from ..filters import filter_shape, filter_values
from ..models import (
    CleanupProgress,
    CleanupResult,
    Cursor,
    DurationPoints,
    Page,
    ScriptRun,
    SpanRow,
    StoredPipelines,
    TraceFilter,
    TraceOutline,
    TraceRow,
    TraceWithSpans,
    VacuumResult,
)
from ..repository import MAX_PAGE, Repository
from ..span_outline import SpanOutline
from ..sql import Statement, built_statement, named_statement
from .detect import SPAN_COLUMNS, TRACE_COLUMNS
from .ids import dashed, is_uuid, stored_prefix
from .indexes import OptionalIndex, optional_indexes
from .rows import MS, span_row, trace_row
from .stored_pipelines import read_stored_pipelines

COUNT_CAP = 10_000
"""Counts stop here: auther has no count table, and a COUNT(*) reads every matching row."""
SUMMARY = tuple(c for c in TRACE_COLUMNS if c not in ("context_snapshot", "result_data"))
"""A listed trace's columns (auther/queries.py lists them, then the trace's span count)."""
READ_ONLY = "pipetrace only reads an auther store (and deletes old traces on request)"


class AutherRepository(Repository):
    """auther's traces behind our Repository: the newest first by `created_at` (the column auther
    indexes, written as each trace ends), times filtered and shown in their own milliseconds."""

    count_cap: int | None = COUNT_CAP
    flavour = "auther"
    queries = ".auther.queries"

    def __init__(self, backend: Backend, clock: Callable[[], int] = time.time_ns) -> None:
        super().__init__(backend, clock)
        self.keeps_sources = False

    def apply_additive_revisions(self) -> None:
        """Nothing: an auther database is never migrated."""

    def script_runs_missing(self) -> str | None:
        """Always: auther keeps no script runs or rollups, and its database is never migrated."""
        return (
            "an auther database keeps no script runs: the script filters and stats need a "
            "pipetrace store"
        )

    @property
    def url(self) -> str:
        """Where the traces live, saying that it is auther's store."""
        return f"{self.backend.target.display} (auther store)"

    # -- writes are refused -------------------------------------------------------------------

    def save_traces(self, items: Sequence[TraceWithSpans]) -> None:
        """Refused: auther writes its own traces."""
        raise StoreError(f"{self.url}: {READ_ONLY}")

    def create_trace(self, trace: TraceRow) -> None:
        """Refused: auther writes its own traces."""
        raise StoreError(f"{self.url}: {READ_ONLY}")

    def create_spans(self, spans_: Sequence[SpanRow]) -> None:
        """Refused: auther writes its own traces."""
        raise StoreError(f"{self.url}: {READ_ONLY}")

    def vacuum(self, wait: float, on_start: Callable[[int], None] | None = None) -> VacuumResult:
        """Refused: a VACUUM would rewrite the whole application database."""
        raise StoreError(f"{self.url}: pipetrace does not VACUUM an application's database")

    def analyze(self) -> None:
        """Nothing: ANALYZE would write planner tables into the application's database."""

    # -- reads --------------------------------------------------------------------------------

    def cursor_of(self, row: TraceRow) -> Cursor:
        """The keyset position of a listed row: its `created_at` and its UUID as 32 hex digits."""
        return Cursor(row.created_at or 0, row.id.replace("-", ""))

    def get_trace(self, trace_id: str) -> TraceRow | None:
        """One trace by its UUID (or the UUID's 32 hex digits), or None."""
        rows = self._query("trace_by_id", (), trace_id=_stored_id(trace_id))
        return trace_row(rows[0], TRACE_COLUMNS) if rows else None

    def get_trace_with_spans(self, trace_id: str) -> TraceWithSpans | None:
        """A trace and all its spans in start order (custom spans carry their parent)."""
        found = self.get_traces_with_spans([trace_id])
        return found[0] if found else None

    def get_trace_outline(self, trace_id: str) -> TraceOutline | None:
        """A trace and its spans, read whole (auther's traces are small: it caps them)."""
        found = self.get_trace_with_spans(trace_id)
        if found is None:
            return None
        return TraceOutline(found.trace, SpanOutline.of(found.spans))

    def trace_spans(self, trace_id: str, batch: int = 0) -> Iterator[SpanRow]:
        """A trace's spans in start order (read at once: auther caps its traces' size)."""
        found = self.get_trace_with_spans(trace_id)
        yield from found.spans if found is not None else ()

    def span_links(self, trace_id: str) -> list[tuple[str, str | None]]:
        """(span id, parent span id) of each span of a trace."""
        found = self.get_trace_with_spans(trace_id)
        return [(s.id, s.parent_span_id) for s in found.spans] if found is not None else []

    def get_traces_with_spans(self, trace_ids: Sequence[str]) -> list[TraceWithSpans]:
        """Many traces with their spans in two queries; absent ids are left out."""
        ids = [_stored_id(t) for t in dict.fromkeys(trace_ids)]
        if not ids:
            return []
        rows = self.backend.query(built_statement(self.queries, "traces_by_ids", ids))
        span_rows = self.backend.query(built_statement(self.queries, "spans_by_trace_ids", ids))
        grouped: dict[str, list[SpanRow]] = {}
        for values in span_rows:
            span = span_row(values, SPAN_COLUMNS)
            grouped.setdefault(span.trace_id, []).append(span)
        found = {t.id: t for t in (trace_row(r, TRACE_COLUMNS) for r in rows)}
        out = []
        for i in ids:
            if i in found:
                found[i].span_count = len(grouped.get(i, []))
                out.append(TraceWithSpans(found[i], grouped.get(i, [])))
        return out

    def get_traces(self, trace_ids: Sequence[str]) -> list[TraceRow]:
        """Many traces by UUID, in the order asked; absent ids are left out."""
        return [found.trace for found in self.get_traces_with_spans(trace_ids)]

    def script_runs(self, trace_ids: Sequence[str]) -> dict[str, list[ScriptRun]]:
        """Each trace's script spans in start order, without custom spans."""
        runs: dict[str, list[ScriptRun]] = {}
        for found in self.get_traces_with_spans(trace_ids):
            for span in found.spans:
                if span.script_id is None or span.attributes.get("custom"):
                    continue
                limit = span.attributes.get("limit")
                runs.setdefault(found.trace.id, []).append(
                    ScriptRun(
                        span.script_id,
                        span.status,
                        span.duration_ms,
                        limit if isinstance(limit, str) else None,
                    )
                )
        return runs

    def deciding_runs(self, trace_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Each trace's script runs that blocked or errored, in start order."""
        return {
            trace_id: [(r.script_id, r.status) for r in runs if r.status in ("blocked", "error")]
            for trace_id, runs in self.script_runs(trace_ids).items()
        }

    def page_and_count(
        self, filters: TraceFilter | None = None, limit: int = 50, cursor: Cursor | None = None
    ) -> tuple[Page, int]:
        """`list_traces` and `count_traces` (a file, read in place: no round trips to save)."""
        return self.list_traces(filters, limit, cursor), self.count_traces(filters)

    def find_trace_ids(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to `limit` trace ids, sorted, starting with `prefix` (dashes optional)."""
        start = stored_prefix(prefix)
        rows = self._query("id_range", (), start=start, stop=start + "~", limit=limit)
        return [str(r[0]) for r in rows]

    def list_traces(
        self, filters: TraceFilter | None = None, limit: int = 50, cursor: Cursor | None = None
    ) -> Page:
        """Newest first by `created_at` (auther's index), a page at a time by keyset."""
        f = filters or TraceFilter()
        self.need_script_runs(f)
        limit = max(1, min(limit, MAX_PAGE))
        values = _values(f)
        values["limit"] = limit + 1
        if cursor is not None:
            values["cursor_created"] = cursor.started_at // MS
            values["cursor_id"] = _stored_id(cursor.trace_id)
        shape = (filter_shape(f), cursor is not None)
        rows = self._rows(named_statement(self.queries, "trace_page", shape, values))
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = self.cursor_of(rows[-1])
        return Page(rows, next_cursor)

    def list_newer(
        self, filters: TraceFilter | None, after: Cursor, limit: int = 200
    ) -> list[TraceRow]:
        """The `limit` traces written just after `after` (a `cursor_of`), newest first: the page
        above a list's first row when paging back up (read by keyset upwards, never OFFSET)."""
        f = filters or TraceFilter()
        self.need_script_runs(f)
        values = _values(f)
        values.update(
            limit=max(1, min(limit, MAX_PAGE)),
            after_created=after.started_at // MS,
            after_id=_stored_id(after.trace_id),
        )
        stmt = named_statement(self.queries, "newer_traces", (filter_shape(f),), values)
        return self._rows(stmt)[::-1]

    def count_traces(self, filters: TraceFilter | None = None) -> int:
        """How many traces match, up to COUNT_CAP + 1 (which means "more than COUNT_CAP")."""
        return self._count_rows(filters or TraceFilter())

    def count_rows(self, filters: TraceFilter) -> int:
        """The same capped count: every count here reads rows."""
        return self._count_rows(filters)

    def _count_rows(self, f: TraceFilter) -> int:
        """COUNT(*) over at most COUNT_CAP + 1 matching rows."""
        self.need_script_runs(f)
        values = _values(f)
        values["cap"] = COUNT_CAP + 1
        stmt = named_statement(self.queries, "count_rows", (filter_shape(f),), values)
        return int(self.backend.query(stmt)[0][0])

    def duration_points(
        self, filters: TraceFilter | None = None, limit: int = 2000, slices: int = 1
    ) -> DurationPoints:
        """Up to `limit` matching traces for the plot, sliced over `created_at` (indexed) so
        each slice is one index range read; points are placed at their start time."""
        f = filters or TraceFilter()
        self.need_script_runs(f)
        span = self._time_span(f)
        if span is None:
            return DurationPoints([], False, 0)
        start, end = span
        slices = max(1, min(slices, limit))
        share = limit // slices
        values = _values(f)
        values.update(
            plot_start=start // MS,
            slice_ms=max(1, -(-(end - start) // slices // MS)),
            slices=slices,
            per_slice=share + 1,
        )
        stmt = named_statement(self.queries, "sampled_points", (filter_shape(f),), values)
        by_slice: dict[int, list[tuple[Any, ...]]] = {}
        for row in self.backend.query(stmt):
            by_slice.setdefault(row[0], []).append(row)
        points: list[tuple[int, float | None, str]] = []
        sampled = False
        unplaceable = 0
        for rows in by_slice.values():
            if len(rows) > share:
                sampled = True
                rows = sorted(rows, key=lambda r: (r[1], r[2]), reverse=True)[:share]
            for _, started, _id, duration, status in rows:
                if type(started) is not int:
                    unplaceable += 1
                    continue
                number = duration if type(duration) in (int, float) else None
                points.append((started * MS, None if number is None else float(number), status))
        return DurationPoints(points, sampled, unplaceable)

    def started_range(self, filters: TraceFilter) -> tuple[int, int] | None:
        """The first and last `created_at` of the matching traces (two index reads), in ns."""
        self.need_script_runs(filters)
        first = self._edge(filters, newest=False)
        last = self._edge(filters, newest=True)
        if first is None or last is None:
            return None
        return first, last - 1

    def _edge(self, f: TraceFilter, newest: bool) -> int | None:
        """The oldest `created_at` of a match, or just after the newest, in ns."""
        stmt = named_statement(self.queries, "edge", (newest, filter_shape(f)), _values(f))
        rows = self.backend.query(stmt)
        if not rows or type(rows[0][0]) is not int:
            return None
        return int(rows[0][0]) * MS + int(newest) * MS

    def distinct_triggers(self) -> list[str]:
        """Every trigger name, sorted: one index seek per name (a skip scan), not a full read."""
        sql = (
            "WITH RECURSIVE t(name) AS (SELECT min(trigger_event) FROM pipeline_traces "
            "UNION ALL SELECT (SELECT min(trigger_event) FROM pipeline_traces "
            "WHERE trigger_event > t.name) FROM t WHERE t.name IS NOT NULL) "
            "SELECT name FROM t WHERE name IS NOT NULL"
        )
        return [str(r[0]) for r in self.backend.query(Statement(sql))]

    def replays_of(self, trace_id: str) -> list[TraceRow]:
        """None: replays of an auther trace are never stored in its database."""
        return []

    def optional_indexes(self) -> list[OptionalIndex]:
        """The indexes pipetrace can add here on request, each saying whether it is present."""
        return optional_indexes(self.backend)

    def add_indexes(self, indexes: Sequence[OptionalIndex]) -> None:
        """Create `indexes` in one transaction: the only schema change pipetrace makes to an
        auther database, and only when the operator asked (`pipetrace db indexes`)."""
        self.backend.write([Statement(i.create_sql) for i in indexes])

    def drop_indexes(self, indexes: Sequence[OptionalIndex]) -> None:
        """Remove indexes `add_indexes` made, in one transaction."""
        self.backend.write([Statement(i.drop_sql) for i in indexes])

    def stored_pipelines(self) -> StoredPipelines:
        """auther's plans and scripts, as they are now in its database."""
        return read_stored_pipelines(self.backend, self.url)

    def existing_trace_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of `ids` are stored."""
        found: set[str] = set()
        unique = sorted({_stored_id(i) for i in ids})
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            stmt = built_statement(self.queries, "stored_ids", chunk)
            found.update(str(r[0]) for r in self.backend.query(stmt))
        return found

    def _rows(self, stmt: Statement) -> list[TraceRow]:
        """Decode summary rows and their span counts."""
        rows = []
        for values in self.backend.query(stmt):
            row = trace_row(values[:-1], SUMMARY)
            row.span_count = int(values[-1])
            rows.append(row)
        return rows

    # -- retention, as auther's cleanupOldTraces ------------------------------------------------

    def count_older_than(self, cutoff: int) -> tuple[int, int]:
        """(traces written before `cutoff`, spans started before it): what cleanup deletes."""
        cutoff_ms = _ms_ceil(cutoff)
        return (
            int(self._query("count_traces_before", (), cutoff_ms=cutoff_ms)[0][0]),
            int(self._query("count_spans_before", (), cutoff_ms=cutoff_ms)[0][0]),
        )

    def cleanup_old_traces(
        self,
        cutoff: int,
        batch_size: int = 1000,
        on_progress: Callable[[CleanupProgress], object] | None = None,
        cancel: threading.Event | None = None,
        pause: float = 0.0,
        verify: bool = True,
    ) -> CleanupResult:
        """Delete as auther does (spans that started before the cutoff, then traces created
        before it, cutoff in whole milliseconds), in batches of one transaction each with an
        optional pause; only the two trace tables are written. A database SQLite's quick check
        finds damaged is refused first (`verify` False: the caller has just checked)."""
        if verify:
            self.refuse_if_damaged("cleanup")
        cutoff_ms = _ms_ceil(cutoff)
        total = self.count_older_than(cutoff)[0] if on_progress else None
        done = [0, 0]
        for spans_phase, slot in ((True, 1), (False, 0)):
            values = {"cutoff_ms": cutoff_ms, "limit": batch_size}
            stmt = named_statement(self.queries, "delete_batch", (spans_phase,), values)
            while not (cancel is not None and cancel.is_set()):
                try:
                    (changed,) = self.backend.write([stmt])
                except StoreError as exc:
                    raise _partial(exc, done) from None
                if not changed:
                    break
                done[slot] += changed
                if on_progress is not None:
                    on_progress(CleanupProgress(done[0], done[1], total))
                if pause:
                    time.sleep(pause)
        cancelled = cancel is not None and cancel.is_set()
        return CleanupResult(done[0], done[1], cancelled=cancelled, space=self.space())


def _stored_id(trace_id: str) -> str:
    """A typed or cursor trace id as stored: 32 hex digits get the UUID's dashes back."""
    text = trace_id.strip().lower()
    if len(text) == 32 and not is_uuid(text) and "-" not in text:
        return dashed(text)
    return text


def _ms_ceil(value: int) -> int:
    """A nanosecond bound as the millisecond bound that selects the same whole-ms times."""
    return -(-value // MS)


def _in_ms(f: TraceFilter) -> TraceFilter:
    """`f` with its time bounds in auther's milliseconds, and no replay condition: auther's
    table has no `replay_of` (replays are never stored there; see auther/queries.py)."""
    return replace(
        f,
        replays="include",
        started_from=None if f.started_from is None else _ms_ceil(f.started_from),
        started_until=None if f.started_until is None else _ms_ceil(f.started_until),
    )


def _values(f: TraceFilter) -> dict[str, Any]:
    """The filter's parameter values, times in milliseconds."""
    return filter_values(_in_ms(f))


def _partial(exc: StoreError, done: list[int]) -> StoreError:
    """The failure, saying what cleanup had deleted before it."""
    if not any(done):
        return exc
    result = CleanupResult(done[0], done[1])
    return type(exc)(
        f"{exc.message} (after deleting {done[0]} traces and {done[1]} spans)", partial=result
    )
