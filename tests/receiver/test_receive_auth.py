"""With PIPETRACE_OTLP_TOKEN set, only requests that carry it once as a Bearer token are taken,
over OTLP/HTTP and OTLP/gRPC; the others are refused before their body is read, and the store
is left as it was."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from receiver.receiving import Receiving, receiving, run_program

from pipetrace.app.otlp_limits import MAX_BODY_BYTES
from pipetrace.store import open_store

TOKEN = "t0ken-" + "k" * 40
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
BODY = json.dumps(
    {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "ab" * 16,
                                "spanId": "cd" * 8,
                                "name": "GET /",
                                "startTimeUnixNano": "1700000000000000000",
                            }
                        ]
                    }
                ]
            }
        ]
    }
).encode()


@pytest.fixture(scope="module")
def rx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiving]:
    folder = tmp_path_factory.mktemp("auth")
    with receiving(
        folder, str(folder / "received.db"), "--grpc-port", "0",
        env={"PIPETRACE_OTLP_TOKEN": TOKEN},
    ) as running:  # fmt: skip
        yield running


def _post(
    rx: Receiving, body: bytes, authorizations: list[str], length: int | None = None
) -> tuple[int, dict[str, str]]:
    """POST with these Authorization headers, each sent as its own header line; with `length`,
    that Content-Length is declared and the body is sent only if the server does not answer
    first."""
    host, port = rx.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("POST", "/v1/traces")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body) if length is None else length))
        for value in authorizations:
            connection.putheader("Authorization", value)
        connection.endheaders(body if length is None else None)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.headers)
    finally:
        connection.close()


def _stored_traces(rx: Receiving) -> int:
    rx.settled()
    repo = open_store(str(rx.log.parent / "received.db"), migrate=False, create=False)
    try:
        return repo.count_traces()
    finally:
        repo.close()


def test_http_without_the_token_is_401_and_stores_nothing(rx: Receiving) -> None:
    for given in ([], [f"Bearer {TOKEN}x"], ["Basic " + TOKEN], [f"Bearer {TOKEN}"] * 2):
        status, headers = _post(rx, BODY, given)
        assert (status, headers.get("www-authenticate")) == (401, "Bearer"), given
    status, _ = _post(rx, b"", [], length=10 * MAX_BODY_BYTES)
    assert status == 401  # answered before any of the body is sent, so not a 413
    assert rx.health()["received"] == 0
    assert _stored_traces(rx) == 0
    assert _post(rx, BODY, [f"bearer {TOKEN}"])[0] == 200
    assert _stored_traces(rx) == 1


def test_grpc_without_the_token_is_unauthenticated(rx: Receiving) -> None:
    assert rx.grpc is not None
    request = ExportTraceServiceRequest().SerializeToString()
    with grpc.insecure_channel(rx.grpc) as channel:
        export = channel.unary_unary(EXPORT)
        for metadata in ((), (("authorization", "Bearer nope"),)):
            with pytest.raises(grpc.RpcError) as raised:
                export(request, metadata=metadata, timeout=10)
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        export(request, metadata=(("authorization", f"Bearer {TOKEN}"),), timeout=10)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_the_sdk_sends_with_the_token_in_its_headers(
    rx: Receiving, tmp_path: Path, protocol: str
) -> None:
    endpoint = rx.url if protocol == "http" else rx.grpc
    assert endpoint is not None
    before = _stored_traces(rx)
    status, results, _ = run_program(
        endpoint, tmp_path / "refused.json", "--protocol", protocol, "--token", "wrong"
    )
    assert (status, results) == (1, ["FAILURE"])
    assert _stored_traces(rx) == before
    status, results, sent = run_program(
        endpoint, tmp_path / "sent.json", "--protocol", protocol, "--token", TOKEN
    )
    assert (status, results) == (0, ["SUCCESS"])
    assert _stored_traces(rx) == before + len({s["trace_id"] for s in sent})
