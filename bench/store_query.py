"""Query flatness: the viewer's busiest query and its COUNT at 1,000,000 traces vs 10,000.

The query is what an operator runs at 3 a.m.: the latest 50 traces of one trigger and one status
in the last 7 days, and how many there are. Stores are filled with a realistic spread over 30 days
(setup, not measured), analysed, then each query is timed through the repository (median of runs).

Flatness compares equal work: the goal uses `before_signup` successes, which fill a whole page of
50 at both sizes. `before_signup` errors are printed for the record: at 10,000 traces fewer than
50 match, so that ratio also counts the extra rows a full page decodes. So is the latest page of
one busy IP (one trace in 50, as from an attacker), which the IP index serves in start order.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from _common import best_of, goal_line

from pipetrace.store import TraceFilter, open_store
from pipetrace.store.codec import TRACE_COLUMNS

DAY_NS = 86_400 * 1_000_000_000
NOW_NS = 1_790_000_000_000_000_000
TRIGGERS = ("before_signup", "before_signin", "after_signup", "token_build")
STATUSES = ("success",) * 17 + ("blocked",) * 2 + ("error",)
BUSY_IP = "185.220.101.4"


def build_store(path: Path, count: int, seed: int = 1) -> None:
    """Fill a migrated store with `count` traces spread over the last 30 days."""
    open_store(str(path)).close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    sql = (
        f"INSERT INTO pipeline_traces ({', '.join(TRACE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(TRACE_COLUMNS))})"
    )
    chunk = 50_000
    for first in range(0, count, chunk):
        rows = []
        for _ in range(first, min(count, first + chunk)):
            started = NOW_NS - rng.randrange(30 * DAY_NS)
            status = rng.choice(STATUSES)
            duration = rng.lognormvariate(-0.5, 0.8)
            rows.append(
                (
                    f"{rng.getrandbits(128) | 1:032x}",
                    rng.choice(TRIGGERS),
                    status,
                    None if status == "success" else "disposable email domain",
                    started,
                    started + int(duration * 1e6),
                    duration,
                    f"user-{rng.randrange(50_000)}",
                    BUSY_IP
                    if rng.randrange(50) == 0
                    else f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                    '{"email":"x@example.com"}',
                    "{}",
                    started,
                    int(status != "blocked"),
                    None,
                    "a1b2c3d4",
                    6,
                    "engine",
                    None,
                )
            )
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    conn.close()
    repo = open_store(str(path))
    repo.analyze()
    repo.close()


def measure(path: Path, status: str, repeat: int) -> tuple[float, float, int]:
    """(seconds for the page, seconds for the count, matching rows) through the repository."""
    f = TraceFilter(
        triggers=("before_signup",), statuses=(status,), started_from=NOW_NS - 7 * DAY_NS
    )
    return measure_filter(path, f, repeat)


def measure_filter(path: Path, f: TraceFilter, repeat: int) -> tuple[float, float, int]:
    """(seconds for the latest 50, seconds for the count, matching rows) of `f`."""
    repo = open_store(str(path))
    try:
        repo.list_traces(f, limit=50)  # warm the page cache like a running viewer would
        repo.count_traces(f)
        page = best_of(lambda: repo.list_traces(f, limit=50), repeat)
        count = best_of(lambda: repo.count_traces(f), repeat)
        return page, count, repo.count_traces(f)
    finally:
        repo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 vs 1,000 traces")
    args = parser.parse_args()
    big, small = (100_000, 1_000) if args.quick else (1_000_000, 10_000)
    repeat = 30 if args.quick else 60
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for count in (small, big):
            path = Path(tmp) / f"{count}.db"
            started = time.perf_counter()
            build_store(path, count)
            print(f"built {count:,} traces in {time.perf_counter() - started:.1f}s")
            for status in ("success", "error"):
                results[count, status] = measure(path, status, repeat)
            results[count, "busy ip"] = measure_filter(
                path, TraceFilter(request_ip=BUSY_IP), repeat
            )
    for (count, status), (page, total, matching) in results.items():
        what = f"ip {BUSY_IP}" if status == "busy ip" else f"before_signup {status}"
        print(
            f"{count:>9,} traces, {what:<21}: latest 50 {page * 1000:7.3f} ms, "
            f"COUNT {total * 1000:7.3f} ms ({matching:,} matching)"
        )
    errors_ratio = results[big, "error"][0] / results[small, "error"][0]
    print(f"for the record, errors page {big:,}/{small:,}: {errors_ratio:.2f}")
    ip_ratio = results[big, "busy ip"][0] / results[small, "busy ip"][0]
    print(f"for the record, busy IP page {big:,}/{small:,}: {ip_ratio:.2f}")
    page_ratio = results[big, "success"][0] / results[small, "success"][0]
    count_ratio = results[big, "success"][1] / results[small, "success"][1]
    print(goal_line(f"latest-50 page {big:,}/{small:,}", page_ratio, "<=", 1.5))
    print(goal_line(f"COUNT {big:,}/{small:,}", count_ratio, "<=", 3))


if __name__ == "__main__":
    main()
