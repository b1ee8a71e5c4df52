"""Interop benchmark: OTLP JSON export and import rates against raw `json` on the same data.

Builds pipeline-shaped traces (10 spans each) through the repository in a temporary SQLite
store, then measures
  export: `write_export` of every trace to a file (store reads + OTLP mapping + encoding), against
          `json.dumps` of the very OTLP objects the export produces (the encoding alone);
  import: `import_file` of that file into an empty store (decoding + validation + mapping + one
          transaction of inserts), against `json.loads` of each line of the file (results
          dropped, so the baseline pays no memory growth while the import holds every span).
Goals: export <= 8x and import <= 12x the raw json time. Both sides do strictly more than
encode/decode (SQLite reads or writes of every span, JSON columns parsed or written, typed
attributes mapped), so single-digit ratios mean the mapping itself is not the bottleneck.

Usage: python bench/interop.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from pipetrace.store import SpanRow, TraceRow, TraceWithSpans, open_store
from pipetrace.store.interop import import_file, traces_data, write_export

SPANS_PER_TRACE = 10
EXPORT_GOAL = 8.0
IMPORT_GOAL = 12.0
BASE = 1_780_000_000_000_000_000


def build(n_traces: int) -> list[TraceWithSpans]:
    """Traces shaped like the engine's: a root named after the trigger and script spans."""
    items = []
    for n in range(n_traces):
        trace_id = f"{n + 1:032x}"
        start = BASE + n * 10_000_000
        root = f"{n + 1:08x}{0:08x}"
        status = ("success", "blocked", "error")[n % 3] if n % 7 == 0 else "success"
        spans = [
            SpanRow(trace_id, root, "before_signup", status, start, ended_at=start + 900_000,
                    attributes={"trigger.mode": "blocking", "scripts": 9})
        ]  # fmt: skip
        for j in range(1, SPANS_PER_TRACE):
            spans.append(
                SpanRow(
                    trace_id, f"{n + 1:08x}{j:08x}", f"script_{j}", "success",
                    start + j * 80_000, root, script_id=f"script_{j}", layer_index=j // 4,
                    parallel_index=j % 4, ended_at=start + j * 80_000 + 50_000,
                    attributes={
                        "input": {"email": f"user{n}@example.com", "ip": "203.0.113.9"},
                        "output.data": {"allowed": True, "score": j / 10},
                        "lua.instructions": 1200 + j,
                    },
                )
            )  # fmt: skip
        trace = TraceRow(
            id=trace_id, trigger_event="before_signup", status=status, started_at=start,
            ended_at=start + 900_000, user_id=f"user{n}@example.com", request_ip="203.0.113.9",
            context_snapshot={"email": f"user{n}@example.com"}, allowed=status != "blocked",
            status_message=None if status == "success" else "script_3: refused",
        )  # fmt: skip
        items.append(TraceWithSpans(trace, spans))
    return items


def decode_all(lines: list[str]) -> None:
    """json.loads of every line, results dropped: the pure decoding cost, no memory growth."""
    for line in lines:
        json.loads(line)


def best(runs: int, work) -> float:
    """The fastest of `runs` timings, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 spans instead of 100,000")
    args = parser.parse_args()
    n_traces = (10_000 if args.quick else 100_000) // SPANS_PER_TRACE
    n_spans = n_traces * SPANS_PER_TRACE
    runs = 1 if args.quick else 2
    with tempfile.TemporaryDirectory() as folder:
        source = open_store(str(Path(folder) / "source.db"))
        try:
            items = build(n_traces)
            source.save_traces(items)
            ids = [t.trace.id for t in items]
            stored = [source.get_trace_with_spans(i) for i in ids]
            docs = [traces_data(t) for t in stored if t is not None]
            out = Path(folder) / "export.jsonl"
            encode = best(runs, lambda: [json.dumps(d, separators=(",", ":")) for d in docs])
            export = best(runs, lambda: write_export(source, ids, out))
        finally:
            source.close()
        lines = out.read_text().splitlines()
        decode = best(runs, lambda: decode_all(lines))
        imports = []
        for run in range(runs):
            target = open_store(str(Path(folder) / f"target{run}.db"))
            try:
                started = time.perf_counter()
                report = import_file(target, out)
                imports.append(time.perf_counter() - started)
                assert report.spans == n_spans, report
            finally:
                target.close()
        imported = min(imports)
        size = out.stat().st_size / 1e6
    print(f"{n_traces} traces, {n_spans} spans, export file {size:.1f} MB")
    print(f"export: {n_spans / export:,.0f} spans/s ({export:.2f} s)")
    print(f"json.dumps of the same OTLP objects: {n_spans / encode:,.0f} spans/s ({encode:.2f} s)")
    print(f"import: {n_spans / imported:,.0f} spans/s ({imported:.2f} s)")
    print(f"json.loads of the same file: {n_spans / decode:,.0f} spans/s ({decode:.2f} s)")
    print(f"ratio export/json encode: {export / encode:.2f} (goal <= {EXPORT_GOAL:g})")
    print(f"ratio import/json decode: {imported / decode:.2f} (goal <= {IMPORT_GOAL:g})")


if __name__ == "__main__":
    main()
