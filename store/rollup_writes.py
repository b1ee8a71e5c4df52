"""The repository's own writes of script runs and rollups: a transaction claims the work from the
triggers (store/run_sql.py's CLAIM), stores or deletes its rows, files their runs set-wise in
SQL, and adds them to the rollups (tallied in Python, store/batch_runs.py) or takes them off
(set-wise in SQL) with one upsert per rollup row it touches instead of six per run. Plain SQL
text, so a writer loads no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence

from .batch_runs import BatchRuns
from .codec import json_text
from .run_sql import (
    CLAIM,
    COUNTS,
    DAY,
    DURATIONS,
    HOUR,
    IS_RUN,
    ROLLUP_COLUMNS,
    RUN_COLUMNS,
    RUNS,
    TRACE_RUN_COLUMNS,
    TRACE_RUNS,
    span_run,
    trace_run,
)
from .sql import InsertMany, Operation, Statement

CLAIM_WORK = Statement(
    f"INSERT INTO {CLAIM} (span_pk) SELECT coalesce(max(pk), 0) FROM pipeline_spans"
)
"""The claim, holding the largest span key before the transaction: the spans it stores get the
keys after it (SQLite gives a new row the largest key plus one)."""
RELEASE_WORK = Statement(f"DELETE FROM {CLAIM}")
"""Ends the claim before the transaction commits, so no other connection ever sees it."""

_RUN = "r.trigger_event, r.script_id, r.version, r.status, r.limit_hit, r.bucket, r.started_at"
_WIDTHS = f"(SELECT 'h' AS grain, {HOUR} AS ns UNION ALL SELECT 'd', {DAY} UNION ALL SELECT 'a', 0)"
"""Each grain with its width in ns (0: all time, whose t is 0)."""
_T = "CASE WHEN g.ns = 0 THEN 0 ELSE r.started_at / g.ns END"
_ROLLUP_KEY = tuple(ROLLUP_COLUMNS.split(", "))
FILE_NEW_SPANS = Statement(
    f"INSERT INTO {RUNS} ({RUN_COLUMNS}) SELECT {span_run('s', 't')} "
    "FROM pipeline_spans s JOIN pipeline_traces t ON t.id = s.trace_id "
    f"WHERE s.pk > (SELECT span_pk FROM {CLAIM}) AND {IS_RUN.format(s='s')}"
)
"""File the runs of the spans the transaction stored (their keys follow the claim's)."""
FILE_NEW_TRACES = (
    f"INSERT INTO {TRACE_RUNS} ({TRACE_RUN_COLUMNS}) SELECT {trace_run('t')} "
    "FROM pipeline_traces t WHERE t.id IN (SELECT value FROM json_each(?))"
)
"""File the own runs of the traces of ? (a JSON array of ids) the transaction stored."""
FILE_EARLIER_SPANS = (
    f"INSERT OR IGNORE INTO {RUNS} ({RUN_COLUMNS}) SELECT {span_run('s', 't')} "
    "FROM pipeline_traces t CROSS JOIN pipeline_spans s ON s.trace_id = t.id "
    "WHERE t.id IN (SELECT value FROM json_each(?)) AND s.script_id IS NOT NULL "
    f"AND NOT EXISTS (SELECT 1 FROM {RUNS} r WHERE r.span_pk = s.pk) AND {IS_RUN.format(s='s')}"
)
"""File the runs of spans a foreign writer stored before their trace (of the ids in ?, a JSON
array) arrived: after the claim ends, so the triggers count them (a rare case)."""
_DOOMED = "(SELECT value FROM json_each(?1))"
_DOOMED_RUNS = (
    f"SELECT {_RUN}, r.replay FROM pipeline_spans s JOIN {RUNS} r ON r.span_pk = s.pk "
    f"WHERE s.trace_id IN {_DOOMED} "
    f"UNION ALL SELECT {_RUN}, r.replay FROM {TRACE_RUNS} r WHERE r.trace_id IN {_DOOMED}"
)
"""The runs of the traces of ?1 (a JSON array of ids) and of their spans."""


def _tallied(runs: str, column: str) -> str:
    """`runs` (replays left out) summed per rollup row of each grain: its key, then `column`
    (status: with the runs and limit hits; bucket: with the runs timed)."""
    if column == "status":
        measures, timed = "count(*) AS n, sum(r.limit_hit) AS limits", ""
    else:
        measures, timed = "count(*) AS n", "AND r.bucket IS NOT NULL "
    return (
        f"SELECT g.grain AS grain, {_T} AS t, r.trigger_event AS trigger_event, "
        f"r.script_id AS script_id, r.version AS version, r.{column} AS {column}, {measures} "
        f"FROM ({runs}) r, {_WIDTHS} g WHERE r.replay = 0 {timed}"
        f"GROUP BY g.grain, t, r.trigger_event, r.script_id, r.version, r.{column}"
    )


def _same_row(table: str, column: str) -> str:
    """`table`'s row of the tally `d` (its key and `column`)."""
    keys = (*ROLLUP_COLUMNS.split(", "), column)
    return " AND ".join(f"{table}.{key} = d.{key}" for key in keys)


UNCOUNT = (
    f"UPDATE {COUNTS} SET n = {COUNTS}.n - d.n, limits = {COUNTS}.limits - d.limits "
    f"FROM ({_tallied(_DOOMED_RUNS, 'status')}) d "
    f"WHERE {_same_row(COUNTS, 'status')}"
)
UNTIME = (
    f"UPDATE {DURATIONS} SET n = {DURATIONS}.n - d.n "
    f"FROM ({_tallied(_DOOMED_RUNS, 'bucket')}) d "
    f"WHERE {_same_row(DURATIONS, 'bucket')}"
)
"""Take the runs of the traces of ?1 off the rollups (a row taken to zero is deleted by its
trigger)."""
FORGET_RUNS = (
    f"DELETE FROM {RUNS} WHERE span_pk IN "
    f"(SELECT pk FROM pipeline_spans WHERE trace_id IN {_DOOMED})",
    f"DELETE FROM {TRACE_RUNS} WHERE trace_id IN {_DOOMED}",
)


def filed(
    writes: Sequence[Operation], runs: BatchRuns, trace_ids: Sequence[str]
) -> list[Operation]:
    """`writes` (which store the traces of `trace_ids` and their spans) with their runs filed
    in SQL from the rows just stored (no run's values travel to a server) and `runs`' rollup
    increments added."""
    return [
        CLAIM_WORK,
        *writes,
        FILE_NEW_SPANS,
        Statement(FILE_NEW_TRACES, (json_text(list(trace_ids)),)),
        InsertMany(
            COUNTS,
            (*_ROLLUP_KEY, "status", "n", "limits"),
            runs.counts,
            upsert=f"ON CONFLICT ({ROLLUP_COLUMNS}, status) "
            "DO UPDATE SET n = n + excluded.n, limits = limits + excluded.limits",
        ),
        InsertMany(
            DURATIONS,
            (*_ROLLUP_KEY, "bucket", "n"),
            runs.durations,
            upsert=f"ON CONFLICT ({ROLLUP_COLUMNS}, bucket) DO UPDATE SET n = n + excluded.n",
        ),
        RELEASE_WORK,
        Statement(FILE_EARLIER_SPANS, (json_text(list(trace_ids)),)),
    ]


def unfiled(trace_ids: Sequence[str], deletes: Sequence[Operation]) -> list[Operation]:
    """`deletes` (which delete the traces of `trace_ids` and their spans) with their runs taken
    off the rollups and deleted first."""
    ids = (json_text(list(trace_ids)),)
    forget = [Statement(sql, ids) for sql in (UNCOUNT, UNTIME, *FORGET_RUNS)]
    return [CLAIM_WORK, *forget, *deletes, RELEASE_WORK]
