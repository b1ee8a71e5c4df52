"""A trace's row from its spans: the one summary every import and merge writes.

It depends on the set of spans alone, never on the order they arrived in, so a trace whose spans
came in several files (or exporter batches) gets the row one file with all of them would give:
spans are put in one canonical order first. trigger_event is the root's name (the earliest span
whose parent is not in the trace), status "error" if any span failed, status_message the
earliest failed span's message, times the first start and last end, user_id and request_ip the
first text value of a well-known attribute (the root's first), and `attributes` the services
and distinct resources of the spans, with any trace warnings the source gave. A trace pipetrace
exported carries its columns on a span (`pipeline.trace.*`, see `conventions`); they are taken
back as they were, and only the columns a merge changes (times, span count) are derived again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from ..codec import dump_json
from ..columns import TRACE_STATUSES
from ..models import TRACE_WARNINGS, TraceRow
from .anyvalue import decode_attributes
from .conventions import NATIVE_SOURCES, pick_root
from .errors import Invalid

_TYPES: dict[str, tuple[type, ...]] = {
    "allowed": (bool,),
    "created_at": (int,),
    "context_snapshot": (dict,),
    "result_data": (dict,),
    "attributes": (dict,),
    "started_at": (int,),
    "ended_at": (int, type(None)),
    "duration_ms": (float, int),
    "span_count": (int,),
}


class SpanFacts(NamedTuple):
    """What a trace's summary needs of one span, as the store reads it without the whole row."""

    id: str
    parent_span_id: str | None
    name: str
    kind: str
    status: str
    status_message: str | None
    started_at: int
    ended_at: int | None
    user: str | None
    """The span's first non-empty text value of a user attribute (enduser.id)."""
    ip: str | None
    """The span's first non-empty text value of an address attribute (client.address, ...)."""
    resource: str | None
    """The span's OTLP resource as JSON text."""
    carried: str | None
    """Trace columns a pipetrace export carried on this span, as JSON text."""


def summarize(
    trace_id: str,
    facts: Sequence[SpanFacts],
    stored: TraceRow | None,
    source: str,
    warnings: Iterable[str],
    now: int,
) -> TraceRow:
    """The trace's row over all its spans (stored and new); `stored` is the row before, if any."""
    ordered = sorted(facts, key=_canonical)
    derived = _derive(ordered, trace_id, source)
    carrier = next((f.carried for f in ordered if f.carried), None)
    if carrier is not None:
        row = replace(derived, user_id=None, request_ip=None, status_message=None, attributes=None)
        restore(row, json.loads(carrier))
    elif stored is not None and stored.source in NATIVE_SOURCES:
        row = replace(stored, problems=())
        for column in ("started_at", "ended_at", "span_count"):
            setattr(row, column, getattr(derived, column))
        row.duration_ms = None
        return row
    else:
        row = derived
        if stored is not None:
            row.source = stored.source
    row.created_at = stored.created_at if stored is not None else row.created_at or now
    _add_warnings(row, stored, warnings)
    return row


def _canonical(facts: SpanFacts) -> tuple[Any, ...]:
    """A total order of spans that does not depend on the order they were delivered in."""
    end = facts.ended_at if facts.ended_at is not None else facts.started_at
    return (facts.started_at, -end, facts.id, facts.kind, facts.name, facts.parent_span_id or "")


def _derive(ordered: list[SpanFacts], trace_id: str, source: str) -> TraceRow:
    """A trace row computed from its spans alone."""
    root = pick_root(ordered)
    ends = [s.ended_at for s in ordered if s.ended_at is not None]
    failed = next((s for s in ordered if s.status in ("error", "blocked")), None)
    return TraceRow(
        id=trace_id,
        trigger_event=root.name,
        status="error" if failed else "success",
        started_at=ordered[0].started_at,
        ended_at=max(ends) if ends else None,
        status_message=failed.status_message if failed else None,
        span_count=len(ordered),
        source=source,
        user_id=root.user or next((s.user for s in ordered if s.user), None),
        request_ip=root.ip or next((s.ip for s in ordered if s.ip), None),
        attributes=_services(ordered),
    )


def restore(row: TraceRow, carried: dict[str, Any]) -> None:
    """Take back the trace columns pipetrace exported (checked by `fits` when they were read)."""
    for column, value in carried.items():
        setattr(row, column, float(value) if column == "duration_ms" else value)


def fits(column: str, value: Any) -> bool:
    """Whether a carried value has a type its trace column takes."""
    if column == "status":
        return value in TRACE_STATUSES
    return type(value) in _TYPES.get(column, (str,))


def _services(ordered: list[SpanFacts]) -> dict[str, Any] | None:
    """Service names and the distinct resources of the spans, for the trace's attributes."""
    resources: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for facts in ordered:
        text = facts.resource
        if text is None or text in seen:
            continue
        seen.add(text)
        try:
            resource = json.loads(text)
            decoded = decode_attributes(resource.get("attributes"))[0]
        except (ValueError, AttributeError, Invalid):  # a damaged stored row names no service
            continue
        resources.setdefault(dump_json(decoded) or "", decoded)
    if not resources:
        return None
    names = sorted({str(r["service.name"]) for r in resources.values() if "service.name" in r})
    return {"services": names, "resources": list(resources.values())}


def _add_warnings(row: TraceRow, stored: TraceRow | None, warnings: Iterable[str]) -> None:
    """The trace's warnings so far and the new ones, each once, sorted (arrival order is not
    kept: a trace imported in parts must not depend on which part came first)."""
    old = stored.warnings if stored is not None else []
    merged = sorted({*old, *warnings})
    if merged:
        row.attributes = {**(row.attributes or {}), TRACE_WARNINGS: merged}
