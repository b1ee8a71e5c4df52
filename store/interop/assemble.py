"""Groups imported spans into traces and derives each trace's row.

A trace spread over several lines or resourceSpans of a file is one trace. A span delivered
twice (same trace id, span id and content) is kept once; spans that only share ids (Zipkin's
client and server halves) are all kept. A trace exported by pipetrace carries its columns as
`pipeline.*` attributes on its root span (marked by `pipeline.trace.source`); they are restored
as they were. Any other trace is derived: trigger_event = the root span's name (the earliest
span whose parent is not in the file), status = "error" if any span failed else "success",
status_message = the earliest failed span's message, times = min/max over spans, user_id and
request_ip from well-known attributes, and `attributes` = the service names and resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..codec import dump_json
from ..models import SpanRow, TraceRow, TraceWithSpans
from ..schema import TRACE_STATUSES
from .anyvalue import decode_attributes
from .conventions import DERIVED_KEYS, IP_KEYS, TRACE_KEYS, TRACE_SOURCE, USER_KEYS, pick_root

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


@dataclass(slots=True)
class Assembled:
    """The traces of a file and how many duplicate deliveries were dropped."""

    traces: list[TraceWithSpans]
    duplicates: int


def assemble(spans: list[SpanRow], source: str) -> Assembled:
    """Traces in order of first appearance, each with its spans in file order."""
    by_trace: dict[str, list[SpanRow]] = {}
    seen: dict[tuple[str, str], Any] = {}
    duplicates = 0
    for span in spans:
        key = (span.trace_id, span.id)
        prior = seen.get(key)
        if prior is None:
            seen[key] = span
        else:
            group = prior if type(prior) is list else [prior]
            if span in group:
                duplicates += 1
                continue
            group.append(span)
            seen[key] = group
        trace = by_trace.get(span.trace_id)
        if trace is None:
            by_trace[span.trace_id] = [span]
        else:
            trace.append(span)
    return Assembled([trace_of(group, source) for group in by_trace.values()], duplicates)


def trace_of(spans: list[SpanRow], source: str) -> TraceWithSpans:
    """The trace row for spans of one trace: restored from a carrier span, or derived."""
    row = derive(spans, source)
    for span in spans:
        if TRACE_SOURCE in span.attributes:
            row.user_id = row.request_ip = row.status_message = row.attributes = None
            restore(row, span.attributes)
            break
    return TraceWithSpans(row, spans)


def derive(spans: list[SpanRow], source: str) -> TraceRow:
    """A trace row computed from its spans alone."""
    root = pick_root(spans)
    started = min(s.started_at for s in spans)
    ends = [s.ended_at for s in spans if s.ended_at is not None]
    failed = [s for s in spans if s.status in ("error", "blocked")]
    row = TraceRow(
        id=spans[0].trace_id,
        trigger_event=root.name,
        status="error" if failed else "success",
        started_at=started,
        ended_at=max(ends) if ends else None,
        status_message=min(failed, key=lambda s: s.started_at).status_message if failed else None,
        span_count=len(spans),
        source=source,
    )
    ordered = [root, *spans]
    row.user_id = _first(ordered, USER_KEYS)
    row.request_ip = _first(ordered, IP_KEYS)
    row.attributes = _services(spans)
    return row


def restore(row: TraceRow, attributes: dict[str, Any]) -> None:
    """Take back the trace columns pipetrace exported as attributes, where their type fits."""
    for column, key in (TRACE_KEYS | DERIVED_KEYS).items():
        if key not in attributes:
            continue
        value = attributes[key]
        allowed = _TYPES.get(column, (str,))
        if column == "status" and value not in TRACE_STATUSES:
            continue
        if type(value) not in allowed:
            continue
        setattr(row, column, float(value) if column == "duration_ms" else value)
        del attributes[key]


def _first(spans: list[SpanRow], keys: tuple[str, ...]) -> str | None:
    for span in spans:
        for key in keys:
            value = span.attributes.get(key)
            if value not in (None, ""):
                return str(value)
    return None


def _services(spans: list[SpanRow]) -> dict[str, Any] | None:
    """Service names and the distinct resources of the spans, for the trace's attributes."""
    resources: dict[str, dict[str, Any]] = {}
    seen: set[int] = set()
    for span in spans:
        resource = (span.extra or {}).get("resource")
        if resource is None or id(resource) in seen:
            continue
        seen.add(id(resource))
        decoded = decode_attributes(resource.get("attributes"))[0]
        resources.setdefault(dump_json(decoded) or "", decoded)
    if not resources:
        return None
    names = sorted({str(r["service.name"]) for r in resources.values() if "service.name" in r})
    return {"services": names, "resources": list(resources.values())}
