"""Ingest: spans per second through Repository.save_traces, against raw sqlite3 on the same rows.

Both sides write the same traces (10 spans each) into the same migrated schema, one transaction
per batch of traces, and store the same rows: the traces, their spans, the script runs filed from
them and the rollup rows they add to (the repository's own SQL, store/rollup_writes.py, with the
triggers' work claimed). The raw side gets its rows, rollup increments and statements ready-made
with the JSON already encoded; the repository starts from the dataclasses the writer receives, so
the ratio includes turning rows into tuples, encoding their JSON and tallying the rollups. For
the record the raw side also stores the traces and spans alone (what the runs and rollups cost),
and the sqld figure is printed.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from _common import goal_line, temporary_sqld

from pipetrace.store import SpanRow, TraceRow, TraceWithSpans, open_store
from pipetrace.store.batch_runs import batch_runs
from pipetrace.store.codec import SPAN_COLUMNS, TRACE_COLUMNS, span_to_tuple, trace_to_tuple
from pipetrace.store.rollup_writes import filed
from pipetrace.store.run_sql import CLAIM
from pipetrace.store.sql import InsertMany, Operation

SPANS_PER_TRACE = 10
BATCH = 100


def make_items(count: int) -> list[TraceWithSpans]:
    """Realistic engine traces: a root and nine script spans with small JSON attributes."""
    base = 1_780_000_000_000_000_000
    items = []
    for n in range(count):
        trace_id = f"{n + 1:032x}"
        start = base + n * 1_000_000
        trace = TraceRow(
            id=trace_id,
            trigger_event=("before_signup", "before_signin", "token_build")[n % 3],
            status=("success", "success", "blocked", "error")[n % 4],
            status_message=None if n % 4 < 2 else "disposable email domain",
            started_at=start,
            ended_at=start + 850_000,
            user_id=f"user-{n % 5000}",
            request_ip=f"10.0.{n % 250}.{n % 200}",
            context_snapshot={"email": f"u{n}@example.com", "password": "[REDACTED]", "n": n},
            result_data={"risk": n % 100},
            allowed=n % 4 != 2,
            pipeline_version="a1b2c3d4e5f60718",
        )
        spans = [
            SpanRow(
                trace_id=trace_id,
                id=f"{(n * SPANS_PER_TRACE + j) % (1 << 63) + 1:016x}",
                parent_span_id=None if j == 0 else f"{n * SPANS_PER_TRACE % (1 << 63) + 1:016x}",
                name="before_signup" if j == 0 else f"script_{j}",
                script_id=None if j == 0 else f"script_{j}",
                layer_index=None if j == 0 else j // 4,
                parallel_index=None if j == 0 else j % 4,
                status="success",
                started_at=start + j * 50_000,
                ended_at=start + j * 50_000 + 40_000,
                attributes={
                    "input.bytes": 180,
                    "output": {"risk": j * 3},
                    "script.sha256": "ab" * 8,
                },
            )
            for j in range(SPANS_PER_TRACE)
        ]
        items.append(TraceWithSpans(trace, spans))
    return items


def ingest_repository(url: str, items: list[TraceWithSpans]) -> float:
    """Seconds to save every item through the repository in batches."""
    repo = open_store(url)
    try:
        start = time.perf_counter()
        for i in range(0, len(items), BATCH):
            repo.save_traces(items[i : i + BATCH])
        return time.perf_counter() - start
    finally:
        repo.close()


def ingest_raw(path: Path, items: list[TraceWithSpans], runs: bool) -> float:
    """Seconds for plain sqlite3 of the same rows, prepared up front: with `runs`, the
    repository's statements storing them with their runs and rollups; without, the trace and
    span inserts alone (the triggers' rollup work claimed and not done)."""
    open_store(str(path)).close()  # same schema and indexes
    created = 1_790_000_000_000_000_000
    batches = []
    for i in range(0, len(items), BATCH):
        chunk = items[i : i + BATCH]
        trace_rows = [trace_to_tuple(it.trace, created) for it in chunk]
        span_rows = [span_to_tuple(s) for it in chunk for s in it.spans]
        inserts: list[Operation] = [
            InsertMany("pipeline_traces", TRACE_COLUMNS, trace_rows),
            InsertMany("pipeline_spans", SPAN_COLUMNS, span_rows),
        ]
        tallies = batch_runs(
            trace_rows, span_rows, [s.attributes for it in chunk for s in it.spans]
        )
        if runs and tallies is not None:
            operations = filed(inserts, tallies, [row[0] for row in trace_rows])
        else:
            operations = inserts
        batches.append(
            [
                (op.single_row_sql(), op.rows, True)
                if isinstance(op, InsertMany)
                else (op.sql, op.params, False)
                for op in operations
            ]
        )
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    start = time.perf_counter()
    for statements in batches:
        conn.execute("BEGIN")
        if not runs:
            conn.execute(f"INSERT INTO {CLAIM} (span_pk) VALUES (0)")
        for sql, params, many in statements:
            if many:
                conn.executemany(sql, params)
            else:
                conn.execute(sql, params)
        if not runs:
            conn.execute(f"DELETE FROM {CLAIM}")
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer traces, for a fast check")
    parser.add_argument("--traces", type=int, help="traces per run (default 20000, quick 3000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    count = args.traces or (3000 if args.quick else 20000)
    items = make_items(count)
    spans = count * SPANS_PER_TRACE
    print(f"ingest: {count} traces, {spans} spans, batches of {BATCH} traces")
    ours, raw, bare = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            raw.append(ingest_raw(Path(tmp) / f"raw{r}.db", items, runs=True))
            bare.append(ingest_raw(Path(tmp) / f"bare{r}.db", items, runs=False))
            ours.append(ingest_repository(str(Path(tmp) / f"repo{r}.db"), items))
        raw_rate, bare_rate, our_rate = spans / min(raw), spans / min(bare), spans / min(ours)
        print(f"raw sqlite3, same rows with runs and rollups: {raw_rate:12,.0f} spans/s")
        print(f"raw sqlite3, traces and spans alone:          {bare_rate:12,.0f} spans/s")
        print(f"repository save_traces:                       {our_rate:12,.0f} spans/s")
        print(
            f"for the record: repository / raw traces and spans alone = {our_rate / bare_rate:.2f}"
        )
        sqld_count = max(300, count // 10)
        sqld_items = items[:sqld_count]
        folder = Path(tmp) / "sqld"
        folder.mkdir()
        with temporary_sqld(folder) as url:
            sqld_time = ingest_repository(url, sqld_items)
        sqlite_time = ingest_repository(str(Path(tmp) / "cmp.db"), sqld_items)
        sqld_rate = sqld_count * SPANS_PER_TRACE / sqld_time
        sqlite_small = sqld_count * SPANS_PER_TRACE / sqlite_time
        print(f"sqld (libsql-client batches): {sqld_rate:12,.0f} spans/s ({sqld_count} traces)")
        print(f"embedded SQLite, same traces: {sqlite_small:12,.0f} spans/s")
        print(f"for the record: sqld / embedded SQLite ingest = {sqld_rate / sqlite_small:.2f}")
    print(goal_line("repository ingest/raw sqlite3", our_rate / raw_rate, ">=", 0.6))


if __name__ == "__main__":
    main()
