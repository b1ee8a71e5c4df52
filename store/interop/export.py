"""Exports stored traces, chosen by id or by filter, to an OTLP JSON file or a collector."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from ..codec import lost_value
from ..models import TraceFilter, TraceWithSpans
from ..repository import Repository
from .collector import send_batches
from .errors import InteropError
from .otlp_out import ExportStats, export_lines, export_pairs

LOAD_BATCH = 200
"""Traces loaded per pair of queries while exporting."""

Selection = Iterable[str] | TraceFilter


@dataclass(slots=True)
class ExportReport:
    """What an export wrote or sent."""

    traces: int
    spans: int
    skipped_empty: int
    missing: list[str]
    """Requested trace ids that are not in the store."""
    requests: int = 0
    rejected_spans: int = 0


def select_trace_ids(
    repo: Repository, filters: TraceFilter | None = None, limit: int | None = None
) -> Iterator[str]:
    """Ids of matching traces, newest first, page by page."""
    cursor = None
    left = limit
    while left is None or left > 0:
        size = 1000 if left is None else min(left, 1000)
        page = repo.list_traces(filters, limit=size, cursor=cursor)
        for row in page.rows:
            yield row.id
        if left is not None:
            left -= len(page.rows)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of `size` items (itertools.batched arrived only in Python 3.12)."""
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load_traces(
    repo: Repository, selection: Selection, missing: list[str] | None = None
) -> Iterator[TraceWithSpans]:
    """The chosen traces with their spans, one at a time; absent ids go to `missing`."""
    ids = select_trace_ids(repo, selection) if isinstance(selection, TraceFilter) else selection
    for chunk in batched(ids, LOAD_BATCH):
        loaded = repo.get_traces_with_spans(chunk)
        if missing is not None and len(loaded) < len(set(chunk)):
            found = {item.trace.id for item in loaded}
            missing.extend(t for t in chunk if t.lower() not in found)
        for item in loaded:
            _check_readable(item)
            yield item


def _check_readable(item: TraceWithSpans) -> None:
    """Refuse a trace whose stored row could only be read in part: its export would pass the
    stand-in values off as data."""
    where, problem = "", lost_value(item.trace.problems)
    for span in item.spans:
        if problem is None and (problem := lost_value(span.problems)):
            where = f" span {span.id}:"
    if problem:
        raise InteropError(
            f"trace {item.trace.id}:{where} cannot export: stored row problem: {problem}"
        )


def export_traces(
    repo: Repository, selection: Selection, *, service_name: str | None = None
) -> Iterator[str]:
    """The chosen traces as OTLP JSON lines (one TracesData each, no newline)."""
    return export_lines(load_traces(repo, selection), service_name)


def write_export(
    repo: Repository,
    selection: Selection,
    path: str | os.PathLike[str] | None,
    *,
    service_name: str | None = None,
) -> ExportReport:
    """Write the chosen traces to `path` (stdout for None or "-") as OTLP JSON lines.

    A file is replaced only once every chosen trace was written; a missing trace (see the
    report) or an error leaves an existing file as it was.
    """
    stats = ExportStats()
    missing: list[str] = []
    lines = export_lines(load_traces(repo, selection, missing), service_name, stats)
    name = None if path is None else os.fspath(path)
    if name in (None, "-"):
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    else:
        try:
            _write_file(name, lines, missing)
        except OSError as exc:
            raise InteropError(f"cannot write {name}: {exc.strerror or exc}") from None
    return ExportReport(stats.traces, stats.spans, stats.empty, missing)


def _write_file(name: str, lines: Iterable[str], missing: list[str]) -> None:
    """Write beside the file and put it in place only once every requested trace was written,
    so a failed export never leaves an existing file empty or half written."""
    if name.startswith(("/dev/", "/proc/")) or (os.path.exists(name) and not os.path.isfile(name)):
        # A device, pipe or descriptor (-o /dev/stdout): write through it, appending, so a
        # shell's `>> log` behind it keeps what it had.
        with open(name, "a", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
        return
    target = os.path.realpath(name)
    folder, base = os.path.split(target)
    temporary = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
        if not missing:
            if os.path.exists(target):
                shutil.copymode(target, temporary)
            os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def send_export(
    repo: Repository,
    selection: Selection,
    endpoint: str,
    *,
    service_name: str | None = None,
    batch_spans: int = 2000,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> ExportReport:
    """Send the chosen traces to an OTLP/HTTP collector as JSON, in batches."""
    stats = ExportStats()
    missing: list[str] = []
    pairs = export_pairs(load_traces(repo, selection, missing), service_name, stats)
    sent = send_batches(pairs, endpoint, batch_spans=batch_spans, headers=headers, timeout=timeout)
    return ExportReport(
        stats.traces, stats.spans, stats.empty, missing, sent.requests, sent.rejected_spans
    )
