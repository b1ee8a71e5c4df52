"""An auther database in place: the first page and the count at 1,000,000 traces vs 10,000,
and a replay of a stored trace through the database's own scripts vs through the bundled folder.

The database is built the original's way (its migrations in journal order, written from
tests/auther_db.py, and rows with its column values: UUID ids, integer milliseconds, created_at
a few ms after the end), so only auther's own indexes exist: trigger_event, status, created_at.
The first page reads the created_at index newest first; the count stops at COUNT_CAP rows, so
past that it costs the same however many traces there are (the status line says "more than").
For the replay, the smaller database also holds the bundled before_signup scripts as
pipeline_scripts rows, its layers as the trigger's execution plan, and one trace they wrote:
replaying it through the database reads the plan and scripts and checks them each time, as
the folder replay reads and checks the folder.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import ROOT, best_of, goal_line

sys.path.append(str(ROOT / "tests"))

from auther_db import TRACE_COLUMNS, AutherWriter, SpanSpec, migrate, sqlite_runner

from pipetrace.app.replay import run_replay
from pipetrace.engine import bundled_pipelines_dir, load_pipelines
from pipetrace.store import open_store

DAY_MS = 86_400_000
NOW_MS = 1_790_000_000_000
TRIGGERS = ("before_signup", "before_signin", "after_signup", "token_build")
STATUSES = ("success",) * 18 + ("blocked",) * 2
SIGNUP = {"email": "ana@example.com", "ip": "81.2.69.160", "country": "DE", "attempts_last_hour": 1}


def build(path: Path, count: int, seed: int = 1) -> None:
    """auther's schema and `count` traces over the last 30 days, in created_at order."""
    migrate(sqlite_runner(path))
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    sql = f"INSERT INTO pipeline_traces ({TRACE_COLUMNS}) VALUES ({', '.join('?' * 12)})"
    starts = sorted(NOW_MS - rng.randrange(30 * DAY_MS) for _ in range(count))
    for first in range(0, count, 50_000):
        rows = []
        for started in starts[first : first + 50_000]:
            status = rng.choice(STATUSES)
            duration = rng.randrange(1, 40)
            rows.append(
                (
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    rng.choice(TRIGGERS),
                    status,
                    None if status == "success" else "Blocked by pipeline policy (Node: geo)",
                    started,
                    started + duration,
                    duration,
                    f"user-{rng.randrange(50_000)}",
                    f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
                    '{"email":"x@example.com"}',
                    None if status == "blocked" else "{}",
                    started + duration + rng.randrange(1, 5),
                )
            )
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    conn.close()


def measure(path: Path, repeat: int) -> tuple[float, float]:
    """(seconds for the newest 50, seconds for the count) through the repository."""
    repo = open_store(str(path), create=False)
    try:
        repo.list_traces(limit=50)
        repo.count_traces()
        return (
            best_of(lambda: repo.list_traces(limit=50), repeat),
            best_of(lambda: repo.count_traces(), repeat),
        )
    finally:
        repo.close()


def add_replayable(path: Path) -> str:
    """The bundled before_signup scripts, plan and one trace of theirs, written as auther
    writes them; the trace's id."""
    writer = AutherWriter(sqlite_runner(path), seed=7)
    trigger = load_pipelines(bundled_pipelines_dir()).triggers["before_signup"]
    ids = {s.id: writer.script(s.id, s.source) for layer in trigger.layers for s in layer}
    writer.plan("before_signup", [[ids[s.id] for s in layer] for layer in trigger.layers])
    layers = [[SpanSpec(s.id, script_id=ids[s.id]) for s in layer] for layer in trigger.layers]
    return writer.trace("before_signup", NOW_MS - DAY_MS, layers, context=SIGNUP)


def measure_replay(path: Path, trace_id: str, repeat: int) -> tuple[float, float]:
    """(seconds to replay through the database's scripts, through the bundled folder)."""
    repo = open_store(str(path), create=False)
    folder = bundled_pipelines_dir()
    try:
        stored, bundled = run_replay(repo, trace_id), run_replay(repo, trace_id, folder)
        assert stored.diff.allowed_after and bundled.diff.allowed_after
        return (
            best_of(lambda: run_replay(repo, trace_id), repeat),
            best_of(lambda: run_replay(repo, trace_id, folder), repeat),
        )
    finally:
        repo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 vs 10,000 traces")
    args = parser.parse_args()
    big, small = (100_000, 10_000) if args.quick else (1_000_000, 10_000)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (small, big):
            path = Path(tmp) / f"{count}.db"
            started = time.perf_counter()
            build(path, count)
            print(f"built {count:,} auther traces in {time.perf_counter() - started:.1f}s")
            results[count] = measure(path, 30)
            if count == small:
                replayed = measure_replay(path, add_replayable(path), 10 if args.quick else 30)
    for count, (page, total) in results.items():
        print(f"{count:>9,} traces: first page {page * 1000:7.3f} ms, count {total * 1000:7.3f} ms")
    print(
        f"replay of a stored trace: {replayed[0] * 1000:.2f} ms through the database's scripts, "
        f"{replayed[1] * 1000:.2f} ms through the bundled folder"
    )
    page_ratio = results[big][0] / results[small][0]
    count_ratio = results[big][1] / results[small][1]
    print(goal_line(f"first page {big:,}/{small:,}", page_ratio, "<=", 1.5))
    print(goal_line(f"count {big:,}/{small:,}", count_ratio, "<=", 1.5))
    print(goal_line("replay database scripts/bundled folder", replayed[0] / replayed[1], "<=", 1.5))


if __name__ == "__main__":
    main()
