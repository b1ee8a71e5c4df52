"""Schema upgrade benchmark: how long a concurrent writer waits during each migration.

The bench builds a SQLite store at revision 0002 with many traces, one in a hundred a replay
(setup, not measured), measures a writer that saves a trace every 5 ms on its own (the
baseline), then the same writer while `upgrade()` takes the store through each later revision
in turn: 0003 (two new indexes on pipeline_traces, two dropped: the table is rebuilt in short
batches, store/backends/sqlite_rebuild.py), 0004_replays (the hourly counts rebuilt a range of
hours per short transaction, store/backfill_run.py, and a partial index built by a rebuild
again), then 0005 and later ones (new tables). The goal line is the longest wait during the
largest migration (the one with the longest wait). For comparison the writer then runs while
the same work is done the plain way, each in one statement: a CREATE INDEX like 0003's, one
like 0004's, and 0004's recount.

With --sqld the same store is served by a libSQL server (sqld) and upgraded through it: there
the backfill runs in batches too, but indexes are built in one go (sqld refuses what the online
rebuild needs).

Usage: python bench/upgrade.py [--quick] [--traces N] [--sqld]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _common import DATABASE_IN_FOLDER, goal_line, temporary_sqld
from _paced_writer import measure_writer, summarize

from pipetrace.store import (
    SpanRow,
    TraceRow,
    TraceWithSpans,
)
from pipetrace.store.backends import Backend, open_backend
from pipetrace.store.codec import SPAN_COLUMNS, TRACE_COLUMNS, span_to_tuple, trace_to_tuple
from pipetrace.store.migrate import backfills, known_revisions, script_directory, upgrade
from pipetrace.store.sql import Statement
from pipetrace.store.upgrade_batches import BatchProgress
from pipetrace.store.url import parse_database_url

WAIT_GOAL_MS = 300.0
BUILD_CHUNK = 50_000
START_NS = 1_780_000_000_000_000_000
WRITER_PREFIXES = "bcd23456789"
"""The first hex digit of the ids the writer saves during each revision after the baseline."""
REPLAY_EVERY = 100
RECOUNT = (
    "SELECT trigger_event, status, started_at / 3600000000000, count(*) FROM pipeline_traces "
    "WHERE replay_of IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
COUNTS = (
    "SELECT trigger_event, status, hour, n FROM pipeline_trace_counts WHERE n != 0 ORDER BY 1, 2, 3"
)


def make_trace(prefix: str, n: int, started_at: int) -> TraceWithSpans:
    """A trace like the engine writes: a small JSON input and result, and one script span."""
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
        replay_of=f"{prefix}{n - 1:031x}" if n % REPLAY_EVERY == REPLAY_EVERY - 1 else None,
        span_count=1,
    )
    span = SpanRow(
        trace_id=trace_id,
        id=f"{n:016x}",
        name="risk_scorer",
        script_id="risk_scorer",
        layer_index=0,
        status="success",
        started_at=started_at + 1000,
        ended_at=started_at + 1_500_000,
        attributes={"output": {"ok": True}, "lua.line": 12},
    )
    return TraceWithSpans(trace, [span])


def build(path: Path, count: int) -> None:
    """A store at revision 0002 holding `count` traces, one in a hundred a replay: loaded
    without its secondary indexes, which are then created as revision 0002 has them (setup, so
    it may take the fast way)."""
    backend = open_backend(parse_database_url(str(path)))
    try:
        upgrade(backend, "0002")
    finally:
        backend.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")
    insert_traces = (
        f"INSERT INTO pipeline_traces ({', '.join(TRACE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(TRACE_COLUMNS))})"
    )
    insert_spans = (
        f"INSERT INTO pipeline_spans ({', '.join(SPAN_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(SPAN_COLUMNS))})"
    )
    for first in range(0, count, BUILD_CHUNK):
        items = [
            make_trace("0", n, START_NS + n * 2_000_000_000)
            for n in range(first, min(count, first + BUILD_CHUNK))
        ]
        conn.execute("BEGIN")
        conn.executemany(insert_traces, [trace_to_tuple(i.trace, START_NS) for i in items])
        conn.executemany(insert_spans, [span_to_tuple(s) for i in items for s in i.spans])
        conn.execute("COMMIT")
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def phase_of(moment: float, phases: dict[str, tuple[float, float]]) -> str:
    """Which part of the upgrade a wait began in."""
    for name, (start, end) in phases.items():
        if start <= moment <= end:
            return name
    return "triggers, swap, schema steps and page release"


@contextlib.contextmanager
def backend_at(url: str) -> Iterator[Backend]:
    """A backend on the store, closed afterwards."""
    backend = open_backend(parse_database_url(url))
    try:
        yield backend
    finally:
        backend.close()


@contextlib.contextmanager
def served(path: Path, sqld: bool) -> Iterator[str]:
    """The store's URL: the file itself, or a sqld serving it (the file moved where sqld keeps
    its database, which it adopts when it starts)."""
    if not sqld:
        yield str(path)
        return
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    folder = path.parent / "sqld"
    (folder / DATABASE_IN_FOLDER).parent.mkdir(parents=True)
    shutil.move(path, folder / DATABASE_IN_FOLDER)
    started = time.perf_counter()
    with temporary_sqld(folder, start_timeout=1800) as url:
        print(
            f"sqld serves the store (it adopted the file in {time.perf_counter() - started:.0f} s)"
        )
        yield url


def space_line(url: str) -> str:
    """How large the database is and how much of it is free pages."""
    with backend_at(url) as backend:
        space = backend.space()
    return f"database {space.size_bytes / 1e6:.0f} MB, {space.free_bytes / 1e6:.0f} MB of it free"


def measure_migration(url: str, revision: str, prefix: str) -> float:
    """Upgrade to `revision` while the writer runs; print what it took and how long the writer
    waited, by phase; the longest wait in ms."""
    phases: dict[str, tuple[float, float]] = {}

    def on_progress(p: BatchProgress) -> None:
        now = time.perf_counter()
        phases[p.phase] = (phases.get(p.phase, (now, now))[0], now)

    took = 0.0

    def run() -> None:
        nonlocal took
        with backend_at(url) as backend:
            start = time.perf_counter()
            upgrade(backend, revision, on_progress=on_progress)
            took = time.perf_counter() - start

    writer = measure_writer(url, prefix, make_trace, run)
    longest, p99, median = summarize(writer.wait_times())
    worst: dict[str, float] = {}
    for moment, wait in writer.waits:
        name = phase_of(moment, phases)
        worst[name] = max(worst.get(name, 0.0), wait * 1000)
    steps = ", ".join(f"{name} {end - start:.1f} s" for name, (start, end) in phases.items())
    print(
        f"{revision}: took {took:.2f} s{' (' + steps + ')' if steps else ''}; writer "
        f"({writer.rate:.0f} saves/s, {len(writer.waits):,} saved): longest {longest:.1f} ms, "
        f"p99 {p99:.2f} ms, median {median:.2f} ms"
    )
    print(
        "  longest wait by phase: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in sorted(worst.items()))
        + f"; {space_line(url)}"
    )
    if writer.failures:
        print(f"  {len(writer.failures)} saves failed: {writer.failures[0]}")
    return longest


def measure_plain(url: str, prefix: str, what: str, statements: list[str]) -> None:
    """Write `statements` in one transaction while the writer runs; print how long that took
    (holding the write lock) and the writer's longest wait."""
    held = 0.0

    def run() -> None:
        nonlocal held
        with backend_at(url) as backend:
            start = time.perf_counter()
            backend.write([Statement(sql) for sql in statements])
            held = time.perf_counter() - start

    writer = measure_writer(url, prefix, make_trace, run)
    longest = summarize(writer.wait_times())[0]
    failed = f" ({len(writer.failures)} saves failed)" if writer.failures else ""
    print(
        f"  {what}: held the write lock {held * 1000:.0f} ms, the writer waited up to "
        f"{longest:.0f} ms{failed}"
    )


def main() -> None:
    """Build, measure the writer alone, during each migration and during the plain steps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 traces instead of 1,000,000.")
    parser.add_argument("--traces", type=int, help="How many traces to build.")
    parser.add_argument("--sqld", action="store_true", help="Upgrade through a libSQL server.")
    args = parser.parse_args()
    count = args.traces or (50_000 if args.quick else 1_000_000)

    with tempfile.TemporaryDirectory(prefix="pipetrace-bench-upgrade-") as folder:
        path = Path(folder) / "traces.db"
        began = time.perf_counter()
        build(path, count)
        print(
            f"built {count:,} traces (one span each, one in {REPLAY_EVERY} a replay) at "
            f"revision 0002 in {time.perf_counter() - began:.0f} s: "
            f"{path.stat().st_size / 1e6:.0f} MB"
        )
        with served(path, args.sqld) as url:
            longest = measure_all(url, count)
    largest = max(longest, key=lambda revision: longest[revision])
    where = "through sqld" if args.sqld else "on SQLite"
    print(
        f"the largest migration {where} (the writer's longest wait): {largest}, "
        f"{longest[largest]:.1f} ms"
    )
    what = f"writer's longest wait / {WAIT_GOAL_MS:.0f} ms"
    print(goal_line(what, longest[largest] / WAIT_GOAL_MS, "<=", 1))


def measure_all(url: str, count: int) -> dict[str, float]:
    """The writer alone, during each revision and during the plain steps; the longest wait
    during each revision, in ms."""
    alone = measure_writer(
        url, "a", make_trace, lambda: time.sleep(3.0 if count <= 50_000 else 8.0)
    )
    a_max, a_p99, a_med = summarize(alone.wait_times())
    print(
        f"writer alone ({alone.rate:.0f} saves/s): longest {a_max:.1f} ms, "
        f"p99 {a_p99:.2f} ms, median {a_med:.2f} ms"
    )
    later = known_revisions()[known_revisions().index("0002") + 1 :]
    longest = {
        revision: measure_migration(url, revision, prefix)
        for revision, prefix in zip(later, WRITER_PREFIXES, strict=False)
    }
    with backend_at(url) as backend:
        exact = backend.query(Statement(COUNTS)) == backend.query(Statement(RECOUNT))
    print(f"hourly counts equal a recount of the traffic rows: {'yes' if exact else 'NO'}")
    print("for comparison, the same work done the plain way, in one transaction:")
    measure_plain(
        url,
        "e",
        "CREATE INDEX like 0003's",
        ["CREATE INDEX bench_user ON pipeline_traces (user_id, started_at, id)"],
    )
    measure_plain(
        url,
        "f",
        "CREATE INDEX like 0004_replays'",
        [
            "CREATE INDEX bench_replays ON pipeline_traces (started_at, id) "
            "WHERE replay_of IS NOT NULL"
        ],
    )
    (recount,) = backfills(script_directory().get_revision("0004_replays"))
    measure_plain(url, "1", "0004_replays' recount", recount.range_sql(None, None))
    with backend_at(url) as backend:
        backend.write([Statement("DROP INDEX bench_user"), Statement("DROP INDEX bench_replays")])
    return longest


if __name__ == "__main__":
    main()
