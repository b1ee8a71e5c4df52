"""An auther database in place: the first page and the count at 1,000,000 traces vs 10,000.

The database is built the original's way (its migrations in journal order, written from
tests/auther_db.py, and rows with its column values: UUID ids, integer milliseconds, created_at
a few ms after the end), so only auther's own indexes exist: trigger_event, status, created_at.
The first page reads the created_at index newest first; the count stops at COUNT_CAP rows, so
past that it costs the same however many traces there are (the status line says "more than").
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

from auther_db import TRACE_COLUMNS, migrate, sqlite_runner

from pipetrace.store import open_store

DAY_MS = 86_400_000
NOW_MS = 1_790_000_000_000
TRIGGERS = ("before_signup", "before_signin", "after_signup", "token_build")
STATUSES = ("success",) * 18 + ("blocked",) * 2


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
    for count, (page, total) in results.items():
        print(f"{count:>9,} traces: first page {page * 1000:7.3f} ms, count {total * 1000:7.3f} ms")
    page_ratio = results[big][0] / results[small][0]
    count_ratio = results[big][1] / results[small][1]
    print(goal_line(f"first page {big:,}/{small:,}", page_ratio, "<=", 1.5))
    print(goal_line(f"count {big:,}/{small:,}", count_ratio, "<=", 1.5))


if __name__ == "__main__":
    main()
