"""Reads one OTLP JSON document (TracesData or ExportTraceServiceRequest) into span rows.

Ids are lowercased (OTLP hex ids are case-insensitive), times are nanoseconds as strings or
numbers, enums as numbers or proto names; the pre-1.0 names instrumentationLibrarySpans and
instrumentationLibrary are accepted. A parent id that is not in the file is kept as given.
"""

from __future__ import annotations

from typing import Any

from ..models import SpanRow
from .anyvalue import check_attributes, decode_attributes
from .conventions import NATIVE_SCOPE, hex_id, kind_code, nanos, status_code
from .errors import Invalid
from .spans import make_span

_COUNTS = ("droppedAttributesCount", "droppedEventsCount", "droppedLinksCount")
_PLAIN = frozenset(("traceId", "spanId", "parentSpanId", "name", "kind", "attributes", "status"))
_PLAIN |= {"startTimeUnixNano", "endTimeUnixNano"}


def parse_otlp(doc: dict[str, Any]) -> list[SpanRow]:
    """Every span of the document, in file order; raises Invalid with the path of a bad value."""
    resource_spans = doc.get("resourceSpans")
    if resource_spans is None:
        return []
    if type(resource_spans) is not list:
        raise Invalid("is not a list", "resourceSpans")
    out: list[SpanRow] = []
    for ri, rs in enumerate(resource_spans):
        try:
            _resource_spans(rs, out)
        except Invalid as exc:
            raise exc.at("resourceSpans", ri) from None
    return out


def _resource_spans(rs: Any, out: list[SpanRow]) -> None:
    if type(rs) is not dict:
        raise Invalid("is not an object")
    resource = _object(rs, "resource")
    if resource is not None:
        try:
            check_attributes(resource.get("attributes"))
        except Invalid as exc:
            raise exc.at("resource", "attributes") from None
    key = "scopeSpans" if "scopeSpans" in rs else "instrumentationLibrarySpans"
    scope_spans = rs.get(key) or []
    if type(scope_spans) is not list:
        raise Invalid("is not a list", key)
    schema = rs.get("schemaUrl")
    for si, ss in enumerate(scope_spans):
        try:
            _scope_spans(ss, resource, schema, out)
        except Invalid as exc:
            raise exc.at(key, si) from None


def _scope_spans(ss: Any, resource: Any, schema: Any, out: list[SpanRow]) -> None:
    if type(ss) is not dict:
        raise Invalid("is not an object")
    scope_key = "scope" if "scope" in ss else "instrumentationLibrary"
    scope = _object(ss, scope_key)
    if scope is not None:
        try:
            check_attributes(scope.get("attributes"))
        except Invalid as exc:
            raise exc.at(scope_key, "attributes") from None
    base: dict[str, Any] = {}
    if scope is None or scope.get("name") != NATIVE_SCOPE:
        if resource:
            base["resource"] = resource
        if schema:
            base["resourceSchemaUrl"] = schema
        if scope:
            base["scope"] = scope
        if ss.get("schemaUrl"):
            base["scopeSchemaUrl"] = ss["schemaUrl"]
    spans = ss.get("spans") or []
    if type(spans) is not list:
        raise Invalid("is not a list", "spans")
    for pi, span in enumerate(spans):
        try:
            out.append(parse_span(span, dict(base)))
        except Invalid as exc:
            raise exc.at("spans", pi) from None


def _object(parent: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is not None and type(value) is not dict:
        raise Invalid("is not an object", key)
    return value


def parse_span(sp: Any, extra: dict[str, Any]) -> SpanRow:
    """One OTLP span object; `extra` already holds its resource and scope."""
    if type(sp) is not dict:
        raise Invalid("is not an object")
    trace_id = hex_id(sp.get("traceId"), 32, "traceId")
    span_id = hex_id(sp.get("spanId"), 16, "spanId")
    parent = sp.get("parentSpanId")
    parent = hex_id(parent, 16, "parentSpanId") if parent else None
    name = sp.get("name", "")
    if type(name) is not str:
        raise Invalid("is not a string", "name")
    start = nanos(sp.get("startTimeUnixNano"), "startTimeUnixNano")
    end = sp.get("endTimeUnixNano")
    end = nanos(end, "endTimeUnixNano") if end not in (None, "0", 0) else None
    if end is not None and end < start:
        raise Invalid("is before startTimeUnixNano", "endTimeUnixNano")
    try:
        attributes, raw = decode_attributes(sp.get("attributes"))
    except Invalid as exc:
        raise exc.at("attributes") from None
    if raw:
        extra["otlpValues"] = raw
    status = sp.get("status") or {}
    if type(status) is not dict:
        raise Invalid("is not an object", "status")
    message = status.get("message") or None
    if message is not None and type(message) is not str:
        raise Invalid("is not a string", "status", "message")
    try:
        code = status_code(status.get("code"))
    except Invalid as exc:
        raise exc.at("status") from None
    if not sp.keys() <= _PLAIN:
        _rest(sp, extra)
    return make_span(
        trace_id, span_id, parent, name, kind_code(sp.get("kind")), start, end,
        attributes, code, message, extra,
    )  # fmt: skip


def _rest(sp: dict[str, Any], extra: dict[str, Any]) -> None:
    """Validate and keep the fields a row has no column for: state, flags, counts, events, links."""
    state = sp.get("traceState")
    if state:
        if type(state) is not str:
            raise Invalid("is not a string", "traceState")
        extra["traceState"] = state
    flags = sp.get("flags")
    if flags:
        if type(flags) is not int or not 0 <= flags < 2**32:
            raise Invalid("is not a 32-bit unsigned integer", "flags")
        extra["flags"] = flags
    for key in _COUNTS:
        count = sp.get(key)
        if count:
            if type(count) is not int or count < 0:
                raise Invalid("is not a non-negative integer", key)
            extra[key] = count
    events = sp.get("events")
    if events:
        extra["events"] = [_event(e, i) for i, e in enumerate(_list(events, "events"))]
    links = sp.get("links")
    if links:
        extra["links"] = [_link(k, i) for i, k in enumerate(_list(links, "links"))]


def _list(value: Any, key: str) -> list[Any]:
    if type(value) is not list:
        raise Invalid("is not a list", key)
    return value


def _event(event: Any, index: int) -> dict[str, Any]:
    try:
        if type(event) is not dict:
            raise Invalid("is not an object")
        nanos(event.get("timeUnixNano"), "timeUnixNano")
        if type(event.get("name", "")) is not str:
            raise Invalid("is not a string", "name")
        try:
            check_attributes(event.get("attributes"))
        except Invalid as exc:
            raise exc.at("attributes") from None
    except Invalid as exc:
        raise exc.at("events", index) from None
    return event


def _link(link: Any, index: int) -> dict[str, Any]:
    try:
        if type(link) is not dict:
            raise Invalid("is not an object")
        out = dict(link)
        out["traceId"] = hex_id(link.get("traceId"), 32, "traceId")
        out["spanId"] = hex_id(link.get("spanId"), 16, "spanId")
        try:
            check_attributes(link.get("attributes"))
        except Invalid as exc:
            raise exc.at("attributes") from None
    except Invalid as exc:
        raise exc.at("links", index) from None
    return out
