"""Backtest benchmark: replaying stored demo traces through a changed pipelines folder in
worker processes, against the same inputs run straight through the engine in one process with
no store; the backtest's peak memory at 10,000 and 100,000 traces; and the CPU each trace costs
in each stage, which a busy machine does not distort the way it distorts wall-clock time.

The demo stores are built with `pipetrace demo` (its out-of-process recorder: the fast path);
how long that took is printed. One process and backtest run in turns, `--repeat` times each
(3 by default), and the ratio is of their medians, so both see much the same load. The backtest
runs in a child process of its own, so its peak RSS (VmHWM) is that of the process marking
out ranges and holding the report (which also replays ranges while the workers start), not this
script's, which holds the baseline's inputs. (Workers are forked by the forkserver, not by it,
so their RSS is not in its RUSAGE_CHILDREN; a worker holds one range at a time.)

The stage costs are CPU time (time.process_time) per trace, each stage run on its own in this
process: the baseline's engine (recorder thread included); the parent's share (marking out
ranges, merging range reports); a worker's reading of its ranges, its replays through the
untraced engine, and its comparing and counting; and the hand-over of range reports (pickled
and unpickled). Their sum is the CPU a backtest spends per trace over all its processes, so
twice the baseline's cost over that sum is the ratio two idle cores would allow, worker
start-up aside; that start-up is shown as the time a backtest of the newest trace alone takes.

Usage: python bench/backtest.py [--quick] [--workers N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

# Worker processes re-import this file as their main module with their own sys.path, where
# `_common` (which edits sys.path on import) is out of reach: set the path here, as engine.py
# does, keeping this folder last so `_common` still imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.append(str(_HERE))

from _common import ROOT, goal_line  # noqa: E402

from pipetrace.app.backtest.cases import stored_cases  # noqa: E402
from pipetrace.app.backtest.messages import Case  # noqa: E402
from pipetrace.app.backtest.ranges import KeyRange, key_ranges  # noqa: E402
from pipetrace.app.backtest.replayer import Replayer  # noqa: E402
from pipetrace.app.backtest.report import BacktestReport  # noqa: E402
from pipetrace.app.backtest.run import BATCH_SIZE, run_backtest  # noqa: E402
from pipetrace.engine import Engine, Execution, Pipelines, TraceRecord, load_pipelines  # noqa: E402
from pipetrace.store import Repository, TraceFilter, open_store  # noqa: E402

T = TypeVar("T")
SEED = 7
DROP_YOPMAIL = ('["yopmail.com"] = true, ', "")
BUSY_LOOP = 5_000_000


class Counted:
    """A sink that counts records the engine built and keeps none (memory stays flat)."""

    def __init__(self) -> None:
        self.count = 0

    def submit(self, record: TraceRecord) -> None:
        self.count += 1


def build_store(folder: Path, count: int) -> tuple[Path, float]:
    """A demo store of `count` traces, and the seconds `pipetrace demo` took."""
    db = folder / f"demo-{count}.db"
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipetrace",
            "demo",
            "--traces",
            str(count),
            "--seed",
            str(SEED),
            "--no-open",
            "--db",
            str(db),
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return db, time.perf_counter() - start


def candidate(folder: Path) -> Path:
    """A copy of the bundled set with one rule changed (yopmail.com is no longer disposable)."""
    target = folder / "candidate"
    subprocess.run(
        [sys.executable, "-m", "pipetrace", "pipelines", "init", str(target)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    script = target / "disposable_email.lua"
    script.write_text(script.read_text().replace(*DROP_YOPMAIL))
    return target


def stored_inputs(db: Path) -> list[Case]:
    """Every replayable stored trace, read range by range as the workers read them."""
    repo = open_store(str(db), create=False)
    try:
        return [
            case
            for key_range in key_ranges(repo, TraceFilter(), BATCH_SIZE)
            for case in stored_cases(repo, TraceFilter(), key_range).cases
        ]
    finally:
        repo.close()


def baseline(pipelines: Pipelines, cases: list[Case]) -> tuple[float, float]:
    """Wall and CPU seconds to run every input straight through the engine in this process,
    traced into a sink that keeps nothing (how an auth server runs them, minus the store)."""
    sink = Counted()
    engine = Engine(pipelines, sink=sink)
    start, cpu = time.perf_counter(), time.process_time()
    for case in cases:
        engine.execute_trigger(case.trigger, case.input, case.metadata, replay_of=case.trace_id)
    engine.flush(600)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.close()
    assert sink.count == len(cases)
    return seconds, cpu


def stage_costs(db: Path, pipelines: Pipelines, cases: list[Case]) -> dict[str, float]:
    """CPU microseconds per trace of each stage of a backtest, run one after the other here."""
    repo = open_store(str(db), create=False)
    try:
        cpu: dict[str, float] = {}
        ranges = _timed(cpu, "parent", lambda: list(key_ranges(repo, TraceFilter(), BATCH_SIZE)))
        _timed(cpu, "reading", lambda: _read(repo, ranges))
    finally:
        repo.close()
    replayer = Replayer(pipelines)
    runs = _timed(cpu, "replay", lambda: [replayer.execute(case) for case in cases])
    reports = _timed(cpu, "compare+count", lambda: _count(replayer, cases, runs))
    _timed(cpu, "hand-over", lambda: [pickle.loads(pickle.dumps(r)) for r in reports])
    merged = BacktestReport("")
    _timed(cpu, "parent", lambda: [merged.merge(r) for r in reports])
    return {stage: seconds * 1e6 / len(cases) for stage, seconds in cpu.items()}


def _timed(cpu: dict[str, float], stage: str, work: Callable[[], T]) -> T:
    start = time.process_time()
    result = work()
    cpu[stage] = cpu.get(stage, 0.0) + time.process_time() - start
    return result


def _read(repo: Repository, ranges: list[KeyRange]) -> None:
    for key_range in ranges:
        stored_cases(repo, TraceFilter(), key_range)


def _count(replayer: Replayer, cases: list[Case], runs: list[Execution]) -> list[BacktestReport]:
    """Compare and count the replays a range at a time, as workers do: a report per range."""
    reports = []
    for start in range(0, len(cases), BATCH_SIZE):
        report = BacktestReport("")
        for case, execution in zip(cases[start : start + BATCH_SIZE], runs[start:], strict=False):
            replayer.count(case, execution, report)
        reports.append(report)
    return reports


def backtest_child(
    db: Path, folder: Path, workers: int | None, *, newest_only: bool = False
) -> dict[str, Any]:
    """Run the backtest in a child process (every trace, or only the newest one: the cost of
    starting); its seconds, figures and peak RSS."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            str(db),
            str(folder),
            str(workers or 0),
            str(int(newest_only)),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def child(db: str, folder: str, workers: int, newest_only: bool) -> None:
    """The measured side: open the store, backtest, print figures as JSON."""
    repo = open_store(db, create=False)
    filters = TraceFilter()
    newest = repo.key_after(filters)
    if newest_only and newest is not None:
        filters = TraceFilter(started_from=newest.started_at)
    start = time.perf_counter()
    report = run_backtest(repo, filters, folder, workers=workers or None)
    seconds = time.perf_counter() - start
    repo.close()
    own = peak_rss_kib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "replayed": report.replayed,
                "flips": report.decisions["blocked-to-allowed"],
                "rss_kib": own,
            }
        )
    )


def peak_rss_kib() -> int:
    """This process's peak RSS since it started running this program: VmHWM, which exec resets.
    (ru_maxrss keeps the peak of the process that forked it before exec, here this script's,
    holding every baseline input.)"""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def parallel_headroom() -> float:
    """How much faster two busy loops run in two processes than one after the other: 2.0 on
    two idle cores, 1.0 when the machine has no core to spare."""
    start = time.perf_counter()
    _spin(BUSY_LOOP)
    _spin(BUSY_LOOP)
    serial = time.perf_counter() - start
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [10, 10]))
        start = time.perf_counter()
        list(pool.map(_spin, [BUSY_LOOP, BUSY_LOOP]))
        parallel = time.perf_counter() - start
    return serial / parallel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 traces only")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (0: per core)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of one process then backtest (median)"
    )
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [10_000, 100_000]
    workers = args.workers or None
    print(f"load average at the start: {_load()}")
    with tempfile.TemporaryDirectory(prefix="pipetrace-bench-backtest-") as tmp:
        folder = Path(tmp)
        pipelines_dir = candidate(folder)
        pipelines = load_pipelines(pipelines_dir)
        ratios: dict[int, float] = {}
        rss: dict[int, int] = {}
        for size in sizes:
            db, built = build_store(folder, size)
            print(f"[{size:,}] demo store built by `pipetrace demo` in {built:.0f} s")
            cases = stored_inputs(db)
            alone: list[float] = []
            cpu: list[float] = []
            runs: list[dict[str, Any]] = []
            for _ in range(max(1, args.repeat)):  # interleaved, so both see the same load
                seconds, used = baseline(pipelines, cases)
                alone.append(seconds)
                cpu.append(used)
                runs.append(backtest_child(db, pipelines_dir, workers))
            backtest = [run["seconds"] for run in runs]
            rss[size] = max(run["rss_kib"] for run in runs)
            ratios[size] = statistics.median(alone) / statistics.median(backtest)
            print(
                f"[{size:,}] one process, no store: {len(cases):,} traces in "
                f"{_seconds(alone)} s; backtest: {runs[0]['replayed']:,} traces "
                f"({runs[0]['flips']:,} blocked -> allowed) in {_seconds(backtest)} s; "
                f"peak RSS of the process holding the report {rss[size] / 1024:.0f} MiB"
            )
            if size == sizes[0]:
                started = backtest_child(db, pipelines_dir, workers, newest_only=True)
                costs = stage_costs(db, pipelines, cases)
                total = sum(costs.values())
                each = ", ".join(f"{stage} {us:.0f}" for stage, us in costs.items())
                alone_us = statistics.median(cpu) * 1e6 / len(cases)
                print(
                    f"[{size:,}] CPU per trace: one process {alone_us:.0f} us; backtest "
                    f"{total:.0f} us over all its processes ({each}), so two idle cores allow "
                    f"at most {2 * alone_us / total:.2f}x; a backtest of the newest trace "
                    f"alone took {started['seconds']:.2f} s (starting the workers)"
                )
        headroom = parallel_headroom()
        print(
            f"machine: two busy loops ran {headroom:.2f}x as fast in two processes as in one "
            f"(2.00 on two idle cores); load average at the end: {_load()}; figures are noisy "
            "on a shared machine"
        )
        print(goal_line("backtest vs one process", ratios[sizes[-1]], ">=", 1.5))
        if len(sizes) > 1:
            print(goal_line("peak RSS 100k vs 10k", rss[sizes[-1]] / rss[sizes[0]], "<=", 1.2))


def _load() -> str:
    return ", ".join(f"{n:.1f}" for n in os.getloadavg())


def _seconds(runs: list[float]) -> str:
    """Each run's seconds, and their median when there are several."""
    shown = " / ".join(f"{s:.1f}" for s in runs)
    return shown if len(runs) == 1 else f"{shown} (median {statistics.median(runs):.1f})"


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1")
    else:
        main()
