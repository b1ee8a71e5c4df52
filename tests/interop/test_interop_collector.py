"""`export --endpoint` against a real HTTP server on 127.0.0.1 that records what it receives."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner
from google.protobuf.json_format import Parse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from pipetrace.app.cli import main
from pipetrace.store import Repository, open_store
from pipetrace.store.interop import CollectorError, import_file, send_export


class Collector:
    """What the server received, and what it answers."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.answer = b"{}"
        self.url = ""


@pytest.fixture
def collector() -> Iterator[Collector]:
    """A tiny OTLP/HTTP JSON receiver in a thread, stopped after the test."""
    state = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": body.decode()}
            )
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state.answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_sends_batches_of_otlp_json(sqlite_repo: Repository, pipeline_traces, collector):
    sqlite_repo.save_traces(pipeline_traces)
    ids = [t.trace.id for t in pipeline_traces]
    report = send_export(
        sqlite_repo, ids, collector.url + "/", batch_spans=10, headers={"Authorization": "x"}
    )
    assert (report.traces, report.spans, report.requests) == (4, 20, 2)
    assert [r["path"] for r in collector.requests] == ["/v1/traces", "/v1/traces"]
    seen = []
    for request in collector.requests:
        assert request["headers"]["Content-Type"] == "application/json"
        assert request["headers"]["Authorization"] == "x"
        message = Parse(request["body"], ExportTraceServiceRequest())
        assert len(message.resource_spans) == 2
        for rs in message.resource_spans:
            seen += [s.name for ss in rs.scope_spans for s in ss.spans]
    assert seen == [s.name for t in pipeline_traces for s in t.spans]


def _spans_per_request(collector: Collector) -> list[int]:
    return [
        sum(
            len(ss["spans"])
            for rs in json.loads(r["body"])["resourceSpans"]
            for ss in rs["scopeSpans"]
        )
        for r in collector.requests
    ]


def test_whole_traces_share_a_request_only_while_they_fit(
    sqlite_repo: Repository, pipeline_traces, collector
):
    sqlite_repo.save_traces(pipeline_traces)
    report = send_export(
        sqlite_repo, [t.trace.id for t in pipeline_traces], collector.url, batch_spans=12
    )
    assert _spans_per_request(collector) == [10, 10] and report.requests == 2


def _otlp_span(n: int) -> dict[str, Any]:
    return {
        "traceId": "ab" * 16,
        "spanId": f"{n:016x}",
        "name": f"s{n}",
        "startTimeUnixNano": str(1_700_000_000_000_000_000 + n),
        "endTimeUnixNano": str(1_700_000_000_000_000_100 + n),
    }


def _resource(service: str, scopes: list[tuple[str, list[int]]]) -> dict[str, Any]:
    return {
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "schemaUrl": f"https://example.com/{service}",
        "scopeSpans": [
            {"scope": {"name": scope}, "spans": [_otlp_span(n) for n in spans]}
            for scope, spans in scopes
        ],
    }


def _placement(documents: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    """Each span's name with the service, resource schema URL and scope it is sent under."""
    return {
        span["name"]: (
            rs["resource"]["attributes"][0]["value"]["stringValue"],
            rs["schemaUrl"],
            ss["scope"]["name"],
        )
        for document in documents
        for rs in document["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    }


def test_a_trace_larger_than_a_batch_is_split_keeping_resources_and_scopes(
    sqlite_repo: Repository, pipeline_traces, collector, tmp_path
):
    document = {
        "resourceSpans": [
            _resource("svc-a", [("lib-1", [1, 2]), ("lib-2", [3])]),
            _resource("svc-b", [("lib-3", [4, 5])]),
        ]
    }
    (tmp_path / "big.json").write_text(json.dumps(document))
    import_file(sqlite_repo, tmp_path / "big.json")
    sqlite_repo.save_traces(pipeline_traces[:1])
    ids = ["ab" * 16, pipeline_traces[0].trace.id]
    report = send_export(sqlite_repo, ids, collector.url, batch_spans=2)
    assert (report.traces, report.spans) == (2, 10)
    assert _spans_per_request(collector) == [2, 2, 1, 2, 2, 1]
    bodies = [json.loads(r["body"]) for r in collector.requests]
    for body in bodies:
        Parse(json.dumps(body), ExportTraceServiceRequest())
    assert _placement(bodies[:3]) == _placement([document])
    assert [
        s["name"]
        for b in bodies[3:]
        for rs in b["resourceSpans"]
        for ss in rs["scopeSpans"]
        for s in ss["spans"]
    ] == [s.name for s in pipeline_traces[0].spans]


def test_full_traces_url_is_kept_and_partial_success_reported(
    sqlite_repo: Repository, pipeline_traces, collector
):
    sqlite_repo.save_traces(pipeline_traces[:1])
    collector.answer = json.dumps({"partialSuccess": {"rejectedSpans": "2"}}).encode()
    report = send_export(sqlite_repo, [pipeline_traces[0].trace.id], collector.url + "/v1/traces")
    assert report.rejected_spans == 2
    assert collector.requests[0]["path"] == "/v1/traces"


def test_refusal_is_one_line_with_status_and_body(
    sqlite_repo: Repository, pipeline_traces, collector
):
    sqlite_repo.save_traces(pipeline_traces[:1])
    collector.status = 400
    collector.answer = b'{"code": 3,\n "message": "invalid span kind"}'
    with pytest.raises(CollectorError) as caught:
        send_export(sqlite_repo, [pipeline_traces[0].trace.id], collector.url)
    message = str(caught.value)
    assert "\n" not in message
    assert f"collector at {collector.url}/v1/traces refused the export: HTTP 400" in message
    assert 'invalid span kind"}' in message


def test_unreachable_collector_through_the_cli(tmp_path, pipeline_traces):
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    repo.save_traces(pipeline_traces[:1])
    repo.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(
        main, ["export", "--db", db, "--endpoint", f"http://127.0.0.1:{port}"]
    )
    assert result.exit_code == 2
    assert (
        f"pipetrace: cannot reach collector at http://127.0.0.1:{port}/v1/traces" in result.output
    )
    bad = CliRunner().invoke(main, ["export", "--db", db, "--endpoint", "ftp://x"])
    assert bad.exit_code == 2 and "is not an http:// or https:// URL" in bad.output


def test_cli_export_to_collector(tmp_path, pipeline_traces, collector):
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    repo.save_traces(pipeline_traces)
    repo.close()
    result = CliRunner().invoke(
        main, ["export", "--db", db, "--status", "blocked", "--endpoint", collector.url]
    )
    assert result.exit_code == 0, result.output
    assert "exported 1 trace (5 spans) to " in result.output
    (request,) = collector.requests
    assert '"pipeline.trace.status","value":{"stringValue":"blocked"}' in request["body"]
