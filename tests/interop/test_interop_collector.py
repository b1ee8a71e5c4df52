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

from app.cli import main
from store import Repository, open_store
from store.interop import CollectorError, send_export


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
