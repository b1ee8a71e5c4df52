"""Imports trace files into the store: a trace the store does not have is written directly
(see `direct`), spans of a trace already stored are merged into it (see `staging`), a span
already stored is not stored twice, and each file is one transaction."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipetrace.bounded_read import RefusedFile, TooLarge, read_regular_file
from pipetrace.gc_pause import gc_paused

from .. import span_filing_pause
from ..codec import dump_json, span_to_tuple, trace_to_tuple
from ..errors import StoreError
from ..models import SpanRow, TraceRow, TraceWithSpans
from ..repository import Repository
from ..span_filing_pause import changed_trigger, filing_trigger
from ..sql import Operation
from .conventions import IP_KEYS, USER_KEYS
from .direct import conflict_of, insert_operations, new_trace_row, stored_ids
from .documents import WHOLE_LIMIT, Reading, not_utf8, read_large, read_text
from .errors import MalformedFile
from .held import HeldSpan, HeldSpans, identity_digest
from .spans import CarrierSpan, Item, TraceNote
from .staging import ImportStage, StaleSummaries
from .summary import SpanFacts, summarize

MERGE_ATTEMPTS = 5
"""Writes tried before a file's traces are merged without checking their summaries are still
current."""
NO_HINTS = (None, None)
_HINT_KEYS = frozenset((*USER_KEYS, *IP_KEYS))
HOLD_SPANS = 100_000
"""Spans of a file held in memory (about 1 KB each); a file with more stages them all."""
STAGE_BATCH = 2000
"""Spans staged per write while a file is read."""
SUMMARY_PAGE = 500
"""Traces summarised per round of reads."""
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one file did to the store."""

    path: str
    format: str
    traces_added: int
    """Traces that were not stored before."""
    spans: int
    """Spans of the added traces."""
    traces_merged: int = 0
    """Stored traces that got new spans."""
    spans_merged: int = 0
    """Spans added to stored traces."""
    duplicates: int = 0
    """Spans skipped: copies of a span already stored, or of one earlier in the file."""
    traces_skipped: int = 0
    """Traces of the file that brought nothing new (every span was already stored)."""


@dataclass(slots=True)
class _Counts:
    added: int = 0
    spans: int = 0
    merged: int = 0
    spans_merged: int = 0
    skipped: int = 0


Scrub = Callable[[TraceWithSpans], None]
"""Changes an imported trace in place before it is stored (the app's secret scrub)."""


def import_file(
    repo: Repository, path: str | os.PathLike[str], scrub: Scrub | None = None
) -> ImportReport:
    """Import one OTLP, Jaeger or Zipkin JSON file; a malformed file stores nothing. With
    scrub, each trace goes through it before it is stored."""
    name = os.fspath(path)
    try:
        data = read_regular_file(name, WHOLE_LIMIT)
    except TooLarge:
        data = None
    except RefusedFile as exc:
        raise MalformedFile(f"{name}: {exc}; import takes a regular file") from None
    except OSError as exc:
        raise MalformedFile(f"{name}: cannot read: {exc.strerror or exc}") from None
    if data is None:  # a regular file too large to read whole: read as it goes
        try:
            return store_reading(repo, read_large(name, name), name, scrub)
        except OSError as exc:
            raise MalformedFile(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise not_utf8(name, data[exc.start], exc.start) from None
    return store_reading(repo, read_text(text, name), name, scrub)


def import_text(
    repo: Repository, text: str, name: str = "<text>", scrub: Scrub | None = None
) -> ImportReport:
    """Import the text of a trace file; `name` is what error messages call it."""
    return store_reading(repo, read_text(text, name), name, scrub)


def store_reading(
    repo: Repository, reading: Reading, name: str, scrub: Scrub | None = None
) -> ImportReport:
    """Store the spans of a file as they are read (see `store_items`)."""
    return store_items(repo, reading.items, reading.format, name, scrub)


def store_items(
    repo: Repository,
    items: Iterable[Item],
    source: str,
    name: str,
    scrub: Scrub | None = None,
) -> ImportReport:
    """Store `items` (through `scrub` first, if given) in one transaction; new traces get
    `source` as theirs. Nothing is stored if reading or storing fails.

    The spans are held in memory by trace as they come, up to HOLD_SPANS; the traces the store
    does not have are then written directly, and those it has are staged and merged. A file
    with more spans than that stages them all as it reads on, so memory stays bounded. The
    garbage collector is paused meanwhile (see `gc_pause`)."""
    stage = ImportStage(repo.backend)
    try:
        with gc_paused():
            read = _read(stage, items if scrub is None else _scrubbed(items, scrub))
            counts = _write(repo, stage, read, source, name)
    except BaseException:
        if stage.used:
            with contextlib.suppress(StoreError):
                stage.drop()
        raise
    return ImportReport(
        path=name,
        format=source,
        traces_added=counts.added,
        spans=counts.spans,
        traces_merged=counts.merged,
        spans_merged=counts.spans_merged,
        duplicates=read.offered - counts.spans - counts.spans_merged,
        traces_skipped=counts.skipped,
    )


@dataclass(slots=True)
class _Read:
    """What reading a file gave: the spans held, how many were read, and warnings by trace."""

    held: HeldSpans
    offered: int = 0
    warnings: dict[str, list[str]] = field(default_factory=dict)


def _read(stage: ImportStage, items: Iterable[Item]) -> _Read:
    """Hold the spans, or stage them in batches once more than HOLD_SPANS were held."""
    read = _Read(HeldSpans())
    held = read.held
    batch: list[tuple[Any, ...]] = []
    for item in items:
        if isinstance(item, TraceNote):
            read.warnings.setdefault(item.trace_id, []).extend(item.warnings)
            continue
        if isinstance(item, CarrierSpan):
            row, carried = item.row, dump_json(item.carried)
        else:
            row, carried = item, None
        values = span_to_tuple(row)
        hints = _hints(row.attributes)
        read.offered += 1
        if not stage.used:
            held.add(values, carried, hints, row.extra, _run_facts(row))
            if held.count > HOLD_SPANS:
                _stage_spans(stage, held.drain())
            continue
        batch.append((identity_digest(values), carried, *hints, *values))
        if len(batch) == STAGE_BATCH:
            stage.add_spans(batch)
            batch = []
    if batch:
        stage.add_spans(batch)
    return read


def _stage_spans(stage: ImportStage, spans: Iterable[HeldSpan]) -> None:
    """Stage held spans, STAGE_BATCH per write."""
    batch = []
    for span in spans:
        batch.append(span.staged(identity_digest(span.values)))
        if len(batch) == STAGE_BATCH:
            stage.add_spans(batch)
            batch = []
    if batch:
        stage.add_spans(batch)


def _scrubbed(items: Iterable[Item], scrub: Scrub) -> Iterator[Item]:
    """`items`, each run of spans of one trace put through `scrub` together (so a secret one
    span names is masked in the others); a run is held in memory while it is read."""
    run: list[SpanRow | CarrierSpan] = []
    for item in items:
        if isinstance(item, TraceNote):
            yield item
            continue
        if run and _row(run[0]).trace_id != _row(item).trace_id:
            yield from _scrub_run(run, scrub)
            run = []
        run.append(item)
    if run:
        yield from _scrub_run(run, scrub)


def _row(item: SpanRow | CarrierSpan) -> SpanRow:
    return item.row if isinstance(item, CarrierSpan) else item


def _scrub_run(run: list[SpanRow | CarrierSpan], scrub: Scrub) -> list[SpanRow | CarrierSpan]:
    """Scrub a run of spans as one trace, the trace columns exported spans carry included."""
    carriers = [item for item in run if isinstance(item, CarrierSpan)]
    trace = TraceRow(id=_row(run[0]).trace_id, trigger_event="", status="success", started_at=0)
    for carrier in carriers:
        for column, value in carrier.carried.items():
            setattr(trace, column, value)
    scrub(TraceWithSpans(trace, [_row(item) for item in run]))
    for carrier in carriers:
        carrier.carried = {column: getattr(trace, column) for column in carrier.carried}
    return run


def _run_facts(row: SpanRow) -> tuple[Any, Any, Any] | None:
    """What a script span's rollups read of its attributes (HeldSpan.run)."""
    if row.script_id is None:
        return None
    attributes = row.attributes or {}
    return attributes.get("script.sha256"), attributes.get("limit"), attributes.get("custom")


def _hints(attributes: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The span's first user and address attributes that are non-empty text (as the summary
    reads them of stored spans)."""
    if not attributes or _HINT_KEYS.isdisjoint(attributes):
        return NO_HINTS
    return _first_text(attributes, USER_KEYS), _first_text(attributes, IP_KEYS)


def _first_text(attributes: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if type(value) is str and value:
            return value
    return None


def _write(repo: Repository, stage: ImportStage, read: _Read, source: str, name: str) -> _Counts:
    """Write the held traces the store does not have and merge the others (and any staged)
    in one transaction; look and summarise again while other clients change the same traces
    meanwhile, and at the last attempt merge every trace and write regardless."""
    held = read.held
    new_rows: dict[str, tuple[Any, ...]] = {}
    for attempt in range(1, MERGE_ATTEMPTS + 1):
        last = attempt == MERGE_ATTEMPTS
        stored = set(held.traces) if last else stored_ids(repo.backend, list(held.traces))
        for trace_id in stored:
            new_rows.pop(trace_id, None)
        _stage_spans(stage, (span for trace_id in stored for span in held.pop(trace_id)))
        counts = _summarise(stage, repo.clock, source, read.warnings) if stage.used else _Counts()
        missing = [trace_id for trace_id in held.traces if trace_id not in new_rows]
        if missing:
            now = repo.clock()
            for trace_id in missing:
                spans = list(held.spans_of(trace_id))
                warnings = read.warnings.get(trace_id, ())
                new_rows[trace_id] = new_trace_row(trace_id, spans, source, warnings, now)
        counts.added += len(new_rows)
        counts.spans += held.count
        inserts: list[Operation] = []
        if new_rows:
            trigger = _pausable_trigger(repo, held.count)
            inserts = insert_operations(new_rows, held, repo.has_script_runs, trigger)
        try:
            if stage.used:
                stage.move(guarded=not last, first=inserts)
            elif inserts:
                repo.backend.write(inserts)
        except StaleSummaries:
            stage.drop_summaries()
            continue
        except StoreError as exc:
            if conflict_of(exc) is None and changed_trigger(exc) is None:
                raise
            if stage.used:
                stage.drop_summaries()
            continue
        if last:
            log.warning(
                "%s: stored every span, but other services kept adding to its traces meanwhile; "
                "their summaries (root, times, status, span count) may leave the latest spans out",
                name,
            )
        return counts
    raise AssertionError("the last attempt always writes")  # pragma: no cover


def _pausable_trigger(repo: Repository, spans: int) -> str | None:
    """The span-filing trigger's text when a direct write of `spans` spans should take it off
    while it files their runs itself (see span_filing_pause), else None."""
    if not repo.has_script_runs or spans < span_filing_pause.PAUSE_FROM:
        return None
    return filing_trigger(repo.backend)


def _summarise(
    stage: ImportStage, clock: Callable[[], int], source: str, warnings: dict[str, list[str]]
) -> _Counts:
    """Stage each staged trace's row over its stored and new spans, page by page of traces."""
    counts = _Counts()
    for page in stage.trace_pages(SUMMARY_PAGE):
        stored = stage.stored_traces(page)
        held = _by_trace(stage.stored_facts(page))
        fresh = _by_trace(stage.fresh_facts(page))
        now = clock()
        rows = []
        for trace_id in page:
            new = fresh.get(trace_id, [])
            if not new:
                counts.skipped += 1
                continue
            before = stored.get(trace_id)
            old = held.get(trace_id, [])
            row = summarize(trace_id, old + new, before, source, warnings.get(trace_id, ()), now)
            rows.append((trace_id, before is not None, len(old), *trace_to_tuple(row, now)[1:]))
            if before is None:
                counts.added += 1
                counts.spans += len(new)
            else:
                counts.merged += 1
                counts.spans_merged += len(new)
        if rows:
            stage.add_summaries(rows)
    return counts


def _by_trace(rows: Sequence[tuple[Any, ...]]) -> dict[str, list[SpanFacts]]:
    """Facts rows (trace id first) grouped by trace."""
    grouped: dict[str, list[SpanFacts]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(SpanFacts(*row[1:]))
    return grouped
