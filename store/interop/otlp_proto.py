"""Turns an OTLP protobuf ExportTraceServiceRequest into the OTLP JSON document `otlp_in` reads,
so protobuf and JSON requests go through the one reader (its checks, its rows).

Needs opentelemetry-proto (the optional extra `serve`); nothing else in `store` imports this
module. The document is what the OTLP JSON encoding gives: lowercase hex ids, integer enums,
64-bit integers and times as decimal strings, bytes as base64, and fields left at their
default value left out (an empty scope is no scope, as in a file).
"""

from __future__ import annotations

import base64
from typing import Any

from .anyvalue import encode_value
from .errors import Invalid

try:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "reading OTLP protobuf needs opentelemetry-proto: pip install 'pipetrace[serve]'"
    ) from exc

__all__ = ["ExportTraceServiceRequest", "parse_request", "request_document"]


def parse_request(data: bytes) -> ExportTraceServiceRequest:
    """The request a protobuf body holds; raises Invalid when it is not one."""
    try:
        return ExportTraceServiceRequest.FromString(data)
    except DecodeError as exc:
        raise Invalid(f"is not an OTLP protobuf ExportTraceServiceRequest ({exc})") from None


def request_document(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """The request as an OTLP JSON document (a TracesData object)."""
    return {"resourceSpans": [_resource_spans(rs) for rs in request.resource_spans]}


def _resource_spans(rs: ResourceSpans) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rs.HasField("resource"):
        resource = _with_attributes(rs.resource.attributes, rs.resource.dropped_attributes_count)
        if resource:
            out["resource"] = resource
    if rs.schema_url:
        out["schemaUrl"] = rs.schema_url
    out["scopeSpans"] = [_scope_spans(ss) for ss in rs.scope_spans]
    return out


def _scope_spans(ss: ScopeSpans) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ss.HasField("scope"):
        scope = ss.scope
        fields = _with_attributes(scope.attributes, scope.dropped_attributes_count)
        if scope.name:
            fields["name"] = scope.name
        if scope.version:
            fields["version"] = scope.version
        if fields:
            out["scope"] = fields
    if ss.schema_url:
        out["schemaUrl"] = ss.schema_url
    out["spans"] = [_span(span) for span in ss.spans]
    return out


def _span(span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": span.trace_id.hex(),
        "spanId": span.span_id.hex(),
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(span.start_time_unix_nano),
        "endTimeUnixNano": str(span.end_time_unix_nano),
        "attributes": _attributes(span.attributes),
    }
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id.hex()
    if span.HasField("status"):
        status: dict[str, Any] = {"code": span.status.code}
        if span.status.message:
            status["message"] = span.status.message
        out["status"] = status
    if span.trace_state:
        out["traceState"] = span.trace_state
    if span.flags:
        out["flags"] = span.flags
    if span.dropped_attributes_count:
        out["droppedAttributesCount"] = span.dropped_attributes_count
    if span.dropped_events_count:
        out["droppedEventsCount"] = span.dropped_events_count
    if span.dropped_links_count:
        out["droppedLinksCount"] = span.dropped_links_count
    if span.events:
        out["events"] = [_event(event) for event in span.events]
    if span.links:
        out["links"] = [_link(link) for link in span.links]
    return out


def _event(event: Span.Event) -> dict[str, Any]:
    out = {"timeUnixNano": str(event.time_unix_nano), "name": event.name}
    return out | _with_attributes(event.attributes, event.dropped_attributes_count)


def _link(link: Span.Link) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": link.trace_id.hex(), "spanId": link.span_id.hex()}
    if link.trace_state:
        out["traceState"] = link.trace_state
    if link.flags:
        out["flags"] = link.flags
    return out | _with_attributes(link.attributes, link.dropped_attributes_count)


def _with_attributes(attributes: Any, dropped: int) -> dict[str, Any]:
    """An object's attributes and dropped count, each only when there is one."""
    out: dict[str, Any] = {}
    if attributes:
        out["attributes"] = _attributes(attributes)
    if dropped:
        out["droppedAttributesCount"] = dropped
    return out


def _attributes(attributes: Any) -> list[dict[str, Any]]:
    return [_key_value(kv) for kv in attributes]


def _key_value(kv: KeyValue) -> dict[str, Any]:
    if kv.HasField("value"):
        return {"key": kv.key, "value": _value(kv.value)}
    return {"key": kv.key}


def _value(value: AnyValue) -> dict[str, Any]:
    """An AnyValue as OTLP JSON spells it (an empty object for one with no value set)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind == "int_value":
        return {"intValue": str(value.int_value)}
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "double_value":  # NaN and the infinities as the text proto3 JSON spells them
        return encode_value(value.double_value)
    if kind == "array_value":
        items = value.array_value.values
        return {"arrayValue": {"values": [_value(v) for v in items]} if items else {}}
    if kind == "kvlist_value":
        pairs = value.kvlist_value.values
        return {"kvlistValue": {"values": _attributes(pairs)} if pairs else {}}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode("ascii")}
    return {}
