"""Interop benchmark: OTLP JSON export and import rates against raw `json` on the same data.

Builds pipeline-shaped traces (10 spans each) through the repository in a temporary SQLite
store, then measures
  export: `write_export` of every trace to a file (store reads + OTLP mapping + encoding), against
          `json.dumps` of the very OTLP objects the export produces (the encoding alone);
  import: `import_file` of that file into an empty store (decoding + validation + mapping + one
          transaction of inserts), against `json.loads` of each line of the file (results
          dropped, so the baseline pays no memory growth while the import holds every span).
  big trace: `show --json` of one trace of 50,000 spans (store reads, JSON columns parsed, the
          JSON written a span at a time) against `json.dumps` of the very dicts it prints; and
          opening that trace in the viewer against opening a 50-span one (seconds printed);
  memory: `import_file` of a ~200 MB JSON-lines file in a child process, its peak RSS
          (resource.getrusage) printed against the file's size.
Goals: export <= 8x and import <= 6x the raw json time, show --json <= 5x json.dumps, opening
50,000 spans <= 4x opening 50, and the 200 MB import's peak RSS <= 400 MB. Every side does
strictly more than encode/decode (SQLite reads or writes of every span, JSON columns parsed or
written, typed attributes mapped), so single-digit ratios mean the mapping is not the
bottleneck. `--quick` scales everything down (10,000 spans, a 5,000-span trace, ~20 MB) and
times each side best of three (two in a full run). Import and decode print their CPU time
(time.process_time) beside the wall-clock seconds the ratios use.

Usage: python bench/interop.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import _common
from click.testing import CliRunner

from pipetrace.app.cli import main as cli
from pipetrace.app.commands.common import span_json, trace_json
from pipetrace.app.sample_store import synthetic_trace
from pipetrace.app.tui import make_app
from pipetrace.app.tui.scenes import FIXED_NOW, settle
from pipetrace.store import SpanRow, TraceRow, TraceWithSpans, open_store
from pipetrace.store.interop import import_file, traces_data, write_export

SPANS_PER_TRACE = 10
EXPORT_GOAL = 8.0
IMPORT_GOAL = 6.0
SHOW_GOAL = 5.0
OPEN_GOAL = 4.0
RSS_GOAL_MB = 400
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
    return best_with_cpu(runs, work)[0]


def best_with_cpu(runs: int, work) -> tuple[float, float]:
    """(the fastest of `runs` wall-clock timings, the least CPU time of them), in seconds: CPU
    time (time.process_time) moves less than wall-clock time on a busy machine."""
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def show_json(folder: Path, spans: int, runs: int) -> tuple[float, float]:
    """(seconds of `show --json` of one trace of `spans` spans, seconds of json.dumps of the
    same dicts)."""
    db = str(folder / f"big-{spans}.db")
    trace_id = f"{spans:032x}"
    repo = open_store(db)
    try:
        repo.save_traces([synthetic_trace(trace_id, spans, FIXED_NOW - 60 * 10**9)])
        found = repo.get_trace_with_spans(trace_id)
    finally:
        repo.close()
    assert found is not None
    data = {"trace": trace_json(found.trace), "spans": [span_json(s) for s in found.spans]}
    dumps = best(runs, lambda: json.dumps(data, indent=2, ensure_ascii=False, default=str))
    runner = CliRunner()
    shown = best(runs, lambda: runner.invoke(cli, ["show", trace_id, "--db", db, "--json"]))
    return shown, dumps


async def open_seconds(db: str, trace_id: str) -> float:
    """Seconds from asking the viewer to open a trace until its tree is built and shown (the
    wait polls every 10 ms: a tighter loop would compete with the loading worker for the
    interpreter and measure itself)."""
    app = make_app(db, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        began = time.perf_counter()
        app.open_trace(trace_id)
        while getattr(app.screen, "span_tree", None) is None:
            await asyncio.sleep(0.01)
        await pilot.pause()
        return time.perf_counter() - began


def viewer_open(folder: Path, big: int, runs: int) -> tuple[float, float]:
    """(seconds to open a trace of `big` spans, seconds to open one of 50) in the viewer."""
    db = str(folder / "open.db")
    repo = open_store(db)
    try:
        for n in (50, big):
            repo.save_traces([synthetic_trace(f"{n:032x}", n, FIXED_NOW - 60 * 10**9)])
    finally:
        repo.close()
    small = min(asyncio.run(open_seconds(db, f"{50:032x}")) for _ in range(runs + 1))
    large = min(asyncio.run(open_seconds(db, f"{big:032x}")) for _ in range(runs))
    return large, small


def peak_rss(folder: Path, megabytes: int) -> tuple[float, float]:
    """(file MB, peak RSS MB) of importing a JSON-lines file of about `megabytes` MB, measured
    in a child process (resource.getrusage, or the kernel's VmHWM where ru_maxrss would count
    the parent's pages) so nothing else this benchmark holds counts."""
    source = open_store(str(folder / "rss-source.db"))
    lines = folder / "rss.jsonl"
    try:
        items = build(200)
        source.save_traces(items)
        write_export(source, [t.trace.id for t in items], lines)
    finally:
        source.close()
    block = lines.read_text().splitlines()
    target = folder / "rss.big.jsonl"
    with target.open("w") as out:
        n = 0
        while out.tell() < megabytes * 1_000_000:
            for line in block:
                doc = json.loads(line)
                for rs in doc["resourceSpans"]:
                    for ss in rs["scopeSpans"]:
                        for span in ss["spans"]:
                            span["traceId"] = f"{n + 1:032x}"
                out.write(json.dumps(doc, separators=(",", ":")) + "\n")
                n += 1
    # Linux carries a forked child's peak (the parent's pages it shared) over exec into
    # ru_maxrss, so the child reads its own peak from /proc where there is one.
    code = (
        "import resource, sys\n"
        "from pipetrace.store import open_store\n"
        "from pipetrace.store.interop import import_file\n"
        "repo = open_store(sys.argv[1])\n"
        "report = import_file(repo, sys.argv[2])\n"
        "repo.close()\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "    peak = int(status.split()[0])\n"
        "except (OSError, IndexError):\n"
        "    pass\n"
        "print(report.traces_added, peak)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder / "rss.db"), str(target)],
        capture_output=True,
        text=True,
        check=True,
        cwd=_common.ROOT,
    )
    added, kilobytes = done.stdout.split()
    assert int(added) == n, done.stdout
    return target.stat().st_size / 1e6, int(kilobytes) / 1024


class Rates(NamedTuple):
    """Seconds of the export and import against json on the same data, and the file's size."""

    size_mb: float
    export: float
    encode: float
    imported: float
    import_cpu: float
    decode: float
    decode_cpu: float


def export_import(n_traces: int, runs: int) -> Rates:
    """Export `n_traces` traces and import the file back, each against raw json; what they
    built is let go on return, so no later measurement's garbage collection walks it."""
    n_spans = n_traces * SPANS_PER_TRACE
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
        decode, decode_cpu = best_with_cpu(runs, lambda: decode_all(lines))
        imports, import_cpus = [], []
        for run in range(runs):
            target = open_store(str(Path(folder) / f"target{run}.db"))
            try:
                started, cpu = time.perf_counter(), time.process_time()
                report = import_file(target, out)
                imports.append(time.perf_counter() - started)
                import_cpus.append(time.process_time() - cpu)
                assert report.spans == n_spans, report
            finally:
                target.close()
        imported, import_cpu = min(imports), min(import_cpus)
        size = out.stat().st_size / 1e6
    return Rates(size, export, encode, imported, import_cpu, decode, decode_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 spans instead of 100,000")
    args = parser.parse_args()
    n_traces = (10_000 if args.quick else 100_000) // SPANS_PER_TRACE
    n_spans = n_traces * SPANS_PER_TRACE
    runs = 3 if args.quick else 2  # quick timings are short: best of three, every side alike
    size, export, encode, imported, import_cpu, decode, decode_cpu = export_import(n_traces, runs)
    print(f"{n_traces} traces, {n_spans} spans, export file {size:.1f} MB")
    print(f"export: {n_spans / export:,.0f} spans/s ({export:.2f} s)")
    print(f"json.dumps of the same OTLP objects: {n_spans / encode:,.0f} spans/s ({encode:.2f} s)")
    print(f"import: {n_spans / imported:,.0f} spans/s ({imported:.2f} s, CPU {import_cpu:.2f} s)")
    print(
        f"json.loads of the same file: {n_spans / decode:,.0f} spans/s ({decode:.2f} s, "
        f"CPU {decode_cpu:.2f} s; import/json decode in CPU time {import_cpu / decode_cpu:.2f})"
    )
    big = 5_000 if args.quick else 50_000
    with tempfile.TemporaryDirectory() as folder:
        shown, dumps = show_json(Path(folder), big, runs)
        opened, small = viewer_open(Path(folder), big, runs)
        megabytes, rss = peak_rss(Path(folder), 20 if args.quick else 200)
    print(f"show --json of a {big:,}-span trace: {shown:.2f} s; json.dumps of it: {dumps:.2f} s")
    print(f"viewer opens a {big:,}-span trace in {opened:.2f} s, a 50-span one in {small:.2f} s")
    print(f"import of a {megabytes:.0f} MB file: peak RSS {rss:.0f} MB")
    print(f"ratio export/json encode: {export / encode:.2f} (goal <= {EXPORT_GOAL:g})")
    print(f"ratio import/json decode: {imported / decode:.2f} (goal <= {IMPORT_GOAL:g})")
    print(f"ratio show --json/json.dumps: {shown / dumps:.2f} (goal <= {SHOW_GOAL:g})")
    print(f"ratio open {big // 1000}k/50 spans: {opened / small:.2f} (goal <= {OPEN_GOAL:g})")
    print(f"ratio import peak RSS MB: {rss:.2f} (goal <= {RSS_GOAL_MB})")


if __name__ == "__main__":
    main()
