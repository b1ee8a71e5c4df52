"""Viewer speed: first list page on a huge store vs a small one; waterfall moves on 50k vs 50 spans;
in live mode, the time from a trace's commit by another process to its row on top of the list.

Run: python bench/viewer.py [--quick]. Stores are cached in a temp folder between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path

import _common  # noqa: F401  (puts the repository root, not this folder, on sys.path)

from pipetrace.app.sample_store import synthetic_trace
from pipetrace.app.tui import make_app
from pipetrace.app.tui.scenes import FIXED_NOW, settle
from pipetrace.app.tui.widgets.waterfall import Waterfall
from pipetrace.store import TraceRow, TraceWithSpans, open_store

CACHE = Path(tempfile.gettempdir()) / "pipetrace-bench-viewer"
SIZE = (120, 36)
TRIGGERS = ("before_signup", "before_signin", "after_signup", "token_build")
STATUSES = ("success",) * 8 + ("blocked", "error")


def build_trace_store(n: int) -> Path:
    """A store of `n` span-less traces (the list never reads spans), built once and cached."""
    path = CACHE / f"traces-{n}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    rng = random.Random(n)
    repo = open_store(str(partial))
    try:
        step = 30 * 86400 * 10**9 // n
        batch: list[TraceWithSpans] = []
        for i in range(n):
            start = FIXED_NOW - i * step
            duration = rng.lognormvariate(0.3, 0.9)
            row = TraceRow(
                id=f"{rng.getrandbits(128) | 1:032x}",
                trigger_event=TRIGGERS[i % 4],
                status=STATUSES[rng.randrange(10)],
                started_at=start,
                ended_at=start + int(duration * 1e6),
                duration_ms=duration,
                user_id=f"user{i % 5000}@example.com",
                request_ip=f"198.51.{i % 250}.{i % 200}",
                span_count=6,
                created_at=start,
            )
            batch.append(TraceWithSpans(row, []))
            if len(batch) == 50_000:
                repo.save_traces(batch)
                batch = []
        repo.save_traces(batch)
        repo.analyze()
    finally:
        repo.close()
    partial.rename(path)
    return path


def build_span_store(sizes: list[int]) -> tuple[Path, dict[int, str]]:
    """One store holding a trace of each span count; returns its path and the trace ids."""
    path = CACHE / f"spans-{'-'.join(map(str, sizes))}.db"
    ids = {n: f"{n:032x}" for n in sizes}
    if path.exists():
        return path, ids
    CACHE.mkdir(parents=True, exist_ok=True)
    repo = open_store(str(path))
    try:
        for n, trace_id in ids.items():
            repo.save_traces([synthetic_trace(trace_id, n, FIXED_NOW - 60 * 10**9)])
    finally:
        repo.close()
    return path, ids


async def first_page(url: str) -> float:
    """Seconds from starting the app until the first page of rows is on screen."""
    began = time.perf_counter()
    app = make_app(url, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        while not app.list_screen.table.row_count:
            await asyncio.sleep(0.001)
        await pilot.pause()
        took = time.perf_counter() - began
        await settle(pilot)
    return took


async def waterfall(url: str, trace_id: str, moves: int) -> tuple[float, float]:
    """(seconds to open the trace until its rows show, mean seconds per cursor move)."""
    app = make_app(url, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        began = time.perf_counter()
        app.open_trace(trace_id)
        while getattr(app.screen, "span_tree", None) is None:
            await asyncio.sleep(0.001)
        await pilot.pause()
        opened = time.perf_counter() - began
        view = app.screen.query_one(Waterfall)
        await settle(pilot)
        began = time.perf_counter()
        for i in range(moves):
            view.action_cursor(1 if (i // 40) % 2 == 0 else -1)
            await pilot.pause()
        per_move = (time.perf_counter() - began) / moves
    return opened, per_move


COMMIT_ELSEWHERE = """\
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = time.time_ns()
columns = ("id", "trigger_event", "status", "started_at", "ended_at", "duration_ms",
           "created_at", "span_count", "source")
values = (sys.argv[2], "before_signup", "success", now, now + 1_000_000, 1.0, now, 0, "engine")
marks = ", ".join("?" * len(columns))
db.execute(f"INSERT INTO pipeline_traces ({', '.join(columns)}) VALUES ({marks})", values)
db.commit()
print(time.time())
"""
"""A trace committed as another process's writer would, printing the wall-clock time after
its commit."""


def commit_elsewhere(path: Path, trace_id: str) -> float:
    """Commit a new trace from another process; the time its commit returned there."""
    done = subprocess.run(
        [sys.executable, "-c", COMMIT_ELSEWHERE, str(path), trace_id],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


async def live_latency(path: Path, commits: int) -> list[float]:
    """Seconds from each commit by another process to its row on top of the list, the
    viewer in live mode with its own poll interval (its cursor on the first row)."""
    app = make_app(str(path))
    latencies = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.list_screen
        await pilot.press("l")
        for n in range(commits):
            trace_id = f"{0xFEED0000 + n:032x}"
            committed = await asyncio.to_thread(commit_elsewhere, path, trace_id)
            while next(iter(screen.table.rows), None) != trace_id:
                await asyncio.sleep(0.002)
            await pilot.pause()
            latencies.append(time.time() - committed)
            await asyncio.sleep(random.uniform(0, 0.5))  # commits fall anywhere between polls
    return latencies


def median_of(runs: int, make: Callable[[], Coroutine[None, None, float]]) -> float:
    """Median of `runs` timings of an async measurement."""
    return statistics.median(asyncio.run(make()) for _ in range(runs))


def main() -> None:
    """Measure and print figures and the two goal ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller stores, fewer runs")
    args = parser.parse_args()
    big, small = (100_000, 1_000) if args.quick else (1_000_000, 1_000)
    big_spans, small_spans = (10_000, 50) if args.quick else (50_000, 50)
    runs, moves = (3, 120) if args.quick else (5, 400)

    began = time.perf_counter()
    big_db, small_db = build_trace_store(big), build_trace_store(small)
    span_db, ids = build_span_store([small_spans, big_spans])
    print(f"stores ready in {time.perf_counter() - began:.1f}s (cached in {CACHE})")

    asyncio.run(first_page(str(small_db)))  # warm imports and CSS parsing
    t_small = median_of(runs, lambda: first_page(str(small_db)))
    t_big = median_of(runs, lambda: first_page(str(big_db)))
    print(f"list first page, {small:,} traces: {t_small * 1000:.0f} ms")
    print(f"list first page, {big:,} traces: {t_big * 1000:.0f} ms")

    small_open, small_move = asyncio.run(waterfall(str(span_db), ids[small_spans], moves))
    big_open, big_move = asyncio.run(waterfall(str(span_db), ids[big_spans], moves))
    print(f"open trace, {small_spans:,} spans: {small_open * 1000:.0f} ms")
    print(f"open trace, {big_spans:,} spans: {big_open * 1000:.0f} ms")
    print(f"waterfall cursor move, {small_spans:,} spans: {small_move * 1000:.2f} ms")
    print(f"waterfall cursor move, {big_spans:,} spans: {big_move * 1000:.2f} ms")
    label = "1M/1k" if not args.quick else "100k/1k"
    print(f"ratio list first page {label}: {t_big / t_small:.2f} (goal <= 1.5)")
    ratio = big_move / small_move
    print(f"ratio waterfall cursor move {big_spans // 1000}k/50: {ratio:.2f} (goal <= 2)")

    with tempfile.TemporaryDirectory() as tmp:
        live_db = Path(tmp) / "live.db"
        shutil.copyfile(build_trace_store(100_000), live_db)
        latencies = asyncio.run(live_latency(live_db, 10 if args.quick else 30))
    worst, median = max(latencies), statistics.median(latencies)
    print(
        f"live mode, commit by another process to its row on top (100,000 traces): median "
        f"{median * 1000:.0f} ms, worst {worst * 1000:.0f} ms of {len(latencies)}"
    )
    print(f"live mode commit to row on screen, worst: {worst:.2f} s (goal <= 1 s)")


if __name__ == "__main__":
    main()
