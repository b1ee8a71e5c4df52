"""Retention benchmark: how long a concurrent writer waits while expired traces are deleted.

Builds a SQLite store with many expired traces, measures a writer that inserts a trace every
5 ms with no cleanup running (the baseline), then the same writer while cleanup_old_traces
deletes every expired trace; samples the -wal file size throughout.

Usage: python bench/cleanup.py [--quick] [--traces N] [--batch-size N] [--pause SECONDS]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from app.commands.cleanup_cmds import DEFAULT_BATCH_SIZE, PAUSE_SECONDS  # noqa: E402
from store import Repository, SpanRow, TraceRow, TraceWithSpans, open_store  # noqa: E402

DAY_NS = 86_400 * 1_000_000_000
SPANS_PER_TRACE = 3
BUILD_CHUNK = 20_000
WRITER_INTERVAL = 0.005
WAIT_GOAL_MS = 300.0


def make_trace(prefix: str, n: int, started_at: int) -> TraceWithSpans:
    """A trace like the engine writes: small JSON input and result, a root and two script spans."""
    trace_id = f"{prefix}{n:031x}"
    trace = TraceRow(
        id=trace_id,
        trigger_event="before_signup",
        status="success" if n % 7 else "blocked",
        started_at=started_at,
        ended_at=started_at + 1_800_000,
        user_id=f"user-{n % 5000}",
        request_ip=f"10.{n % 256}.{n // 256 % 256}.7",
        context_snapshot={"email": f"u{n}@example.com", "password": "[REDACTED]", "n": n},
        result_data={"score": n % 100},
        allowed=bool(n % 7),
    )
    root = f"{n:012x}0000"
    spans = [
        SpanRow(
            trace_id=trace_id,
            id=root if j == 0 else f"{n:012x}{j:04x}",
            parent_span_id=None if j == 0 else root,
            name="before_signup" if j == 0 else f"script_{j}",
            script_id=None if j == 0 else f"script_{j}",
            layer_index=None if j == 0 else j - 1,
            status="success",
            started_at=started_at + j * 1000,
            ended_at=started_at + 1_500_000,
            attributes={"output": {"ok": True, "j": j}, "lua.line": 12},
        )
        for j in range(SPANS_PER_TRACE)
    ]
    return TraceWithSpans(trace, spans)


def build(repo: Repository, count: int) -> int:
    """`count` traces 40 to 41 days old in large transactions; returns the cutoff (30 days)."""
    now = time.time_ns()
    first = now - 41 * DAY_NS
    step = DAY_NS // max(count, 1)
    for start in range(0, count, BUILD_CHUNK):
        stop = min(count, start + BUILD_CHUNK)
        repo.save_traces([make_trace("0", n, first + n * step) for n in range(start, stop)])
    return now - 30 * DAY_NS


class Writer(threading.Thread):
    """Inserts one fresh trace every 5 ms through its own Repository and records each wait."""

    def __init__(self, path: str, prefix: str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.prefix = prefix
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.waits: list[float] = []

    def run(self) -> None:
        repo = open_store(self.path, migrate=False)
        try:
            repo.save_trace(*_parts(make_trace(self.prefix, 0, time.time_ns())))
            self.ready.set()
            due = time.perf_counter()
            n = 1
            while not self.stop.is_set():
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                item = make_trace(self.prefix, n, time.time_ns())
                began = time.perf_counter()
                repo.save_trace(item.trace, item.spans)
                self.waits.append(time.perf_counter() - began)
                n += 1
                due = max(due + WRITER_INTERVAL, time.perf_counter())
        finally:
            repo.close()


class WalSampler(threading.Thread):
    """Samples the size of the -wal file every 10 ms."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.wal = Path(path + "-wal")
        self.stop = threading.Event()
        self.largest = 0

    def run(self) -> None:
        while not self.stop.wait(0.01):
            try:
                self.largest = max(self.largest, self.wal.stat().st_size)
            except FileNotFoundError:
                continue


def _parts(item: TraceWithSpans) -> tuple[TraceRow, list[SpanRow]]:
    return item.trace, item.spans


def summarize(waits: list[float]) -> tuple[float, float, float]:
    """(longest, p99, median) in milliseconds."""
    ordered = sorted(waits)
    return (
        ordered[-1] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        ordered[len(ordered) // 2] * 1000,
    )


def measure_writer(path: str, prefix: str, seconds: float | None, work=None) -> Writer:
    """Run the writer alone for `seconds`, or for as long as `work()` runs."""
    writer = Writer(path, prefix)
    writer.start()
    writer.ready.wait()
    try:
        if work is None:
            time.sleep(seconds or 0)
        else:
            work()
    finally:
        writer.stop.set()
        writer.join()
    return writer


def main() -> None:
    """Build, measure the baseline, measure during cleanup, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 traces instead of 500,000.")
    parser.add_argument("--traces", type=int, help="How many expired traces to build.")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--pause", type=float, default=PAUSE_SECONDS)
    args = parser.parse_args()
    count = args.traces or (50_000 if args.quick else 500_000)

    with tempfile.TemporaryDirectory(prefix="pipetrace-bench-") as folder:
        path = str(Path(folder) / "traces.db")
        builder = open_store(path)
        try:
            began = time.perf_counter()
            cutoff = build(builder, count)
            built = time.perf_counter() - began
        finally:
            builder.close()  # the last connection to close removes the WAL: the run starts at 0
        repo = open_store(path)
        try:
            size_mb = os.path.getsize(path) / 1e6
            print(
                f"built {count:,} expired traces ({count * SPANS_PER_TRACE:,} spans), "
                f"{size_mb:.0f} MB, in {built:.1f} s"
            )

            baseline_seconds = 3.0 if args.quick else 8.0
            alone = measure_writer(path, "a", baseline_seconds)

            sampler = WalSampler(path)
            sampler.start()
            timing: dict[str, float] = {}
            outcome = {}

            def delete_all() -> None:
                start = time.perf_counter()
                outcome["result"] = repo.cleanup_old_traces(
                    cutoff, batch_size=args.batch_size, pause=args.pause
                )
                timing["delete"] = time.perf_counter() - start

            during = measure_writer(path, "b", None, delete_all)
            sampler.stop.set()
            sampler.join()
            left = repo.count_older_than(cutoff)
        finally:
            repo.close()

    result = outcome["result"]
    a_max, a_p99, a_med = summarize(alone.waits)
    d_max, d_p99, d_med = summarize(during.waits)
    print(f"cleanup: batch size {args.batch_size}, pause {args.pause * 1000:.0f} ms")
    print(
        f"deleter: {result.traces:,} traces and {result.spans:,} spans in "
        f"{timing['delete']:.1f} s ({result.traces / timing['delete']:,.0f} traces/s); "
        f"left older than the cutoff: {left[0]} traces, {left[1]} spans"
    )
    print(
        f"writer alone ({len(alone.waits) / baseline_seconds:.0f} inserts/s): "
        f"longest {a_max:.1f} ms, p99 {a_p99:.2f} ms, median {a_med:.2f} ms"
    )
    print(
        f"writer during cleanup ({len(during.waits) / timing['delete']:.0f} inserts/s): "
        f"longest {d_max:.1f} ms, "
        f"p99 {d_p99:.2f} ms, median {d_med:.2f} ms"
    )
    print(f"largest WAL seen during cleanup: {sampler.largest / 1e6:.1f} MB")
    print(
        f"ratio writer longest wait / {WAIT_GOAL_MS:.0f} ms: "
        f"{d_max / WAIT_GOAL_MS:.3f} (goal <= 1.0)"
    )
    print(f"ratio writer p99 wait with/without cleanup: {d_p99 / a_p99:.2f} (goal <= 10.0)")


if __name__ == "__main__":
    main()
