"""Reads Jaeger JSON into span rows, the way Jaeger maps OTLP.

Three shapes: the query API's `{"data": [trace, ...]}`, one trace object as Jaeger UI downloads
it (`{"traceID", "spans", "processes", "warnings"}`), and a list of trace objects. Times are
microseconds (stored as ns); a process becomes the span's OTLP resource (service.name plus its
tags); the first CHILD_OF reference is the parent and other references become links with an
`opentracing.ref_type` attribute; logs become events (the `event` field is the name). The tags
Jaeger derives from OTLP fields are turned back into those fields and dropped: span.kind,
otel.scope.name/version (or otel.library.*), otel.status_code, otel.status_description,
w3c.tracestate. Other tags are attributes, typed as Jaeger says. A trace's `warnings` are kept
with the trace. A document too large to load whole is streamed in two passes (processes and
warnings first, since Jaeger writes them after the spans).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterator
from typing import Any

from ..models import SpanRow
from .anyvalue import encode_value
from .conventions import (
    KIND_CODES,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNSET,
    hex_id,
    micros,
)
from .errors import Invalid
from .spans import Item, TraceNote, make_span
from .streaming import Opener, walk

_SCOPE_TAGS = {
    "otel.scope.name": "name",
    "otel.library.name": "name",
    "otel.scope.version": "version",
    "otel.library.version": "version",
}
_STATUS_TAGS = {"OK": STATUS_OK, "ERROR": STATUS_ERROR, "UNSET": STATUS_UNSET}
TRACE_KEYS = frozenset(("traceID", "spans", "processes"))
"""Keys that make an object a Jaeger trace."""


def parse_jaeger(doc: dict[str, Any]) -> Iterator[Item]:
    """Every span of every trace of a query-API document, in file order."""
    traces = doc.get("data")
    if type(traces) is not list:
        raise Invalid("is not a list of traces", "data")
    yield from _traces(traces, ("data",))


def parse_jaeger_list(traces: list[Any]) -> Iterator[Item]:
    """Every span of a list of trace objects, in file order."""
    yield from _traces(traces, ())


def _traces(traces: list[Any], where: tuple[str, ...]) -> Iterator[Item]:
    for ti, trace in enumerate(traces):
        try:
            yield from parse_jaeger_trace(trace)
        except Invalid as exc:
            raise exc.at(*where, ti) from None


def parse_jaeger_trace(trace: Any) -> Iterator[Item]:
    """The spans of one trace object, then its warnings."""
    if type(trace) is not dict:
        raise Invalid("is not an object")
    resources = _processes(trace.get("processes"))
    warnings = _warnings(trace.get("warnings"))
    spans = trace.get("spans") or []
    if type(spans) is not list:
        raise Invalid("is not a list", "spans")
    trace_ids: dict[str, None] = {}
    for si, span in enumerate(spans):
        try:
            item = _span(span, resources)
        except Invalid as exc:
            raise exc.at("spans", si) from None
        trace_ids[item.trace_id] = None
        yield item
    yield from _notes(trace_ids, warnings)


def _processes(processes: Any) -> dict[str, dict[str, Any]]:
    """A trace's processes as OTLP resources by process id."""
    processes = processes or {}
    if type(processes) is not dict:
        raise Invalid("is not an object", "processes")
    resources: dict[str, dict[str, Any]] = {}
    for pid, process in processes.items():
        try:
            resources[pid] = _resource(process)
        except Invalid as exc:
            raise exc.at("processes", pid) from None
    return resources


def _warnings(warnings: Any) -> list[str]:
    """A trace's warnings: a list of strings, or null."""
    if warnings is None:
        return []
    if type(warnings) is not list or not all(type(w) is str for w in warnings):
        raise Invalid("is not a list of strings", "warnings")
    return list(warnings)


def _notes(trace_ids: dict[str, None], warnings: list[str]) -> Iterator[TraceNote]:
    if warnings:
        for trace_id in trace_ids:
            yield TraceNote(trace_id, warnings)


def stream_jaeger(open_region: Opener, prefix: str) -> Iterator[Item]:
    """The spans of a document too large to load, one at a time; `prefix` names where its
    trace objects are ("data.*" in a query-API document, "*" in a list, "" for one trace)."""
    at = f"{prefix}." if prefix else ""
    contexts: dict[tuple[Any, ...], Any] = {}
    with open_region() as handle:
        wanted = {f"{at}processes", f"{at}warnings"}
        shapes = {f"{at}spans"} | ({"data"} if prefix == "data.*" else set())
        for found in walk(handle, wanted.__contains__, shapes.__contains__):
            path, key = found.path[:-1], found.path[-1]
            if found.started:
                _check_shape(found.path, found.value)
            elif key == "processes":
                contexts[path] = _located(_processes, found.value, path)
            else:
                contexts[("warnings", *path)] = _located(_warnings, found.value, path)
    trace_ids: dict[tuple[Any, ...], dict[str, None]] = {}
    with open_region() as handle:
        for found in walk(handle, {f"{at}spans.*"}.__contains__, lambda _name: False):
            path = found.path[:-2]
            try:
                item = _span(found.value, contexts.get(path, {}))
            except Invalid as exc:
                raise exc.at(*found.path) from None
            trace_ids.setdefault(path, {})[item.trace_id] = None
            yield item
    for path, ids in trace_ids.items():
        yield from _notes(ids, contexts.get(("warnings", *path), []))


def _located(parse: Callable[[Any], Any], value: Any, path: tuple[Any, ...]) -> Any:
    """`parse(value)`, its Invalid placed at `path` in the document."""
    try:
        return parse(value)
    except Invalid as exc:
        raise exc.at(*path) from None


def _check_shape(path: tuple[Any, ...], found: str) -> None:
    """Refuse a list of spans (or of traces) that is not a list."""
    if found not in ("array", "null"):
        message = "is not a list of traces" if path == ("data",) else "is not a list"
        raise Invalid(message, *path)


def _resource(process: Any) -> dict[str, Any]:
    if type(process) is not dict:
        raise Invalid("is not an object")
    service = process.get("serviceName")
    if service is not None and type(service) is not str:
        raise Invalid("is not a string", "serviceName")
    attributes = []
    if service is not None:
        attributes.append({"key": "service.name", "value": encode_value(service)})
    try:
        tags, raw = _tags(process.get("tags"))
    except Invalid as exc:
        raise exc.at("tags") from None
    return {"attributes": attributes + _key_values(tags, raw)}


def _key_values(values: dict[str, Any], raw: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Decoded tags back as an OTLP KeyValue list, binary ones as their bytesValue."""
    return [
        {"key": k, "value": raw[k] if raw and k in raw else encode_value(v)}
        for k, v in values.items()
    ]


def _tags(tags: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Jaeger's typed tags as a JSON object, and the AnyValues of binary tags."""
    if tags is None:
        return {}, None
    if type(tags) is not list:
        raise Invalid("is not a list")
    out: dict[str, Any] = {}
    raw: dict[str, Any] | None = None
    for index, tag in enumerate(tags):
        try:
            if type(tag) is not dict or type(tag.get("key")) is not str:
                raise Invalid("is not a {key, type, value} object")
            kind = str(tag.get("type", "string")).lower()
            value = tag.get("value")
            out[tag["key"]] = _tag_value(kind, value)
            if kind == "binary":
                raw = raw or {}
                raw[tag["key"]] = {"bytesValue": value}
        except Invalid as exc:
            raise exc.at(index) from None
    return out, raw


def _tag_value(kind: str, value: Any) -> Any:
    ok = {
        "string": type(value) is str,
        "bool": type(value) is bool,
        "int64": type(value) is int,
        "float64": type(value) in (int, float),
        "binary": type(value) is str,
    }
    if kind not in ok:
        raise Invalid(f"has unknown type {kind!r}", "type")
    if kind == "int64" and type(value) is str and value.lstrip("-").isdigit():
        return int(value)
    if not ok[kind]:
        raise Invalid(f"is not a {kind} value ({value!r:.40})", "value")
    if kind == "binary":
        try:
            binascii.a2b_base64(value, strict_mode=True)
        except binascii.Error:
            raise Invalid("is not valid base64", "value") from None
    return float(value) if kind == "float64" else value


def _span(sp: Any, resources: dict[str, dict[str, Any]]) -> SpanRow:
    if type(sp) is not dict:
        raise Invalid("is not an object")
    trace_id = hex_id(sp.get("traceID"), 32, "traceID", pad=True)
    span_id = hex_id(sp.get("spanID"), 16, "spanID", pad=True)
    name = sp.get("operationName", "")
    if type(name) is not str:
        raise Invalid("is not a string", "operationName")
    start = micros(sp.get("startTime"), "startTime")
    end = start + micros(sp.get("duration", 0), "duration")
    extra: dict[str, Any] = {}
    parent, links = _references(sp, trace_id)
    try:
        attributes, raw = _tags(sp.get("tags"))
    except Invalid as exc:
        raise exc.at("tags") from None
    kind = attributes.pop("span.kind", None)
    kind_code = KIND_CODES.get(str(kind).upper(), 0) if kind is not None else KIND_CODES["INTERNAL"]
    scope = {_SCOPE_TAGS[k]: attributes.pop(k) for k in list(_SCOPE_TAGS) if k in attributes}
    code = _STATUS_TAGS.get(str(attributes.pop("otel.status_code", "")).upper())
    if code is None:
        code = STATUS_ERROR if attributes.get("error") is True else STATUS_UNSET
    message = attributes.pop("otel.status_description", None)
    state = attributes.pop("w3c.tracestate", None)
    process = sp.get("process")
    if process is not None:
        try:
            extra["resource"] = _resource(process)
        except Invalid as exc:
            raise exc.at("process") from None
    elif type(sp.get("processID")) is str and sp["processID"] in resources:
        extra["resource"] = resources[sp["processID"]]
    if scope:
        extra["scope"] = scope
    if raw:
        extra["otlpValues"] = raw
    if state:
        extra["traceState"] = str(state)
    events = _logs(sp.get("logs"))
    if events:
        extra["events"] = events
    if links:
        extra["links"] = links
    leftovers = {k: sp[k] for k in ("warnings", "flags") if sp.get(k)}
    if leftovers:
        extra["jaeger"] = leftovers
    return make_span(
        trace_id, span_id, parent, name, kind_code, start, end, attributes, code,
        None if message is None else str(message), extra,
    )  # fmt: skip


def _references(sp: dict[str, Any], trace_id: str) -> tuple[str | None, list[dict[str, Any]]]:
    refs = sp.get("references") or []
    if type(refs) is not list:
        raise Invalid("is not a list", "references")
    parent = None
    links = []
    for index, ref in enumerate(refs):
        try:
            if type(ref) is not dict:
                raise Invalid("is not an object")
            ref_trace = hex_id(ref.get("traceID", trace_id), 32, "traceID", pad=True)
            ref_span = hex_id(ref.get("spanID"), 16, "spanID", pad=True)
        except Invalid as exc:
            raise exc.at("references", index) from None
        ref_type = str(ref.get("refType", "CHILD_OF")).lower()
        if parent is None and ref_type == "child_of" and ref_trace == trace_id:
            parent = ref_span
            continue
        links.append(
            {
                "traceId": ref_trace,
                "spanId": ref_span,
                "attributes": [{"key": "opentracing.ref_type", "value": {"stringValue": ref_type}}],
            }
        )
    if parent is None and sp.get("parentSpanID"):
        parent = hex_id(sp["parentSpanID"], 16, "parentSpanID", pad=True)
    return parent, links


def _logs(logs: Any) -> list[dict[str, Any]]:
    if not logs:
        return []
    if type(logs) is not list:
        raise Invalid("is not a list", "logs")
    events = []
    for index, log in enumerate(logs):
        try:
            if type(log) is not dict:
                raise Invalid("is not an object")
            time = micros(log.get("timestamp"), "timestamp")
            try:
                fields, raw = _tags(log.get("fields"))
            except Invalid as exc:
                raise exc.at("fields") from None
        except Invalid as exc:
            raise exc.at("logs", index) from None
        name = fields.pop("event", "")
        event: dict[str, Any] = {"timeUnixNano": str(time), "name": str(name)}
        if fields:
            event["attributes"] = _key_values(fields, raw)
        events.append(event)
    return events
