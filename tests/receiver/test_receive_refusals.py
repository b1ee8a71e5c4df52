"""What the receiver refuses, and how: malformed bodies 400, bodies over a limit 413, types and
encodings it does not take 415, spans it cannot read or that hold too many attributes left out
in a 200's partial success; nothing refused reaches the store, and nothing sent is a 500."""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.rpc.status_pb2 import Status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from receiver.receiving import Receiving, receiving

from pipetrace.app.otlp_limits import (
    MAX_ATTRIBUTES,
    MAX_BODY_BYTES,
    MAX_DECODED_BYTES,
    MAX_SPANS_PER_REQUEST,
)
from pipetrace.store import Repository, Statement, open_store

PROTOBUF, JSON = "application/x-protobuf", "application/json"
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def span(n: int, **fields: Any) -> dict[str, Any]:
    """An OTLP JSON span of trace `n`."""
    return {
        "traceId": f"{n:032x}",
        "spanId": f"{n:016x}",
        "name": f"span {n}",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000100000000",
        **fields,
    }


def document(*spans: dict[str, Any]) -> dict[str, Any]:
    return {"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]}


def as_protobuf(doc: dict[str, Any]) -> bytes:
    """The same request in protobuf (ids in proto3 JSON are base64, so build it field by field)."""
    request = ExportTraceServiceRequest()
    for rs in doc["resourceSpans"]:
        scope_spans = request.resource_spans.add().scope_spans.add()
        for sp in rs["scopeSpans"][0]["spans"]:
            out = scope_spans.spans.add()
            out.trace_id = bytes.fromhex(sp["traceId"]) if len(sp["traceId"]) % 2 == 0 else b"x"
            out.span_id = bytes.fromhex(sp["spanId"])
            out.name = sp["name"]
            out.start_time_unix_nano = int(sp["startTimeUnixNano"])
            out.end_time_unix_nano = int(sp["endTimeUnixNano"])
            for kv in sp.get("attributes", []):
                attribute = out.attributes.add()
                attribute.key = kv["key"]
                attribute.value.string_value = kv["value"]["stringValue"]
    return request.SerializeToString()


def status_of(body: bytes, content_type: str) -> Status:
    """The google.rpc.Status a refusal carries, in the request's encoding."""
    if content_type == PROTOBUF:
        return Status.FromString(body)
    data = json.loads(body)
    return Status(code=data["code"], message=data["message"])


@pytest.fixture(scope="module")
def rx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiving]:
    """One receiver for the module, on a store of its own."""
    folder = tmp_path_factory.mktemp("refusals")
    with receiving(folder, str(folder / "received.db"), "--grpc-port", "0") as running:
        yield running


@contextlib.contextmanager
def stored(rx: Receiving) -> Iterator[Repository]:
    """The receiver's store, opened beside it."""
    repo = open_store(str(rx.log.parent / "received.db"), migrate=False, create=False)
    try:
        yield repo
    finally:
        repo.close()


def _state(rx: Receiving) -> tuple[int, int, int, int]:
    """Spans taken, then the store's traces, spans and staged spans, once all taken is written."""
    received = rx.settled()["received"]
    with stored(rx) as repo:
        rows = [
            repo.backend.query(Statement(f"SELECT count(*) FROM {table}"))[0][0]
            for table in ("pipeline_traces", "pipeline_spans", "pipeline_import_spans")
        ]
    return (received, *rows)


@contextlib.contextmanager
def unchanged(rx: Receiving) -> Iterator[None]:
    """The block's requests take no span, and leave the store as it was."""
    before = _state(rx)
    yield
    assert _state(rx) == before


MALFORMED = [
    (PROTOBUF, b"\xff\xff\xff\xff", "not an OTLP protobuf"),
    (PROTOBUF, b"\x0a\x05\x12\x03\x0a", "not an OTLP protobuf"),
    (JSON, b"{", "not JSON"),
    (JSON, b"\xff{}", "not UTF-8"),
    (JSON, b"[]", "not an ExportTraceServiceRequest"),
    (JSON, b'{"resourceSpans": 5}', "resourceSpans is not a list"),
    (JSON, b'{"resourceSpans": [5]}', "resourceSpans[0] is not an object"),
    (JSON, b'{"resourceSpans": [{"scopeSpans": [{"spans": 5}]}]}', "spans is not a list"),
    (JSON, b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
]


@pytest.mark.parametrize(("content_type", "body", "says"), MALFORMED)
def test_a_body_that_is_no_export_request_is_400(
    rx: Receiving, content_type: str, body: bytes, says: str
) -> None:
    with unchanged(rx):
        status, headers, answer = rx.post(body, content_type)
    assert status == 400
    assert headers["content-type"] == content_type
    refusal = status_of(answer, content_type)
    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and says in refusal.message


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_body_is_taken(rx: Receiving, encoding: str) -> None:
    """The counterpart of the refusals below: the same encodings, done right."""
    n = 30 if encoding == "gzip" else 31
    body = json.dumps(document(span(n))).encode()
    compressed = (gzip.compress if encoding == "gzip" else zlib.compress)(body)
    assert rx.post(compressed, JSON, **{"Content-Encoding": encoding})[0] == 200
    rx.settled()
    with stored(rx) as repo:
        assert repo.get_trace_with_spans(f"{n:032x}") is not None


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_body_that_does_not_inflate_is_400(rx: Receiving, encoding: str) -> None:
    whole = (gzip.compress if encoding == "gzip" else zlib.compress)(b"x" * 1000)
    with unchanged(rx):
        for body in (b"not compressed", whole[:-8]):
            status, _, answer = rx.post(body, JSON, **{"Content-Encoding": encoding})
            assert status == 400, answer


def test_types_and_encodings_it_does_not_take_are_415(rx: Receiving) -> None:
    body = json.dumps(document(span(1))).encode()
    with unchanged(rx):
        assert rx.post(body, "text/plain")[0] == 415
        assert rx.post(body, JSON, **{"Content-Encoding": "br"})[0] == 415


def test_bodies_over_the_limits_are_413(rx: Receiving) -> None:
    spans = [span(n + 1) for n in range(MAX_SPANS_PER_REQUEST + 1)]
    with unchanged(rx):
        assert rx.post(b" " * (MAX_BODY_BYTES + 1), JSON)[0] == 413
        bomb = gzip.compress(b" " * (MAX_DECODED_BYTES + 1))
        assert len(bomb) < MAX_BODY_BYTES
        status, _, answer = rx.post(bomb, JSON, **{"Content-Encoding": "gzip"})
        assert status == 413 and b"inflates past" in answer
        status, _, answer = rx.post(json.dumps(document(*spans)).encode(), JSON)
        assert status == 413 and b"at most 10000 a request" in answer


def test_unreadable_spans_are_left_out_and_the_rest_kept(rx: Receiving) -> None:
    """JSON and protobuf alike: a partial success counts the spans left out and says why."""
    crowded = [{"key": f"k{n}", "value": {"stringValue": "v"}} for n in range(MAX_ATTRIBUTES + 1)]
    for n, content_type in ((10, JSON), (20, PROTOBUF)):
        doc = document(span(n), span(n + 1, traceId="abc"), span(n + 2, attributes=crowded))
        body = json.dumps(doc).encode() if content_type == JSON else as_protobuf(doc)
        status, headers, answer = rx.post(body, content_type)
        assert (status, headers["content-type"]) == (200, content_type)
        if content_type == JSON:
            partial = json.loads(answer)["partialSuccess"]
            assert partial["rejectedSpans"] == "2"
            assert "spans[1].traceId" in partial["errorMessage"]
        else:
            partial = ExportTraceServiceResponse.FromString(answer).partial_success
            assert partial.rejected_spans == 2 and "traceId" in partial.error_message
    rx.settled()
    with stored(rx) as repo:
        for n in (10, 20):
            assert repo.get_trace_with_spans(f"{n:032x}") is not None
            assert repo.get_trace_with_spans(f"{n + 2:032x}") is None


def test_a_grpc_message_that_is_no_request_is_invalid_argument(rx: Receiving) -> None:
    assert rx.grpc is not None
    with grpc.insecure_channel(rx.grpc) as channel:
        export = channel.unary_unary(EXPORT)
        with pytest.raises(grpc.RpcError) as raised:
            export(b"\xff\xff\xff\xff", timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)
FIELDS = [
    "traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano", "endTimeUnixNano",
    "attributes", "status", "events", "links", "flags", "traceState",
]  # fmt: skip


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=200),
    field=st.sampled_from(FIELDS),
    value=JSON_VALUES,
    content_type=st.sampled_from([PROTOBUF, JSON]),
)
def test_no_body_is_a_500(
    rx: Receiving, body: bytes, field: str, value: Any, content_type: str
) -> None:
    """Random bytes, and a span with one field set to a random JSON value, are answered
    with the request's verdict, never with a server error."""
    with unchanged(rx):
        status, _, _ = rx.post(body, content_type)
    assert status in (200, 400)
    odd = json.dumps(document(span(7, **{field: value}))).encode()
    status, _, answer = rx.post(odd, JSON)
    assert status in (200, 400), answer
