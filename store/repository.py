"""The only code that issues SQL: saves, lists, counts, fetches and expires traces."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .backends import Backend
from .codec import (
    INT64_MAX,
    INT64_MIN,
    SUMMARY_COLUMNS,
    json_text,
    span_from_row,
    span_to_tuple,
    trace_from_row,
    trace_to_tuple,
)
from .columns import HOUR_NS, SPAN_COLUMNS, SPAN_TABLE, TRACE_COLUMNS, TRACE_TABLE
from .errors import StoreError
from .filters import filter_shape, filter_values, hourly_countable
from .models import (
    CleanupProgress,
    CleanupResult,
    Cursor,
    DurationPoints,
    Page,
    ScriptRun,
    SpanRow,
    StoredPipelines,
    StoreSpace,
    TraceFilter,
    TraceOutline,
    TraceRow,
    TraceRuns,
    TraceWithSpans,
    VacuumResult,
)
from .revisions import includes
from .run_paging import merged_page, page_rows, page_statements
from .schema_check import OpenedSchema, apply_additive_revisions
from .script_sources import SOURCES_REVISION, SourceLedger, forget_sources, read_sources
from .span_outline import SpanOutline
from .sql import InsertMany, Operation, Statement, built_statement, named_statement
from .trace_ids import lookup_prefixes

if TYPE_CHECKING:
    from .stats_models import StatsReport

QUERIES = ".queries"
"""The module of this repository's SQLAlchemy statement builders (see store/sql.py)."""

MAX_PAGE = 10_000
SPAN_BATCH = 2_000
"""Spans read per query when a trace is walked a batch at a time."""
OUTLINE_READS = ("outline_spans", "damaged_spans")
"""A trace outline's two reads, asked together (one round trip to sqld): every row, and the
rows the database cannot call sound (see `get_trace_outline`)."""
HOURLY_COUNTS_REVISION = "0004_replays"
"""The hourly counts hold traffic only from this revision on (0002 made them, with replays)."""
SCRIPT_RUNS_REVISION = "0007_script_stats"
"""Script runs and their rollups, which the span-level filters and the stats read."""
DELETE_SECONDS = 0.05
"""How long one cleanup batch's write transaction should take at most: the next batch is made
smaller after a slower one (writers wait for one batch at a time)."""
RELEASE_STEP_PAGES = 512
"""Free pages cleanup gives back to the disk per write transaction (2 MiB of 4 KiB pages)."""


class Repository:
    """Trace storage over one backend; every method is safe to call from any thread."""

    count_cap: int | None = None
    """Where counts stop (a count of count_cap + 1 means "more"); None: counts are exact."""
    flavour = "pipetrace"
    """Whose schema the store has: "pipetrace", or "auther" (see store/auther)."""
    queries = QUERIES
    """The module of the SQLAlchemy builders of this repository's named statements."""

    def __init__(
        self,
        backend: Backend,
        clock: Callable[[], int] = time.time_ns,
        schema: OpenedSchema | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.schema_notice = schema.notice if schema else None
        """What to tell the user once about the schema (a newer pipetrace upgraded it)."""
        self.hourly_counts = schema is None or schema.includes(HOURLY_COUNTS_REVISION)
        """Whether the store's hourly counts hold what counts need; an older store's counts
        read the rows."""
        self.keeps_sources = schema is None or schema.includes(SOURCES_REVISION)
        """Whether the store has the table of script sources (a store opened as it is may be
        older): without it writes keep no source and reads find none."""
        self._sources = SourceLedger()
        self.has_script_runs = schema is None or schema.includes(SCRIPT_RUNS_REVISION)
        """Whether the store has the script runs and rollups (the revision that adds them is
        recorded once every stored span and trace is filed)."""

    def script_runs_missing(self) -> str | None:
        """Why the span-level filters and the stats cannot be answered here, in one line, or
        None when they can (the store has the script runs of every stored span and trace)."""
        if not self.has_script_runs:
            return (
                "the store is at an older schema revision, without script runs: run pipetrace "
                "db upgrade for the script filters and stats"
            )
        return None

    def need_script_runs(self, f: TraceFilter | None = None) -> None:
        """Raise StoreError in one line when `f` filters by script (or, with no filter, the
        caller needs the script runs) and the store cannot answer that yet."""
        if f is not None and not f.by_script:
            return
        missing = self.script_runs_missing()
        if missing:
            raise StoreError(f"{self.url}: {missing}")

    def apply_additive_revisions(self) -> None:
        """Apply the additive revisions this version knows, for a write that needs them (an
        import from the viewer, which opens a store as it is); a breaking one is refused."""
        _before, after = apply_additive_revisions(self.backend)
        self.keeps_sources = includes(after, SOURCES_REVISION)
        self.has_script_runs = includes(after, SCRIPT_RUNS_REVISION)

    @property
    def url(self) -> str:
        """Where the traces live, as shown to users."""
        return self.backend.target.display

    def close(self) -> None:
        """Release the backend's connections."""
        self.backend.close()

    def data_version(self) -> int | None:
        """A number that changes whenever a commit may have changed the store, so a watcher
        (live mode) reads again only then; None where the backend cannot tell (libSQL)."""
        return self.backend.data_version()

    # -- writes -------------------------------------------------------------------------------

    def save_trace(self, trace: TraceRow, spans_: Sequence[SpanRow]) -> None:
        """A trace and its spans in one transaction."""
        self.save_traces([TraceWithSpans(trace, list(spans_))])

    def save_traces(self, items: Sequence[TraceWithSpans]) -> None:
        """Many traces and their spans in one transaction (the writer's and importer's path),
        with the script sources they carry that the store does not hold yet."""
        now = self.clock()
        inserts = self._insert_operations(items, now)
        operations = _with_runs(items, inserts) if self.has_script_runs else list(inserts)
        if not self.keeps_sources:
            self.backend.write(operations)
            return
        kept, bounds = self._sources.pending(items, now)
        self.backend.write([*operations, *kept])
        self._sources.written(bounds)

    def _insert_operations(
        self, items: Sequence[TraceWithSpans], now: int
    ) -> tuple[InsertMany, InsertMany]:
        trace_rows: list[tuple[Any, ...]] = []
        span_rows: list[tuple[Any, ...]] = []
        for item in items:
            if not item.trace.span_count and item.spans:
                item.trace.span_count = len(item.spans)
            trace_rows.append(trace_to_tuple(item.trace, now))
            span_rows.extend(map(span_to_tuple, item.spans))
        return (
            InsertMany(TRACE_TABLE, TRACE_COLUMNS, trace_rows),
            InsertMany(SPAN_TABLE, SPAN_COLUMNS, span_rows),
        )

    def create_trace(self, trace: TraceRow) -> None:
        """A trace row alone (its spans may follow with `create_spans`)."""
        self.backend.write(
            [InsertMany(TRACE_TABLE, TRACE_COLUMNS, [trace_to_tuple(trace, self.clock())])]
        )

    def create_spans(self, spans_: Sequence[SpanRow]) -> None:
        """A batch of spans of existing traces, in one transaction."""
        self.backend.write(
            [InsertMany(SPAN_TABLE, SPAN_COLUMNS, [span_to_tuple(s) for s in spans_])]
        )

    # -- reads --------------------------------------------------------------------------------

    def cursor_of(self, row: TraceRow) -> Cursor:
        """The keyset position of a listed row, for `list_traces` and `list_newer` (the viewer
        pages both ways from it)."""
        return Cursor(row.started_at, row.id)

    def get_trace(self, trace_id: str) -> TraceRow | None:
        """One trace with its JSON columns, or None."""
        rows = self._query("trace_by_id", (), trace_id=trace_id.lower())
        return trace_from_row(rows[0], TRACE_COLUMNS) if rows else None

    def get_trace_with_spans(self, trace_id: str) -> TraceWithSpans | None:
        """A trace and all its spans in start order, or None if there is no such trace."""
        trace = self.get_trace(trace_id)
        if trace is None:
            return None
        rows = self._query("spans_of_trace", (), trace_id=trace.id)
        return TraceWithSpans(trace, [span_from_row(r) for r in rows])

    def get_traces(self, trace_ids: Sequence[str]) -> list[TraceRow]:
        """Many traces with their JSON columns in one query, in the order asked; absent ids are
        left out."""
        ids = [t.lower() for t in dict.fromkeys(trace_ids)]
        if not ids:
            return []
        rows = self.backend.query(built_statement(self.queries, "traces_by_ids", ids))
        found = {t.id: t for t in (trace_from_row(r, TRACE_COLUMNS) for r in rows)}
        return [found[i] for i in ids if i in found]

    def script_runs(self, trace_ids: Sequence[str]) -> dict[str, list[ScriptRun]]:
        """Each trace's script spans in start order, without custom spans and without decoding
        their attributes (a backtest reads a great many): what a replay compares."""
        ids = [t.lower() for t in dict.fromkeys(trace_ids)]
        if not ids:
            return {}
        found: dict[str, list[ScriptRun]] = {}
        for trace_id, script_id, status, duration, hit in self.backend.query(
            built_statement(self.queries, "script_runs", ids)
        ):
            found.setdefault(trace_id, []).append(
                ScriptRun(
                    str(script_id),
                    str(status),
                    _finite(duration),
                    hit if isinstance(hit, str) else None,
                )
            )
        return found

    def deciding_runs(self, trace_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Each trace's script runs that blocked or errored, as (script id, status) in start
        order, without custom spans: what names a trace's deciding script (one statement for
        any number of traces)."""
        ids = [t.lower() for t in dict.fromkeys(trace_ids)]
        if not ids:
            return {}
        found: dict[str, list[tuple[str, str]]] = {}
        for trace_id, script_id, status in self._query("deciding_runs", (), ids=json_text(ids)):
            found.setdefault(str(trace_id), []).append((str(script_id), str(status)))
        return found

    def get_trace_outline(self, trace_id: str) -> TraceOutline | None:
        """A trace and its spans as their rows, each made a span when asked for (see
        `TraceOutline`), or None if there is no such trace. The rows come without a soundness
        flag; the damaged ones come again from a read that tests each row in its WHERE clause,
        which a sound trace passes more cheaply than a flag per row, and are read whole."""
        trace = self.get_trace(trace_id)
        if trace is None:
            return None
        values = {"trace_id": trace.id}
        rows, damaged = self.backend.query_many(
            [named_statement(self.queries, name, (), values) for name in OUTLINE_READS]
        )
        if not damaged:
            return TraceOutline(trace, SpanOutline(rows, {}))
        index = {row[-1]: i for i, row in enumerate(rows)}
        read = {index[r[-1]]: span_from_row(r[:-1]) for r in damaged if r[-1] in index}
        return TraceOutline(trace, SpanOutline(rows, read))

    def trace_spans(self, trace_id: str, batch: int = SPAN_BATCH) -> Iterator[SpanRow]:
        """A trace's spans in start order, read `batch` at a time (keyset on start and key), so a
        trace of any size is walked in bounded memory."""
        after: tuple[int, int] | None = None
        while True:
            values: dict[str, Any] = {"trace_id": trace_id.lower(), "limit": batch}
            if after is not None:
                values["after_started"], values["after_pk"] = after
            rows = self.backend.query(
                named_statement(self.queries, "span_page", (after is not None,), values)
            )
            for row in rows:
                yield span_from_row(row[1:])
            if len(rows) < batch:
                return
            after = (rows[-1][1 + SPAN_COLUMNS.index("started_at")], rows[-1][0])

    def span_links(self, trace_id: str) -> list[tuple[str, str | None]]:
        """(span id, parent span id) of each span of a trace: its tree without its rows."""
        rows = self._query("span_links", (), trace_id=trace_id.lower())
        return [(str(r[0]), r[1]) for r in rows]

    def get_traces_with_spans(self, trace_ids: Sequence[str]) -> list[TraceWithSpans]:
        """Many traces with their spans in two queries (bulk export); absent ids are left out."""
        ids = [t.lower() for t in dict.fromkeys(trace_ids)]
        if not ids:
            return []
        trace_rows = self.backend.query(built_statement(self.queries, "traces_by_ids", ids))
        span_rows = self.backend.query(built_statement(self.queries, "spans_by_trace_ids", ids))
        grouped: dict[str, list[SpanRow]] = {}
        for row in span_rows:
            span = span_from_row(row)
            grouped.setdefault(span.trace_id, []).append(span)
        found = {t.id: t for t in (trace_from_row(r, TRACE_COLUMNS) for r in trace_rows)}
        return [TraceWithSpans(found[i], grouped.get(i, [])) for i in ids if i in found]

    def key_after(
        self, filters: TraceFilter, cursor: Cursor | None = None, skip: int = 0
    ) -> Cursor | None:
        """The keyset position of the matching trace `skip` rows past `cursor` (left out), newest
        first, or of the newest one without a cursor; None when there are not that many. Ranges
        of a set size are marked out this way without reading their rows into Python: SQLite
        steps over `skip` index entries itself (an OFFSET bounded by the cursor, so no page costs
        more than its own rows)."""
        values = filter_values(filters)
        values["skip"] = skip
        if cursor is not None:
            values["cursor_started"], values["cursor_id"] = cursor.started_at, cursor.trace_id
        shape = (filter_shape(filters), cursor is not None)
        rows = self.backend.query(named_statement(self.queries, "key_after", shape, values))
        return Cursor(int(rows[0][0]), str(rows[0][1])) if rows else None

    def traces_with_runs(
        self, filters: TraceFilter, newest: Cursor, older_than: Cursor | None
    ) -> list[TraceRuns]:
        """The matching traces from `newest` (included) down to `older_than` (left out; None:
        to the oldest), newest first, each with its scripts' own runs, in one query: what a
        replay needs and no more (see replay_reads.py)."""
        from .replay_reads import REPLAY_COLUMNS, runs_from_json  # msgspec, for replays only

        values = filter_values(filters)
        values["newest_started"], values["newest_id"] = newest.started_at, newest.trace_id
        if older_than is not None:
            values["older_started"], values["older_id"] = older_than.started_at, older_than.trace_id
        shape = (filter_shape(filters), older_than is not None)
        return [
            TraceRuns(trace_from_row(row[:-1], REPLAY_COLUMNS), runs_from_json(row[-1]))
            for row in self.backend.query(
                named_statement(self.queries, "traces_with_runs", shape, values)
            )
        ]

    def find_trace_ids(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to `limit` trace ids, sorted, that `prefix` may mean, so people can type a short
        id: those starting with it and, for a 64-bit id as Zipkin prints it, those starting with
        it behind the zero padding (see `lookup_prefixes`)."""
        return [r[0] for r in self.backend.query(id_lookup(prefix, limit))]

    def list_traces(
        self, filters: TraceFilter | None = None, limit: int = 50, cursor: Cursor | None = None
    ) -> Page:
        """Newest first, one page at a time by keyset (never OFFSET)."""
        f = filters or TraceFilter()
        limit = max(1, min(limit, MAX_PAGE))
        if f.by_script:
            self.need_script_runs(f)
            return self._page(page_rows(self.backend, f, limit + 1, cursor), limit)
        return self._page(self.backend.query(self._trace_page(f, limit + 1, cursor)), limit)

    def script_stats(self, filters: TraceFilter | None = None, columns: int = 30) -> StatsReport:
        """Per trigger, script and version: runs by status, limit hits, duration percentiles and
        errors over about `columns` chart columns, for `filters`' whole hours (see
        store/script_stats.py); replays are left out unless the filter asks for them."""
        self.need_script_runs()
        from .script_stats import read_stats  # its SQL and models load for stats only

        return read_stats(self.backend, filters or TraceFilter(), columns)

    def list_newer(
        self, filters: TraceFilter | None, after: Cursor, limit: int = 200
    ) -> list[TraceRow]:
        """The `limit` traces just newer than `after`, newest first: the page above a list's
        first row when paging back up (read by keyset in the other direction, never OFFSET)."""
        f = filters or TraceFilter()
        self.need_script_runs(f)
        values = filter_values(f)
        values.update(
            limit=max(1, min(limit, MAX_PAGE)),
            after_started=after.started_at,
            after_id=after.trace_id,
        )
        stmt = named_statement(self.queries, "newer_traces", (filter_shape(f),), values)
        return self._summaries(stmt)[::-1]

    def count_traces(self, filters: TraceFilter | None = None) -> int:
        """How many traces match, for the status line.

        Trigger, status and time filters are answered from the hourly counts (whole hours) plus
        an exact count of the partial hours at each end, so the cost does not grow with the
        number of matching traces; other filters count the rows themselves (user and IP by
        their indexes). The counts are read in one request.
        """
        f = filters or TraceFilter()
        self.need_script_runs(f)
        return _summed(self.backend.query_many(self._count_statements(f)))

    def page_and_count(
        self, filters: TraceFilter | None = None, limit: int = 50, cursor: Cursor | None = None
    ) -> tuple[Page, int]:
        """`list_traces` and `count_traces` together, read in one request (one round trip to a
        libSQL server) where the page is one statement per script and status or one in all."""
        f = filters or TraceFilter()
        limit = max(1, min(limit, MAX_PAGE))
        self.need_script_runs(f)
        reads = self._page_statements(f, limit + 1, cursor)
        if reads is None:
            return self.list_traces(f, limit, cursor), self.count_traces(f)
        counts = self._count_statements(f)
        results = self.backend.query_many([*reads, *counts])
        found = results[0] if len(reads) == 1 else merged_page(results[: len(reads)], limit + 1)
        return self._page(found, limit), _summed(results[len(reads) :])

    def _page_statements(
        self, f: TraceFilter, limit: int, cursor: Cursor | None
    ) -> list[Statement] | None:
        """The reads of up to `limit` rows of a page (one, or one per script and status of a
        span-level filter); None when a script filter names no status (read them first)."""
        if f.by_script:
            return page_statements(f, limit, cursor)
        return [self._trace_page(f, limit, cursor)]

    def _trace_page(self, f: TraceFilter, limit: int, cursor: Cursor | None) -> Statement:
        """The read of up to `limit` rows of a trace-level filter's page after `cursor`."""
        values = filter_values(f)
        values["limit"] = limit
        if cursor is not None:
            values["cursor_started"], values["cursor_id"] = cursor.started_at, cursor.trace_id
        shape = (filter_shape(f), cursor is not None)
        return named_statement(self.queries, "trace_page", shape, values)

    def _page(self, found: Sequence[tuple[Any, ...]], limit: int) -> Page:
        """A page of `limit` of the rows read (SUMMARY_COLUMNS), and where the next begins."""
        rows = [trace_from_row(row, SUMMARY_COLUMNS) for row in found[:limit]]
        next_cursor = None
        if len(found) > limit:
            next_cursor = Cursor(rows[-1].started_at, rows[-1].id)
        return Page(rows, next_cursor)

    def _count_statements(self, f: TraceFilter) -> list[Statement]:
        """The reads whose counts add up to how many traces match `f` (see `count_traces`)."""
        if not (self.hourly_counts and hourly_countable(f)):
            return [self._count_rows_statement(f)]
        first = None if f.started_from is None else -(-f.started_from // HOUR_NS)
        last = None if f.started_until is None else f.started_until // HOUR_NS
        if first is not None and last is not None and first >= last:
            return [self._count_rows_statement(f)]
        reads = [self._count_hours_statement(f, first, last)]
        if first is not None and f.started_from != first * HOUR_NS:
            reads.append(self._count_rows_statement(replace(f, started_until=first * HOUR_NS)))
        if last is not None and f.started_until != last * HOUR_NS:
            reads.append(self._count_rows_statement(replace(f, started_from=last * HOUR_NS)))
        return reads

    def count_rows(self, filters: TraceFilter) -> int:
        """How many traces match, counted row by row rather than from the hourly counts: exact
        for a time range that damaged rows could fall in (the hourly counts file a start time
        that is text or a BLOB under hour 0), at a cost that grows with the matches."""
        self.need_script_runs(filters)
        return self._count_rows(filters)

    def _count_rows(self, f: TraceFilter) -> int:
        """COUNT(*) over the matching rows (index-only for trigger, status and time)."""
        return int(self.backend.query(self._count_rows_statement(f))[0][0])

    def _count_rows_statement(self, f: TraceFilter) -> Statement:
        """The COUNT(*) of `f`'s matching rows."""
        return named_statement(self.queries, "count_rows", (filter_shape(f),), filter_values(f))

    def _count_hours_statement(
        self, f: TraceFilter, first: int | None, last: int | None
    ) -> Statement:
        """The sum of the hourly counts from hour `first` up to (not including) hour `last`."""
        values = filter_values(f)
        values.update(first_hour=first, last_hour=last)
        shape = (*filter_shape(f)[:2], first is not None, last is not None)
        return named_statement(self.queries, "count_hours", shape, values)

    def duration_points(
        self, filters: TraceFilter | None = None, limit: int = 2000, slices: int = 1
    ) -> DurationPoints:
        """Up to `limit` matching traces for the results plot, and why any are missing from it.

        The filter's time range (or, where it is open, the matching traces' own) is cut into
        `slices` equal slices and each gives its newest traces, so the points cover the whole
        range however many traces match; each slice is one index range read that asks for one
        trace more than its share, so a slice that had to be sampled is known. A start time
        another writer stored as text, a BLOB or beyond 64 bits cannot be placed: such rows are
        counted and left out. A duration that is no number is plotted as unknown.
        """
        f = filters or TraceFilter()
        self.need_script_runs(f)
        unplaceable = self._count_unplaceable(f)
        span = self._time_span(f)
        if span is None:
            return DurationPoints([], False, unplaceable)
        start, end = span
        slices = max(1, min(slices, limit))
        share = limit // slices
        values = filter_values(f)
        values.update(
            plot_start=start,
            slice_ns=-(-(end - start) // slices),
            slices=slices,
            per_slice=share + 1,
        )
        stmt = named_statement(self.queries, "sampled_points", (filter_shape(f),), values)
        by_slice: dict[int, list[Sequence[Any]]] = {}
        for row in self.backend.query(stmt):
            by_slice.setdefault(row[0], []).append(row)
        points: list[tuple[int, float | None, str]] = []
        sampled = False
        for rows in by_slice.values():
            if len(rows) > share:
                sampled = True
                rows = sorted(rows, key=lambda r: (r[1], r[2]), reverse=True)[:share]
            points += [(int(r[1]), _finite(r[3]), str(r[4])) for r in rows]
        return DurationPoints(points, sampled, unplaceable)

    def _count_unplaceable(self, f: TraceFilter) -> int:
        """Matching traces whose start is text, a BLOB or a number beyond 64 bits; all of them
        sort outside the 64-bit numbers, so only they are read (two short index ranges)."""
        values = filter_values(f)
        values.update(int64_min=INT64_MIN, int64_max=INT64_MAX)
        stmt = named_statement(self.queries, "count_unplaceable", (filter_shape(f),), values)
        return int(self.backend.query(stmt)[0][0])

    def started_range(self, filters: TraceFilter) -> tuple[int, int] | None:
        """The first and last start time of the traces matching `filters` (two index reads), or
        None when none match; a start that is no number within 64 bits does not count."""
        self.need_script_runs(filters)
        first = self._edge(filters, newest=False)
        last = self._edge(filters, newest=True)
        if first is None or last is None:
            return None
        return first, last - 1

    def _time_span(self, f: TraceFilter) -> tuple[int, int] | None:
        """[start, end) of `f`'s time range, open ends closed by the oldest and newest match."""
        start = f.started_from if f.started_from is not None else self._edge(f, newest=False)
        end = f.started_until if f.started_until is not None else self._edge(f, newest=True)
        if start is None or end is None or start >= end:
            return None
        return start, end

    def _edge(self, f: TraceFilter, newest: bool) -> int | None:
        """The oldest start of a trace matching `f`, or just after the newest (one index read);
        a start that is no number within 64 bits (text, a BLOB, beyond) does not count."""
        values = filter_values(f)
        values.update(int64_min=INT64_MIN, int64_max=INT64_MAX)
        rows = self.backend.query(
            named_statement(self.queries, "edge", (newest, filter_shape(f)), values)
        )
        if not rows:
            return None
        return int(rows[0][0]) + int(newest)

    def _query(self, name: str, shape: tuple[Any, ...], **values: Any) -> list[tuple[Any, ...]]:
        """Run this repository's named statement `name` for `shape` with `values`."""
        return self.backend.query(named_statement(self.queries, name, shape, values))

    def _summaries(self, stmt: Statement) -> list[TraceRow]:
        """Run a query of SUMMARY_COLUMNS and decode its rows."""
        return [trace_from_row(r, SUMMARY_COLUMNS) for r in self.backend.query(stmt)]

    def distinct_triggers(self) -> list[str]:
        """Every trigger name in the store, sorted, for the trigger filter."""
        return [str(r[0]) for r in self._query("distinct_triggers", ()) if r[0] is not None]

    def replays_of(self, trace_id: str) -> list[TraceRow]:
        """Traces that replay `trace_id`, newest first."""
        return self._summaries(
            named_statement(self.queries, "replays_of", (), {"trace_id": trace_id})
        )

    def stored_pipelines(self) -> StoredPipelines | None:
        """The plans and scripts the store keeps beside its traces, to replay them through;
        None: pipetrace's store keeps none (its traces ran from a pipelines folder)."""
        return None

    def script_sources(self, shas: Sequence[str]) -> dict[str, str]:
        """The stored text of each script version of `shas` (sha256 hex) the store kept; empty
        where the store keeps none (see `keeps_sources`)."""
        if not shas or not self.keeps_sources:
            return {}
        return {str(sha): str(text) for sha, text in self.backend.query(read_sources(shas))}

    def existing_trace_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of `ids` are already stored, so imports skip what they already hold."""
        found: set[str] = set()
        unique = sorted(set(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            found.update(
                r[0] for r in self.backend.query(built_statement(self.queries, "stored_ids", chunk))
            )
        return found

    # -- retention ----------------------------------------------------------------------------

    def count_older_than(self, cutoff: int) -> tuple[int, int]:
        """(traces, spans) that started before `cutoff` (Unix ns): the cleanup preview."""
        return (
            int(self._query("count_traces_before", (), cutoff=cutoff)[0][0]),
            int(self._query("count_spans_before", (), cutoff=cutoff)[0][0]),
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
        """Delete traces that started before `cutoff` and their spans, oldest first, in batches.

        Each batch is one transaction (spans, then their traces; the triggers that keep the
        counts and script rollups make a trace's delete cost several times its rows), at most
        `batch_size` traces and fewer when one takes longer than DELETE_SECONDS, followed by a
        WAL checkpoint and an optional pause; on a store with incremental auto-vacuum the pages
        a batch freed are then given back to the disk in short transactions of their own, each
        followed by a checkpoint (which shrinks the file) and the pause. So concurrent writers
        only ever wait for one small step. A store SQLite's quick check finds damaged is refused
        first, so a cleanup never deletes part of one (`verify` False: the caller has just
        checked).
        """
        if verify:
            self.refuse_if_damaged("cleanup")
        total = self.count_older_than(cutoff)[0] if on_progress else None
        releases = self.backend.space().mode == "incremental"
        deleted_traces = deleted_spans = freed = 0
        size = batch_size
        while not _cancelled(cancel):
            try:
                began = time.perf_counter()
                batch = self._delete_oldest(cutoff, size)
                size = _next_batch(size, batch_size, time.perf_counter() - began)
                if batch is None:
                    self._forget_sources(cutoff)
                    return CleanupResult(
                        deleted_traces, deleted_spans, freed_bytes=freed, space=self.space()
                    )
                deleted_traces += batch[0]
                deleted_spans += batch[1]
                self.backend.checkpoint()
                if on_progress is not None:
                    on_progress(CleanupProgress(deleted_traces, deleted_spans, total))
                if pause:
                    time.sleep(pause)
                if releases:
                    freed += self._release_free_pages(cancel, pause)
            except StoreError as exc:
                done = CleanupResult(deleted_traces, deleted_spans, freed_bytes=freed)
                raise _with_partial(exc, done) from None
        try:
            space = self.space()
        except StoreError as exc:
            done = CleanupResult(deleted_traces, deleted_spans, cancelled=True, freed_bytes=freed)
            raise _with_partial(exc, done) from None
        return CleanupResult(
            deleted_traces, deleted_spans, cancelled=True, freed_bytes=freed, space=space
        )

    def _release_free_pages(self, cancel: threading.Event | None, pause: float) -> int:
        """Give the free pages back to the disk in steps, each with a checkpoint and a pause,
        until none are left or cleanup is cancelled; returns the bytes the file shrank by."""
        freed = 0
        while not _cancelled(cancel):
            shrank, left = self.backend.release_free_pages(RELEASE_STEP_PAGES)
            freed += shrank
            self.backend.checkpoint()
            if pause:
                time.sleep(pause)
            if not (shrank and left):
                break
        return freed

    def space(self) -> StoreSpace:
        """The database's size, its free pages, and whether cleanup can give them back."""
        return self.backend.space()

    def vacuum(self, wait: float, on_start: Callable[[int], None] | None = None) -> VacuumResult:
        """Rewrite the database compactly and in incremental auto-vacuum mode (SQLite only);
        refuses when the disk lacks room or the write lock is not free within `wait` seconds.
        `on_start` hears the bytes of data to rewrite once the checks have passed; a store
        SQLite's quick check finds damaged is refused."""
        self.refuse_if_damaged("vacuum")
        return self.backend.vacuum(wait, on_start)

    def refuse_if_damaged(self, doing: str) -> None:
        """Raise StoreDamaged when SQLite's quick check finds the store damaged, before `doing`
        (a cleanup, a vacuum) changes it."""
        from .integrity import refuse_if_damaged  # only writers that delete or rewrite check

        refuse_if_damaged(self.backend, doing)

    def _delete_oldest(self, cutoff: int, batch_size: int) -> tuple[int, int] | None:
        """One batch: the (traces, spans) its DELETEs really removed, since another cleanup may
        have taken some of the picked ids first; None when nothing is left to pick.

        The batch takes the oldest traces, so afterwards none starts before the newest it took:
        the sources only older traces used go in the same transaction."""
        rows = self._query("oldest_ids", (), cutoff=cutoff, limit=batch_size)
        if not rows:
            return None
        ids = [r[0] for r in rows]
        deletes: list[Operation] = [
            built_statement(self.queries, "delete_spans_of", ids),
            built_statement(self.queries, "delete_traces", ids),
        ]
        from .rollup_writes import unfiled  # writers only: a read loads none of the rollups' SQL

        operations = unfiled(ids, deletes) if self.has_script_runs else deletes
        if self.keeps_sources:
            operations.append(forget_sources(rows[-1][1]))
        changed = self.backend.write(operations)
        at = operations.index(deletes[0])
        return changed[at + 1], changed[at]

    def _forget_sources(self, cutoff: int) -> None:
        """Once no trace starts before `cutoff`, delete the sources only such traces used (those
        of the last batches' hours, say) in one short write."""
        if self.keeps_sources:
            self.backend.write([forget_sources(cutoff)])

    def analyze(self) -> None:
        """Refresh the planner's statistics after bulk changes, so filters pick the right index.

        sqld's statement parser refuses ANALYZE, so on libSQL this is left to the server.
        """
        if self.backend.target.kind == "sqlite":
            self.backend.write([Statement("PRAGMA analysis_limit = 2000"), Statement("ANALYZE")])


def id_lookup(prefix: str, limit: int) -> Statement:
    """The ids `find_trace_ids` answers: one index range read per meaning of `prefix` (see
    `lookup_prefixes`), each stopping after `limit` ids, joined by a UNION."""
    starts = lookup_prefixes(prefix)
    values: dict[str, Any] = {"limit": limit}
    for i, start in enumerate(starts):
        values[f"start_{i}"], values[f"stop_{i}"] = start, start + "g"
    return named_statement(QUERIES, "id_lookup", (len(starts),), values)


def _next_batch(size: int, largest: int, seconds: float) -> int:
    """The next cleanup batch's size: what takes about DELETE_SECONDS at the last one's pace,
    at most twice the last and never above `largest`."""
    return max(1, min(largest, 2 * size, int(size * DELETE_SECONDS / max(seconds, 1e-4))))


def _with_runs(
    items: Sequence[TraceWithSpans], inserts: tuple[InsertMany, InsertMany]
) -> list[Operation]:
    """The trace and span `inserts` of `items`, with their script runs filed and counted in the
    same transaction (by the triggers when Python cannot speak for the batch exactly)."""
    from .batch_runs import batch_runs  # writers only: a read loads none of the rollups' SQL
    from .rollup_writes import filed

    trace_insert, span_insert = inserts
    attributes = [span.attributes for item in items for span in item.spans]
    runs = batch_runs(trace_insert.rows, span_insert.rows, attributes)
    if runs is None:
        return list(inserts)
    return filed(inserts, runs, [row[0] for row in trace_insert.rows])


def _summed(results: Sequence[Sequence[Sequence[Any]]]) -> int:
    """The counts several one-value reads found, added up."""
    return sum(int(rows[0][0]) for rows in results)


def _cancelled(cancel: threading.Event | None) -> bool:
    """Whether the caller asked cleanup to stop at the next step."""
    return cancel is not None and cancel.is_set()


def _with_partial(exc: StoreError, done: CleanupResult) -> StoreError:
    """The same failure, saying what the cleanup deleted before it, so that is not lost."""
    if not done.traces:
        return exc
    return type(exc)(
        f"{exc.message} (after deleting {done.traces} traces and {done.spans} spans)",
        partial=done,
    )


def _finite(value: object) -> float | None:
    """A stored duration as a number the plot can place, or None (text, NaN, infinite)."""
    if (type(value) is int or type(value) is float) and math.isfinite(value):
        return float(value)
    return None
