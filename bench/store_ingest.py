"""Ingest: spans per second through Repository.save_traces, against raw sqlite3 on the same rows.

Both sides write the same traces (10 spans each) into the same migrated schema, one transaction
per batch of traces. The raw side gets its rows as ready-made tuples with the JSON already
encoded, and stores the traces and spans alone: it claims the rollup work from the triggers
(store/run_sql.py) and files no script run, so its baseline is the trace and span inserts
without the runs and rollups. The repository starts from the dataclasses the writer receives
and files every run and rollup, so the ratio includes turning rows into tuples, encoding their
JSON and the rollups' cost. The sqld figure is printed for the record.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from _common import goal_line, temporary_sqld

from pipetrace.store import SpanRow, TraceRow, TraceWithSpans, open_store
from pipetrace.store.codec import SPAN_COLUMNS, TRACE_COLUMNS, span_to_tuple, trace_to_tuple
from pipetrace.store.run_sql import CLAIM

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


def ingest_raw(path: Path, items: list[TraceWithSpans]) -> float:
    """Seconds for plain sqlite3 executemany of the same rows, prepared up front, into the
    trace and span tables alone (the triggers' rollup work claimed and not done)."""
    open_store(str(path)).close()  # same schema and indexes
    created = 1_790_000_000_000_000_000
    batches = [
        (
            [trace_to_tuple(it.trace, created) for it in items[i : i + BATCH]],
            [span_to_tuple(s) for it in items[i : i + BATCH] for s in it.spans],
        )
        for i in range(0, len(items), BATCH)
    ]
    trace_sql = (
        f"INSERT INTO pipeline_traces ({', '.join(TRACE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(TRACE_COLUMNS))})"
    )
    span_sql = (
        f"INSERT INTO pipeline_spans ({', '.join(SPAN_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(SPAN_COLUMNS))})"
    )
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    start = time.perf_counter()
    for trace_rows, span_rows in batches:
        conn.execute("BEGIN")
        conn.execute(f"INSERT INTO {CLAIM} (span_pk) VALUES (0)")
        conn.executemany(trace_sql, trace_rows)
        conn.executemany(span_sql, span_rows)
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
    ours, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            raw.append(ingest_raw(Path(tmp) / f"raw{r}.db", items))
            ours.append(ingest_repository(str(Path(tmp) / f"repo{r}.db"), items))
        raw_rate, our_rate = spans / min(raw), spans / min(ours)
        print(f"raw sqlite3 executemany (no rollups): {raw_rate:12,.0f} spans/s")
        print(f"repository save_traces:  {our_rate:12,.0f} spans/s")
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
