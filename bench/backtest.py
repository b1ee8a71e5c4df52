"""Backtest benchmark: replaying stored demo traces through a changed pipelines folder in
worker processes, against the same inputs run straight through the engine in one process with
no store; and the backtest's peak memory at 10,000 and 100,000 traces.

The demo stores are built with `pipetrace demo` (its out-of-process recorder: the fast path);
how long that took is printed. The backtest runs in a child process of its own, so its peak
RSS (ru_maxrss) is that of the process streaming the store and holding the report, not this
script's, which holds the baseline's inputs. (Workers are forked by the forkserver, not by it,
so their RSS is not in its RUSAGE_CHILDREN; a worker holds one batch at a time.)

Usage: python bench/backtest.py [--quick] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

# Worker processes re-import this file as their main module with their own sys.path, where
# `_common` (which edits sys.path on import) is out of reach: set the path here, as engine.py
# does, keeping this folder last so `_common` still imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.append(str(_HERE))

from _common import ROOT, goal_line  # noqa: E402

from pipetrace.app.backtest.cases import stored_pages  # noqa: E402
from pipetrace.app.backtest.run import run_backtest  # noqa: E402
from pipetrace.engine import Engine, TraceRecord, load_pipelines  # noqa: E402
from pipetrace.store import TraceFilter, open_store  # noqa: E402

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


def one_process(db: Path, folder: Path) -> tuple[float, int]:
    """Seconds to run every stored input straight through the engine in this process (the
    inputs are read beforehand, untimed), and how many ran."""
    repo = open_store(str(db), create=False)
    try:
        cases = [case for page in stored_pages(repo, TraceFilter(), 1000) for case in page.cases]
    finally:
        repo.close()
    sink = Counted()
    engine = Engine(load_pipelines(folder), sink=sink)
    start = time.perf_counter()
    for case in cases:
        engine.execute_trigger(case.trigger, case.input, case.metadata, replay_of=case.trace_id)
    engine.flush(600)
    seconds = time.perf_counter() - start
    engine.close()
    assert sink.count == len(cases)
    return seconds, len(cases)


def backtest_child(db: Path, folder: Path, workers: int | None) -> dict[str, Any]:
    """Run the backtest in a child process; its seconds, figures and peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(db), str(folder), str(workers or 0)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def child(db: str, folder: str, workers: int) -> None:
    """The measured side: open the store, backtest everything, print figures as JSON."""
    repo = open_store(db, create=False)
    start = time.perf_counter()
    report = run_backtest(repo, TraceFilter(), folder, workers=workers or None)
    seconds = time.perf_counter() - start
    repo.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [10_000, 100_000]
    with tempfile.TemporaryDirectory(prefix="pipetrace-bench-backtest-") as tmp:
        folder = Path(tmp)
        pipelines = candidate(folder)
        figures: dict[int, dict[str, Any]] = {}
        for size in sizes:
            db, built = build_store(folder, size)
            print(f"[{size:,}] demo store built by `pipetrace demo` in {built:.0f} s")
            alone, ran = one_process(db, pipelines)
            print(f"[{size:,}] one process, no store: {ran:,} traces in {alone:.1f} s")
            result = backtest_child(db, pipelines, args.workers or None)
            result["alone"] = alone
            figures[size] = result
            print(
                f"[{size:,}] backtest: {result['replayed']:,} traces in {result['seconds']:.1f} s"
                f" ({result['flips']:,} blocked -> allowed); peak RSS of the process holding "
                f"the report {result['rss_kib'] / 1024:.0f} MiB"
            )
        headroom = parallel_headroom()
        print(
            f"machine: two busy loops ran {headroom:.2f}x as fast in two processes as in one "
            "(2.00 on two idle cores); figures are noisy on a shared machine"
        )
        largest = figures[sizes[-1]]
        speedup = largest["alone"] / largest["seconds"]
        print(goal_line("backtest vs one process", speedup, ">=", 1.5))
        if len(sizes) > 1:
            growth = figures[sizes[-1]]["rss_kib"] / figures[sizes[0]]["rss_kib"]
            print(goal_line("peak RSS 100k vs 10k", growth, "<=", 1.2))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
