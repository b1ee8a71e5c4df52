"""Start-up: what an operator's everyday commands cost against the least Python can do the same.

Each pair runs in turns in one run (command, baseline, command, ...), so a busy neighbour slows
both alike; the medians of their wall times are compared (the goal lines), and for the record the
medians of the CPU time each process used, which a loaded machine disturbs less:

- `pipetrace --help` against `python -c "import click"`, goal <= 2;
- `pipetrace traces --limit 50` on a store of 100,000 traces against the same page read and
  printed with raw sqlite3 in a fresh `python -c`, goal <= 3;
- `pipetrace show ID` (a trace of 6 spans) against the trace and its spans read and printed
  with raw sqlite3 in a fresh `python -c`, goal <= 3.

Both sides run as an installed program runs, from cached bytecode: PYTHONDONTWRITEBYTECODE is
dropped for them and the bytecode goes to the bench's temp folder (PYTHONPYCACHEPREFIX), where
the first, untimed run of each writes it.

Run: python bench/startup.py [--quick]. The store is built once per schema revision and kept
in a temp folder.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import goal_line

from pipetrace.store import open_store
from pipetrace.store.columns import SPAN_COLUMNS, TRACE_COLUMNS
from pipetrace.store.revisions import head_revision

CACHE = Path(tempfile.gettempdir()) / "pipetrace-bench-startup"
TRACES = 100_000
SPANS_PER_TRACE = 6
NOW_NS = 1_790_000_000_000_000_000
DAY_NS = 86_400 * 1_000_000_000
TRIGGERS = ("before_signup", "before_signin", "after_signup", "token_build")
STATUSES = ("success",) * 17 + ("blocked",) * 2 + ("error",)
PIPETRACE = Path(sys.executable).parent / "pipetrace"
RAW_PAGE = """\
import sqlite3
db = sqlite3.connect("file:{path}?mode=ro", uri=True)
for row in db.execute(
    "SELECT id, trigger_event, status, status_message, started_at, duration_ms, span_count, "
    "user_id, request_ip FROM pipeline_traces ORDER BY started_at DESC, id DESC LIMIT 50"
):
    print(*row, sep="\\t")
"""
RAW_TRACE = """\
import sqlite3
db = sqlite3.connect("file:{path}?mode=ro", uri=True)
print(*db.execute("SELECT * FROM pipeline_traces WHERE id = ?", ({trace_id!r},)).fetchone())
for row in db.execute(
    "SELECT * FROM pipeline_spans WHERE trace_id = ? ORDER BY started_at", ({trace_id!r},)
):
    print(*row, sep="\\t")
"""


def build_store(path: Path) -> str:
    """A migrated store of TRACES traces over 30 days, each with its spans; returns the id of
    one trace in the middle. Built once, then reused."""
    if not path.exists():
        partial = path.with_suffix(".partial")
        for leftover in path.parent.glob(partial.name + "*"):
            leftover.unlink()
        open_store(str(partial)).close()
        _fill(partial)
        repo = open_store(str(partial))
        repo.analyze()
        repo.close()
        partial.rename(path)
    with sqlite3.connect(path) as db:
        (trace_id,) = db.execute(
            "SELECT id FROM pipeline_traces ORDER BY id LIMIT 1 OFFSET ?", (TRACES // 2,)
        ).fetchone()
    return str(trace_id)


def _fill(path: Path) -> None:
    """Insert the traces and their spans as the engine would write them."""
    rng = random.Random(7)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    trace_sql = _insert_sql("pipeline_traces", TRACE_COLUMNS)
    span_sql = _insert_sql("pipeline_spans", SPAN_COLUMNS)
    db.execute("BEGIN")
    for n in range(TRACES):
        trace_id = f"{rng.getrandbits(128) | 1:032x}"
        started = NOW_NS - rng.randrange(30 * DAY_NS)
        status = rng.choice(STATUSES)
        duration = rng.lognormvariate(-0.5, 0.8)
        ended = started + int(duration * 1e6)
        values = {
            "id": trace_id,
            "trigger_event": TRIGGERS[n % len(TRIGGERS)],
            "status": status,
            "status_message": None if status == "success" else "disposable email domain",
            "started_at": started,
            "ended_at": ended,
            "duration_ms": duration,
            "user_id": f"user-{rng.randrange(50_000)}",
            "request_ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            "context_snapshot": '{"email":"ana@example.com","ip":"81.2.69.160"}',
            "result_data": "{}",
            "created_at": ended,
            "allowed": int(status != "blocked"),
            "replay_of": None,
            "pipeline_version": "a1b2c3d4",
            "span_count": SPANS_PER_TRACE,
            "source": "engine",
            "attributes": None,
        }
        db.execute(trace_sql, [values[c] for c in TRACE_COLUMNS])
        db.executemany(span_sql, _spans(trace_id, started, ended))
    db.execute("COMMIT")
    db.close()


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """A one-row INSERT of `columns` into `table`."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _spans(trace_id: str, started: int, ended: int) -> list[list[object]]:
    """A root span and its scripts, as the bundled before_signup pipelines record them."""
    root = f"{int(trace_id[:15], 16):016x}"
    rows = []
    for i in range(SPANS_PER_TRACE):
        values = {
            "trace_id": trace_id,
            "id": root if i == 0 else f"{int(root, 16) + i:016x}",
            "parent_span_id": None if i == 0 else root,
            "name": "before_signup" if i == 0 else f"script_{i}",
            "kind": "INTERNAL",
            "script_id": None if i == 0 else f"script_{i}",
            "layer_index": None if i == 0 else (i - 1) // 4,
            "parallel_index": None if i == 0 else (i - 1) % 4,
            "status": "success",
            "status_message": None,
            "started_at": started,
            "ended_at": ended,
            "duration_ms": (ended - started) / 1e6,
            "attributes": '{"input":{"email":"ana@example.com"},"output":{"risk":10}}',
            "extra": None,
        }
        rows.append([values[c] for c in SPAN_COLUMNS])
    return rows


def paired(
    command: list[str], baseline: list[str], runs: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) seconds of `command` and of `baseline`, run in turns, after one
    warm-up each."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(CACHE / "bytecode")
    times: tuple[list[tuple[float, float]], list[tuple[float, float]]] = ([], [])
    for turn in range(runs + 1):
        for argv, kept in ((command, times[0]), (baseline, times[1])):
            used = _children_cpu()
            started = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
            if turn:
                kept.append((time.perf_counter() - started, _children_cpu() - used))
    return _medians(times[0]), _medians(times[1])


def _children_cpu() -> float:
    """CPU seconds (user and system) the finished child processes have used so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """The median wall time and the median CPU time of the samples."""
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def report(what: str, command: list[str], baseline: list[str], goal: float, runs: int) -> None:
    """Time one pair and print its figures and its ratio line."""
    (wall, cpu), (least_wall, least_cpu) = paired(command, baseline, runs)
    print(
        f"{what}: {wall * 1000:.0f} ms against {least_wall * 1000:.0f} ms "
        f"(CPU {cpu * 1000:.0f} ms against {least_cpu * 1000:.0f} ms, "
        f"ratio {cpu / least_cpu:.2f}, for the record)"
    )
    print(goal_line(what, wall / least_wall, "<=", goal))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="7 runs of each instead of 25")
    args = parser.parse_args()
    runs = 7 if args.quick else 25
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"traces-{TRACES}-{head_revision()}.db"
    trace_id = build_store(path)
    python = [sys.executable, "-c"]
    report(
        "pipetrace --help / python -c 'import click'",
        [str(PIPETRACE), "--help"],
        [*python, "import click"],
        2,
        runs,
    )
    report(
        f"pipetrace traces --limit 50 / raw sqlite3 page ({TRACES:,} traces)",
        [str(PIPETRACE), "traces", "--limit", "50", "--db", str(path)],
        [*python, RAW_PAGE.format(path=path)],
        3,
        runs,
    )
    report(
        "pipetrace show ID / raw sqlite3 trace and spans",
        [str(PIPETRACE), "show", trace_id, "--db", str(path)],
        [*python, RAW_TRACE.format(path=path, trace_id=trace_id)],
        3,
        runs,
    )


if __name__ == "__main__":
    main()
