"""Stored traces as a backtest replays them: a range read in one query, made into cases."""

from __future__ import annotations

from dataclasses import dataclass

from pipetrace.store import Repository, TraceFilter, TraceRow, TraceRuns, TraceWithSpans

from ..replay import ReplayError, replayable_input
from .messages import Case
from .ranges import KeyRange


@dataclass(frozen=True, slots=True)
class Page:
    """One range of matching traces: those to replay, and why the others cannot be."""

    cases: list[Case]
    skipped: list[str]
    """One reason per trace that cannot be replayed (see `skip_reason`)."""


def stored_cases(repo: Repository, filters: TraceFilter, key_range: KeyRange) -> Page:
    """The range's traces newest first, as cases or reasons they cannot be replayed."""
    return _page(repo.traces_with_runs(filters, key_range.newest, key_range.older_than))


def _page(found: list[TraceRuns]) -> Page:
    cases: list[Case] = []
    skipped: list[str] = []
    for item in found:
        trace = item.trace
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
                scripts=item.runs,
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
