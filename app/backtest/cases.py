"""Stored traces as the work a backtest hands its workers, streamed a page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipetrace.store import Cursor, Repository, ScriptRun, TraceFilter, TraceRow, TraceWithSpans

from ..replay import ReplayError, replayable_input
from .messages import Case, StoredRun


@dataclass(frozen=True, slots=True)
class Page:
    """One page of matching traces: those to replay, and why the others cannot be."""

    cases: list[Case]
    skipped: list[str]
    """One reason per trace that cannot be replayed (see `skip_reason`)."""


def stored_pages(repo: Repository, filters: TraceFilter, page_size: int) -> Iterator[Page]:
    """The matching traces newest first by keyset paging, so memory does not grow with them."""
    cursor: Cursor | None = None
    while True:
        listed = repo.list_traces(filters, limit=page_size, cursor=cursor)
        if listed.rows:
            ids = [row.id for row in listed.rows]
            yield _page(repo.get_traces(ids), repo.script_runs(ids))
        if listed.next_cursor is None:
            return
        cursor = listed.next_cursor


def _page(traces: list[TraceRow], runs: dict[str, list[ScriptRun]]) -> Page:
    cases: list[Case] = []
    skipped: list[str] = []
    for trace in traces:
        try:
            payload = replayable_input(TraceWithSpans(trace, []))
        except ReplayError:
            skipped.append(skip_reason(trace))
            continue
        snapshot = trace.context_snapshot or {}
        cases.append(
            Case(
                trace_id=trace.id,
                trigger=trace.trigger_event,
                input=payload,
                metadata={"user_id": trace.user_id, "request_ip": trace.request_ip},
                allowed=trace.allowed,
                status=trace.status,
                scripts=tuple(
                    StoredRun(r.script_id, r.status, r.duration_ms, r.limit)
                    for r in runs.get(trace.id, ())
                ),
                redacted=tuple(snapshot.get("_redacted") or ()),
            )
        )
    return Page(cases, skipped)


def skip_reason(trace: TraceRow) -> str:
    """Why a trace cannot be replayed, in a few words shared by every such trace."""
    if trace.source != "engine":
        return "imported (no stored input)"
    if trace.context_snapshot and trace.context_snapshot.get("_truncated"):
        return "input too large to have been stored"
    return "no readable stored input"
