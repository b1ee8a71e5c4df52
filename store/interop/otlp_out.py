"""Stored traces as OTLP JSON: one TracesData object per trace, one trace per line.

Ids are lowercase hex, enums integers, times nanosecond decimal strings, attributes typed
(see `anyvalue`). A trace a pipeline engine recorded (pipetrace's, or auther's read in place)
goes under a resource whose service.name is "pipetrace" and the instrumentation scope
"pipetrace", with the span columns OTLP has no field for as attributes (pipeline.script_id,
pipeline.layer_index, pipeline.parallel_index, pipeline.status) and the trace's columns on its
root span (pipeline.trigger, pipeline.user_id, pipeline.request_ip, pipeline.trace.*), so that
export -> import restores the same rows. An auther trace's UUIDs become W3C ids as
store/auther/ids.py documents (a span's whole UUID rides in auther.span.uuid). An imported
trace exports the source's data only: its spans under the resource and scope they came with
(an empty one where the source had none) with their own attributes, nothing of pipetrace's and
never the import time. A service name given to the export replaces service.name in every
resource, imported ones included (their other attributes stay).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..auther.ids import SPAN_UUID_KEY, is_uuid, w3c_span_id, w3c_trace_id
from ..codec import dump_json
from ..json_escapes import escape_json_text, json_safe
from ..models import SpanRow, TraceRow, TraceWithSpans
from .anyvalue import encode_value
from .conventions import (
    CODED_STATUSES,
    DERIVED_KEYS,
    KIND_CODES,
    NATIVE_SCOPE,
    NATIVE_SOURCES,
    SPAN_DURATION,
    SPAN_EXTRA,
    SPAN_LAYER,
    SPAN_PARALLEL,
    SPAN_SCRIPT_ID,
    SPAN_STATUS,
    TRACE_KEYS,
    export_status_code,
    pick_root,
)

DEFAULT_SERVICE = "pipetrace"
SERVICE_NAME = "service.name"
SCOPE_VERSION = "1"
# extra keys that are OTLP span fields (written as such) or consumed by export itself.
_SPAN_FIELDS = ("traceState", "flags", "droppedAttributesCount", "events", "droppedEventsCount")
_EXPORT_ONLY = ("links", "droppedLinksCount", "resource", "resourceSchemaUrl", "scope")
_CONSUMED = frozenset(
    (*_SPAN_FIELDS, *_EXPORT_ONLY, "scopeSchemaUrl", "statusCode", "kind", "otlpValues")
)
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


@dataclass(slots=True)
class ExportStats:
    """How many traces and spans were written, and traces skipped for having no spans."""

    traces: int = 0
    spans: int = 0
    empty: int = 0


def traces_data(item: TraceWithSpans, service_name: str | None = None) -> dict[str, Any]:
    """One trace as an OTLP TracesData object (also a valid ExportTraceServiceRequest); a
    service_name replaces service.name in every resource."""
    spans = item.spans
    native = item.trace.source in NATIVE_SOURCES
    root = pick_root(spans) if native else None
    groups: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
    sources: dict[tuple[str | None, str | None], tuple[Any, Any]] = {}
    for span in spans:
        extra = span.extra
        if extra and ("resource" in extra or "scope" in extra):
            source = (
                (extra.get("resource"), extra.get("resourceSchemaUrl")),
                (extra.get("scope"), extra.get("scopeSchemaUrl")),
            )
            key = (dump_json(source[0]), dump_json(source[1]))
            sources.setdefault(key, source)
        else:
            key = (None, None)
        carried = trace_fields(item.trace, spans) if span is root else None
        out = otlp_span(span, carried, native)
        group = groups.get(key)
        if group is None:
            groups[key] = [out]
        else:
            group.append(out)
    by_resource: dict[str | None, dict[str, Any]] = {}
    for key, out_spans in groups.items():
        if key == (None, None) and native:
            resource: tuple[Any, Any] = (_native_resource(service_name or DEFAULT_SERVICE), None)
            scope: tuple[Any, Any] = ({"name": NATIVE_SCOPE, "version": SCOPE_VERSION}, None)
        elif key == (None, None):
            resource = (_renamed(None, service_name) if service_name else None, None)
            scope = (None, None)
        else:
            resource, scope = sources[key]
            if service_name is not None:
                resource = (_renamed(resource[0], service_name), resource[1])
        rs = by_resource.get(key[0])
        if rs is None:
            rs = {"resource": resource[0] or {}, "scopeSpans": []}
            if resource[1]:
                rs["schemaUrl"] = resource[1]
            by_resource[key[0]] = rs
        ss: dict[str, Any] = {"scope": scope[0] or {}, "spans": out_spans}
        if scope[1]:
            ss["schemaUrl"] = scope[1]
        rs["scopeSpans"].append(ss)
    return {"resourceSpans": list(by_resource.values())}


def _native_resource(service_name: str) -> dict[str, Any]:
    return {"attributes": [_service(service_name)]}


def _renamed(resource: dict[str, Any] | None, service_name: str) -> dict[str, Any]:
    """An imported resource with its service.name replaced (or added), the rest kept."""
    resource = resource or {}
    kept = [a for a in resource.get("attributes") or [] if a.get("key") != SERVICE_NAME]
    return {**resource, "attributes": [_service(service_name), *kept]}


def _service(service_name: str) -> dict[str, Any]:
    return {"key": SERVICE_NAME, "value": {"stringValue": service_name}}


def otlp_span(
    span: SpanRow, carried: dict[str, Any] | None = None, native: bool = True
) -> dict[str, Any]:
    """One stored span as an OTLP span object, with `carried` trace columns added if given; a
    span of an imported trace (not `native`) gets no attribute the source did not have."""
    extra = span.extra or {}
    out: dict[str, Any] = {"traceId": w3c_trace_id(span.trace_id), "spanId": w3c_span_id(span.id)}
    if span.parent_span_id:
        out["parentSpanId"] = w3c_span_id(span.parent_span_id)
    if "traceState" in extra:
        out["traceState"] = extra["traceState"]
    if "flags" in extra:
        out["flags"] = extra["flags"]
    out["name"] = span.name
    out["kind"] = extra.get("kind", KIND_CODES.get(span.kind, 0))
    out["startTimeUnixNano"] = str(span.started_at)
    if span.ended_at is not None:
        out["endTimeUnixNano"] = str(span.ended_at)
    out["attributes"] = _attributes(span, extra, carried, native)
    for key in _SPAN_FIELDS[2:]:
        if key in extra:
            out[key] = extra[key]
    if "links" in extra:
        out["links"] = extra["links"]
    if "droppedLinksCount" in extra:
        out["droppedLinksCount"] = extra["droppedLinksCount"]
    code = extra.get("statusCode", export_status_code(span.status))
    status: dict[str, Any] = {"code": code} if code else {}
    if span.status_message is not None:
        status["message"] = span.status_message
    out["status"] = status
    return out


def _attributes(
    span: SpanRow, extra: dict[str, Any], carried: dict[str, Any] | None, native: bool
) -> list[dict[str, Any]]:
    """The span's own attributes, then the pipeline.* ones that carry its columns: all of them
    on a span the engine recorded; on an imported one only those its source had (a column set
    from a pipeline.* attribute, which the formats' own fields never set)."""
    raw = extra.get("otlpValues") or {}
    attributes = span.attributes
    out = [{"key": k, "value": raw[k] if k in raw else _value(v)} for k, v in attributes.items()]
    own: dict[str, Any] = {
        SPAN_UUID_KEY: span.id if is_uuid(span.id) else None,
        SPAN_SCRIPT_ID: span.script_id,
        SPAN_LAYER: span.layer_index,
        SPAN_PARALLEL: span.parallel_index,
        SPAN_STATUS: span.status if native or span.status not in CODED_STATUSES else None,
    }
    if span.duration_ms is not None and span.duration_ms != _implied(span):
        own[SPAN_DURATION] = span.duration_ms
    leftovers = {k: v for k, v in extra.items() if k not in _CONSUMED}
    if leftovers and native:
        own[SPAN_EXTRA] = leftovers
    for key, value in own.items():
        if value is not None and key not in attributes:
            out.append({"key": key, "value": encode_value(value)})
    for key, value in (carried or {}).items():
        if key not in attributes:
            out.append({"key": key, "value": encode_value(value)})
    return out


def _value(value: Any) -> dict[str, Any]:
    if type(value) is str:
        return {"stringValue": value}
    return encode_value(value)


def _implied(span: SpanRow) -> float | None:
    if span.ended_at is None:
        return None
    return (span.ended_at - span.started_at) / 1_000_000


def trace_fields(trace: TraceRow, spans: Sequence[SpanRow]) -> dict[str, Any]:
    """The trace's columns as pipeline.* attributes for its root span."""
    carried = {
        key: getattr(trace, column)
        for column, key in TRACE_KEYS.items()
        if getattr(trace, column) is not None
    }
    ends = [s.ended_at for s in spans if s.ended_at is not None]
    derived: dict[str, Any] = {
        "started_at": min(s.started_at for s in spans),
        "ended_at": max(ends) if ends else None,
        "span_count": len(spans),
    }
    for column in ("started_at", "ended_at", "span_count"):
        if getattr(trace, column) != derived[column]:
            carried[DERIVED_KEYS[column]] = getattr(trace, column)
    implied = None if trace.ended_at is None else (trace.ended_at - trace.started_at) / 1_000_000
    if trace.duration_ms is not None and trace.duration_ms != implied:
        carried[DERIVED_KEYS["duration_ms"]] = trace.duration_ms
    return carried


def export_lines(
    items: Iterable[TraceWithSpans],
    service_name: str | None = None,
    stats: ExportStats | None = None,
) -> Iterator[str]:
    """Each trace that has spans as one line of OTLP JSON (without the newline)."""
    return (line for line, _ in export_pairs(items, service_name, stats))


def export_pairs(
    items: Iterable[TraceWithSpans],
    service_name: str | None = None,
    stats: ExportStats | None = None,
) -> Iterator[tuple[str, int]]:
    """Each trace that has spans as (OTLP JSON line, span count); the sender batches by count."""
    stats = stats if stats is not None else ExportStats()
    for item in items:
        if not item.spans:
            stats.empty += 1
            continue
        line = _otlp_line(traces_data(item, service_name))
        stats.traces += 1
        stats.spans += len(item.spans)
        yield line, len(item.spans)


def _otlp_line(document: dict[str, Any]) -> str:
    """One document as strict JSON that UTF-8 can carry and a terminal only shows: a NaN kept
    verbatim from an import becomes the string proto3 JSON uses, a lone surrogate or a
    character a terminal would obey its \\u escape."""
    try:
        line = _dumps(document)
    except ValueError:
        line = _dumps(json_safe(document))
    return escape_json_text(line)
