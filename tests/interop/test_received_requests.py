"""Requests the receiver reads: a protobuf request gives the rows its own proto3 JSON gives
through the import's reader, and a request is read span by span (a refused span is counted and
named, the others kept; a body that is no request is refused whole)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from pipetrace.store.interop.errors import Invalid, MalformedRequest
from pipetrace.store.interop.otlp_in import parse_otlp
from pipetrace.store.interop.otlp_proto import parse_request, request_document
from pipetrace.store.interop.received import read_document, read_json_request


def value(v: Any) -> AnyValue:
    """A protobuf AnyValue of a Python value (bytes stay bytes, tuples are arrays)."""
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, str):
        return AnyValue(string_value=v)
    if isinstance(v, bytes):
        return AnyValue(bytes_value=v)
    if isinstance(v, dict):
        out = AnyValue()
        out.kvlist_value.values.extend(KeyValue(key=k, value=value(x)) for k, x in v.items())
        return out
    if v is None:
        return AnyValue()
    out = AnyValue()
    out.array_value.values.extend(value(x) for x in v)
    return out


def attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=value(v)) for k, v in values.items()]


def rich_request() -> ExportTraceServiceRequest:
    """A request using every field a span row or its `extra` keeps."""
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add(schema_url="https://opentelemetry.io/schemas/1.24.0")
    rs.resource.attributes.extend(attributes({"service.name": "shop", "host.id": b"\x01\x02"}))
    rs.resource.dropped_attributes_count = 2
    ss = rs.scope_spans.add(schema_url="https://example.com/scope")
    ss.scope.name, ss.scope.version = "shop.checkout", "2.1"
    ss.scope.attributes.extend(attributes({"lib": "x"}))
    root = ss.spans.add(
        trace_id=bytes(range(1, 17)), span_id=bytes(range(1, 9)), name="POST /checkout",
        kind=Span.SPAN_KIND_SERVER, start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_000_500_000_000, trace_state="k=v", flags=0x301,
        dropped_attributes_count=1, dropped_events_count=2, dropped_links_count=3,
        status=Status(code=Status.STATUS_CODE_ERROR, message="payment failed"),
    )  # fmt: skip
    root.attributes.extend(
        attributes(
            {
                "enduser.id": "u-1",
                "count": -5,
                "big": 2**62,
                "ratio": 0.5,
                "ok": True,
                "blob": b"\x00\xff",
                "nested": {"a": [1, "two", {"b": None}]},
                "empty": None,
            }
        )
    )
    event = root.events.add(time_unix_nano=1_700_000_000_100_000_000, name="cart loaded")
    event.attributes.extend(attributes({"items": 3}))
    event.dropped_attributes_count = 1
    link = root.links.add(trace_id=bytes(range(2, 18)), span_id=bytes(range(2, 10)))
    link.trace_state, link.flags = "a=b", 1
    link.attributes.extend(attributes({"why": "retry"}))
    ss.spans.add(
        trace_id=bytes(range(1, 17)), span_id=bytes(range(3, 11)), parent_span_id=root.span_id,
        name="charge", kind=Span.SPAN_KIND_CLIENT, start_time_unix_nano=1_700_000_000_200_000_000,
        status=Status(code=Status.STATUS_CODE_OK),
    )  # fmt: skip
    request.resource_spans.add().scope_spans.add().spans.add(
        trace_id=bytes(range(5, 21)), span_id=bytes(range(5, 13)), name="no resource, no scope",
        start_time_unix_nano=1,
    )  # fmt: skip
    return request


def test_a_protobuf_request_reads_as_its_own_json_does() -> None:
    request = parse_request(rich_request().SerializeToString())
    received = read_document(request_document(request))
    assert (received.rejected, received.problem) == (0, None)
    assert received.items == list(parse_otlp(MessageToDict(request)))
    root = received.items[0]
    assert root.extra is not None and root.extra["links"][0]["traceId"] == bytes(range(2, 18)).hex()
    assert root.attributes["blob"] == "AP8=" and root.extra["otlpValues"]["blob"]


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(max_size=8)
)
KEYS = st.text(min_size=1)
"""Keys proto3 JSON writes (it leaves an empty one out, which the import then refuses)."""
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(KEYS, VALUES, max_size=5))
def test_any_attribute_value_reads_as_its_own_json_does(given_attributes: dict[str, Any]) -> None:
    request = ExportTraceServiceRequest()
    span = (
        request.resource_spans.add()
        .scope_spans.add()
        .spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="s", start_time_unix_nano=5)
    )
    span.attributes.extend(attributes(given_attributes))
    span.events.add(time_unix_nano=6, name="e").attributes.extend(attributes(given_attributes))
    ours = read_document(request_document(request)).items
    assert ours == list(parse_otlp(MessageToDict(request)))


def _spans(*spans: dict[str, Any], resource: Any = None) -> dict[str, Any]:
    group: dict[str, Any] = {"scopeSpans": [{"spans": list(spans)}]}
    if resource is not None:
        group["resource"] = resource
    return {"resourceSpans": [group]}


def _span(n: int, **fields: Any) -> dict[str, Any]:
    return {"traceId": f"{n:032x}", "spanId": f"{n:016x}", "startTimeUnixNano": "1", **fields}


def test_a_refused_span_is_counted_and_named_and_the_others_kept() -> None:
    doc = _spans(_span(1), _span(2, traceId="0" * 32), _span(3, endTimeUnixNano="0", kind=9), 5)
    received = read_document(doc)
    assert [item.trace_id for item in received.items] == [f"{1:032x}"]  # type: ignore[union-attr]
    assert received.rejected == 3
    assert received.problem == "resourceSpans[0].scopeSpans[0].spans[1].traceId is all zeros"
    bad_resource = _spans(_span(1), _span(2), resource={"attributes": 5})
    received = read_document(bad_resource)
    assert (received.items, received.rejected) == ([], 2)
    assert received.problem == "resourceSpans[0].resource.attributes is not a list"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"\xff", "not UTF-8"),
        (b"{", "not JSON"),
        (b"5", "not an ExportTraceServiceRequest"),
        (b'{"resourceSpans": {}}', "resourceSpans is not a list"),
        (b'{"resourceSpans": [{"scopeSpans": 5}]}', "resourceSpans[0].scopeSpans is not a list"),
        (b"[" * 50_000, "nested too deeply"),
    ],
)
def test_a_body_that_is_no_request_is_refused_whole(body: bytes, says: str) -> None:
    with pytest.raises(MalformedRequest) as raised:
        read_json_request(body)
    assert says in raised.value.message


def test_a_plain_json_request_takes_the_quick_reader_and_gives_the_same_rows() -> None:
    doc = json.loads(json.dumps(MessageToDict(rich_request())))
    assert read_json_request(json.dumps(doc).encode()).items == read_document(doc).items


def test_a_protobuf_body_that_is_no_request_is_invalid() -> None:
    with pytest.raises(Invalid, match="is not an OTLP protobuf ExportTraceServiceRequest"):
        parse_request(b"\xff\xff\xff")
