"""Receiver benchmark: spans per second taken over OTLP/HTTP protobuf against direct ingest.

Both sides store the same spans, made by the OpenTelemetry SDK: traces of 10 spans (a server
span and nine children with a few attributes and an event each), in batches of 512 as the SDK's
BatchSpanProcessor sends them, merged into an empty SQLite store and scrubbed of secrets first.
  received: a real `pipetrace receive` on a loopback port; a child process exports the batches
          one after another with the official exporter (opentelemetry-exporter-otlp-proto-http,
          protobuf, no compression), timing each request; the clock runs from its first
          request until the receiver's health check says every span is written;
  direct:   the repository's own way in for SDK spans, PipetraceSpanExporter with the same
          scrub, called in this process on the same batches (no encoding, no HTTP).
Goal: received spans/s >= 0.6 of direct spans/s. The p99 request latency the exporter saw is
printed, and what was dropped: spans the exporter gave up on plus spans the writer failed to
store (goal 0: the sent spans stay below the receiver's queue, its documented capacity).

Usage: python bench/receiver.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from _common import ROOT, goal_line

from pipetrace.app.import_scrub import ImportScrub
from pipetrace.app.otlp_limits import DEFAULT_QUEUE_SPANS
from pipetrace.store import open_store

SPANS_PER_TRACE = 10
BATCH = 512
GOAL = 0.6


def make_batches(n_traces: int) -> list[list[object]]:
    """SDK spans of `n_traces` traces, in export batches of BATCH."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.trace import SpanKind

    spans: list[object] = []

    class Keep(SpanExporter):
        def export(self, batch):  # type: ignore[no-untyped-def]
            spans.extend(batch)
            return SpanExportResult.SUCCESS

    provider = TracerProvider(resource=Resource.create({"service.name": "shop", "host": "h1"}))
    provider.add_span_processor(SimpleSpanProcessor(Keep()))
    tracer = provider.get_tracer("bench.receiver", "1.0")
    for n in range(n_traces):
        attributes = {"http.request.method": "POST", "url.path": "/checkout", "enduser.id": f"u{n}"}
        with tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER,
                                          attributes=attributes):  # fmt: skip
            for j in range(SPANS_PER_TRACE - 1):
                with tracer.start_as_current_span(f"step {j}") as span:
                    span.set_attributes({"items": j, "sku": f"A{j}", "ratio": j / 10, "ok": True})
                    span.add_event("done", {"n": j})
    provider.shutdown()
    return [spans[i : i + BATCH] for i in range(0, len(spans), BATCH)]


def send(url: str, n_traces: int) -> None:
    """The child process: export the batches to `url` and print what happened as JSON."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    batches = make_batches(n_traces)
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", timeout=60)
    latencies, lost = [], 0
    started = time.time()
    for batch in batches:
        began = time.perf_counter()
        if exporter.export(batch) is not SpanExportResult.SUCCESS:
            lost += len(batch)
        latencies.append(time.perf_counter() - began)
    exporter.shutdown()
    print(json.dumps({"started": started, "latencies": latencies, "lost": lost}))


def direct(folder: Path, n_traces: int) -> float:
    """Seconds PipetraceSpanExporter takes to store the batches (scrubbed) into an empty store."""
    from pipetrace.store.interop.otel_sdk import PipetraceSpanExporter

    batches = make_batches(n_traces)
    repo = open_store(str(folder / "direct.db"))
    try:
        exporter = PipetraceSpanExporter(repo, ImportScrub())
        started = time.perf_counter()
        for batch in batches:
            exporter.export(batch)  # type: ignore[arg-type]
        took = time.perf_counter() - started
        assert repo.count_traces() == n_traces
    finally:
        repo.close()
    return took


@contextlib.contextmanager
def receiver(folder: Path) -> Iterator[str]:
    """`pipetrace receive` on a free loopback port until the block ends; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "pipetrace", "receive", "--port", str(port), "--db",
         str(folder / "received.db")],
        cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while health(url) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pipetrace receive did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def health(url: str) -> dict[str, int] | None:
    """The receiver's span counts, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return json.load(response)["spans"]
    except OSError:
        return None


def received(folder: Path, n_traces: int) -> tuple[float, list[float], int, dict[str, int]]:
    """(seconds from the first request until every span is written, request latencies, spans
    the exporter gave up on, the receiver's final counts)."""
    expected = n_traces * SPANS_PER_TRACE
    with receiver(folder) as url:
        sender = subprocess.Popen(
            [sys.executable, __file__, "--send", url, str(n_traces)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        while True:
            counts = health(url) or {}
            done = counts.get("written", 0) + counts.get("failed", 0)
            if done >= expected or (sender.poll() is not None and sender.returncode != 0):
                finished = time.time()
                break
            time.sleep(0.02)
        out, _ = sender.communicate(timeout=600)
        assert sender.returncode == 0, "the sender failed"
    report = json.loads(out)
    return finished - report["started"], report["latencies"], report["lost"], counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 spans instead of 50,000")
    parser.add_argument("--send", nargs=2, metavar=("URL", "TRACES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        send(args.send[0], int(args.send[1]))
        return
    n_traces = (10_000 if args.quick else 50_000) // SPANS_PER_TRACE
    n_spans = n_traces * SPANS_PER_TRACE
    assert n_spans <= DEFAULT_QUEUE_SPANS, "the burst must stay below the writer's capacity"
    with tempfile.TemporaryDirectory() as folder:
        took_direct = direct(Path(folder), n_traces)
        took, latencies, lost, counts = received(Path(folder), n_traces)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    direct_rate, received_rate = n_spans / took_direct, n_spans / took
    print(f"{n_traces:,} traces, {n_spans:,} spans in {len(latencies)} requests of {BATCH}")
    print(
        f"direct ingest (PipetraceSpanExporter): {direct_rate:,.0f} spans/s ({took_direct:.2f} s)"
    )
    print(f"received over OTLP/HTTP protobuf: {received_rate:,.0f} spans/s ({took:.2f} s)")
    print(
        f"request latency: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms"
    )
    print(
        f"dropped: {lost + counts.get('failed', 0)} spans (exporter gave up on {lost}, writer "
        f"failed {counts.get('failed', 0)}); refused while busy and sent again: "
        f"{counts.get('refused', 0)}"
    )
    print(goal_line("received spans/s / direct ingest spans/s", received_rate / direct_rate,
                    ">=", GOAL))  # fmt: skip


if __name__ == "__main__":
    main()
