"""Script runs and their rollups: a row per script span (the span-level filters page through its
index) and per trace (the trigger's own runs), and counts and duration histograms per trigger,
script ('' for the trigger's own row), version, status and hour, day and all time, kept by SQL
triggers (the stats read them) for every writer but the repository's own transactions, which
claim the work (store/run_sql.py's CLAIM) and file a whole batch at once
(store/rollup_writes.py), several times cheaper than the triggers' upserts per row.

Additive: new tables and triggers only. The spans and traces stored before it are filed by the
runner's backfills (`backfills`, store/backfill.py) before the revision's own transaction: once
the triggers are in place, a range at a time, each its own short write transaction.

Revision ID: 0007_script_stats
Revises: 0006_script_sources
Create Date: 2026-12-07
"""

from alembic import op

from pipetrace.store.backfill import Backfill
from pipetrace.store.duration_buckets import edges_sql_values
from pipetrace.store.run_sql import (
    BUCKETS,
    CLAIM,
    COUNTS,
    DAY,
    DURATIONS,
    GRAINS,
    HOUR,
    IS_RUN,
    RUN_COLUMNS,
    RUNS,
    TRACE_RUN_COLUMNS,
    TRACE_RUNS,
    UNCLAIMED,
    bucket,
    span_run,
    trace_run,
)

revision = "0007_script_stats"
down_revision = "0006_script_sources"
branch_labels = None
depends_on = None
breaking = False
"""Older versions write spans and traces as before; the triggers file them for the stats too."""
needed_to_read = False
"""Without it the span-level filters and the stats say that `pipetrace db upgrade` is needed;
everything else reads as before."""


def _file_span(s: str) -> str:
    """File span `s` (NEW in a trigger) as a script run, when it is one and its trace is stored
    (a span stored before its trace is filed when the trace arrives)."""
    return (
        f"INSERT OR IGNORE INTO {RUNS} ({RUN_COLUMNS}) SELECT {span_run(s, 't')} "
        f"FROM pipeline_traces t WHERE t.id = {s}.trace_id AND {IS_RUN.format(s=s)}"
    )


FILE_SPANS_OF_TRACE = (
    f"INSERT OR IGNORE INTO {RUNS} ({RUN_COLUMNS}) SELECT {span_run('s', 'NEW')} "
    f"FROM pipeline_spans s WHERE s.trace_id = NEW.id AND {IS_RUN.format(s='s')}"
)
FILE_TRACE = f"INSERT OR IGNORE INTO {TRACE_RUNS} ({TRACE_RUN_COLUMNS}) SELECT {trace_run('NEW')}"
MOVE_RUNS_OF_TRACE = (
    f"UPDATE {RUNS} SET started_at = NEW.started_at, trigger_event = NEW.trigger_event, "
    "replay = NEW.replay_of IS NOT NULL "
    "WHERE span_pk IN (SELECT pk FROM pipeline_spans WHERE trace_id = NEW.id)"
)
MOVE_TRACE_RUN = (
    f"UPDATE {TRACE_RUNS} SET trace_id = NEW.id, started_at = NEW.started_at, "
    "trigger_event = NEW.trigger_event, "
    "version = coalesce(substr(NEW.pipeline_version, 1, 12), ''), status = NEW.status, "
    f"replay = NEW.replay_of IS NOT NULL, bucket = {bucket('NEW.status', 'NEW.duration_ms')} "
    "WHERE trace_id = OLD.id"
)
_SAME_KEY = (
    "trigger_event = {r}.trigger_event AND script_id = {r}.script_id AND version = {r}.version"
)
_OF_GRAINS = (
    f"((grain = 'h' AND t = {{r}}.started_at / {HOUR}) OR "
    f"(grain = 'd' AND t = {{r}}.started_at / {DAY}) OR (grain = 'a' AND t = 0))"
)


def _count(r: str) -> str:
    """Add run `r` (NEW) to the counts of its hour, day and all time, unless it is a replay."""
    return (
        f"INSERT INTO {COUNTS} (grain, t, trigger_event, script_id, version, status, n, limits) "
        f"SELECT g.grain, g.t, {r}.trigger_event, {r}.script_id, {r}.version, {r}.status, 1, "
        f"{r}.limit_hit FROM {GRAINS.format(r=r)} g WHERE {r}.replay = 0 "
        "ON CONFLICT (grain, t, trigger_event, script_id, version, status) "
        "DO UPDATE SET n = n + 1, limits = limits + excluded.limits"
    )


def _uncount(r: str) -> str:
    """Take run `r` (OLD) off the counts of its hour, day and all time, unless it is a replay."""
    return (
        f"UPDATE {COUNTS} SET n = n - 1, limits = limits - {r}.limit_hit WHERE {r}.replay = 0 "
        f"AND {_SAME_KEY.format(r=r)} AND status = {r}.status AND {_OF_GRAINS.format(r=r)}"
    )


def _time(r: str) -> str:
    """Add run `r`'s duration to the histograms of its hour, day and all time."""
    return (
        f"INSERT INTO {DURATIONS} (grain, t, trigger_event, script_id, version, bucket, n) "
        f"SELECT g.grain, g.t, {r}.trigger_event, {r}.script_id, {r}.version, {r}.bucket, 1 "
        f"FROM {GRAINS.format(r=r)} g WHERE {r}.replay = 0 AND {r}.bucket IS NOT NULL "
        "ON CONFLICT (grain, t, trigger_event, script_id, version, bucket) "
        "DO UPDATE SET n = n + 1"
    )


def _untime(r: str) -> str:
    """Take run `r`'s duration off the histograms of its hour, day and all time."""
    return (
        f"UPDATE {DURATIONS} SET n = n - 1 WHERE {r}.replay = 0 AND {r}.bucket IS NOT NULL "
        f"AND {_SAME_KEY.format(r=r)} AND bucket = {r}.bucket AND {_OF_GRAINS.format(r=r)}"
    )


def _drop_empty(table: str, key: str) -> str:
    """A row a decrement took to zero is deleted, so rollups of deleted hours do not linger."""
    return (
        f"CREATE TRIGGER trg_{table}_drop_empty AFTER UPDATE OF n ON {table} WHEN NEW.n <= 0 "
        f"BEGIN DELETE FROM {table} WHERE grain = NEW.grain AND t = NEW.t AND "
        "trigger_event = NEW.trigger_event AND script_id = NEW.script_id AND "
        f"version = NEW.version AND {key} = NEW.{key}; END"
    )


TRIGGERS = {
    # Trigger bodies stay on one line: the offline SQL for libSQL is split at ";" + newline.
    "trg_pipeline_spans_run_insert": (
        "CREATE TRIGGER trg_pipeline_spans_run_insert AFTER INSERT ON pipeline_spans "
        f"WHEN {UNCLAIMED} BEGIN {_file_span('NEW')}; END"
    ),
    "trg_pipeline_spans_run_delete": (
        "CREATE TRIGGER trg_pipeline_spans_run_delete AFTER DELETE ON pipeline_spans "
        f"WHEN OLD.script_id IS NOT NULL AND {UNCLAIMED} "
        f"BEGIN DELETE FROM {RUNS} WHERE span_pk = OLD.pk; END"
    ),
    "trg_pipeline_spans_run_update": (
        "CREATE TRIGGER trg_pipeline_spans_run_update AFTER UPDATE ON pipeline_spans "
        f"BEGIN DELETE FROM {RUNS} WHERE span_pk = OLD.pk; {_file_span('NEW')}; END"
    ),
    "trg_pipeline_traces_run_insert": (
        "CREATE TRIGGER trg_pipeline_traces_run_insert AFTER INSERT ON pipeline_traces "
        f"WHEN {UNCLAIMED} BEGIN {FILE_TRACE}; {FILE_SPANS_OF_TRACE}; END"
    ),
    "trg_pipeline_traces_run_delete": (
        "CREATE TRIGGER trg_pipeline_traces_run_delete AFTER DELETE ON pipeline_traces "
        f"WHEN {UNCLAIMED} BEGIN DELETE FROM {TRACE_RUNS} WHERE trace_id = OLD.id; END"
    ),
    "trg_pipeline_traces_run_update": (
        "CREATE TRIGGER trg_pipeline_traces_run_update AFTER UPDATE OF id, started_at, "
        "trigger_event, replay_of, status, duration_ms, pipeline_version ON pipeline_traces "
        f"BEGIN {MOVE_TRACE_RUN}; {MOVE_RUNS_OF_TRACE}; END"
    ),
    **{
        f"trg_{table}_{verb}": (
            f"CREATE TRIGGER trg_{table}_{verb} AFTER {verb.upper()} ON {table}{when} "
            f"BEGIN {body}; END"
        )
        for table in (RUNS, TRACE_RUNS)
        for verb, when, body in (
            ("insert", f" WHEN {UNCLAIMED}", f"{_count('NEW')}; {_time('NEW')}"),
            ("delete", f" WHEN {UNCLAIMED}", f"{_uncount('OLD')}; {_untime('OLD')}"),
            ("update", "", f"{_uncount('OLD')}; {_untime('OLD')}; {_count('NEW')}; {_time('NEW')}"),
        )
    },
    f"trg_{COUNTS}_drop_empty": _drop_empty(COUNTS, "status"),
    f"trg_{DURATIONS}_drop_empty": _drop_empty(DURATIONS, "bucket"),
}


ROLLUP_KEY = (
    "grain VARCHAR(1) NOT NULL, t BIGINT NOT NULL, trigger_event VARCHAR(200) NOT NULL, "
    "script_id VARCHAR(200) NOT NULL, version VARCHAR(12) NOT NULL"
)
"""The columns every rollup row is keyed by before its own (status or bucket): grain h (hour),
d (day) or a (all time), and t, started_at divided by the grain (0 for all time)."""
TABLES = (
    f"CREATE TABLE IF NOT EXISTS {BUCKETS} (bucket INTEGER NOT NULL, lower_ms FLOAT NOT NULL, "
    f"CONSTRAINT pk_{BUCKETS} PRIMARY KEY (bucket))",
    f"CREATE UNIQUE INDEX IF NOT EXISTS ux_{BUCKETS}_lower_ms ON {BUCKETS} (lower_ms)",
    f"INSERT OR IGNORE INTO {BUCKETS} (bucket, lower_ms) VALUES {edges_sql_values()}",
    f"CREATE TABLE IF NOT EXISTS {RUNS} (span_pk INTEGER NOT NULL, "
    "trace_id VARCHAR(32) NOT NULL, started_at BIGINT NOT NULL, "
    "trigger_event VARCHAR(200) NOT NULL, script_id VARCHAR(200) NOT NULL, "
    "version VARCHAR(12) NOT NULL, status VARCHAR(16) NOT NULL, replay INTEGER NOT NULL, "
    f"limit_hit INTEGER NOT NULL, bucket INTEGER, CONSTRAINT pk_{RUNS} PRIMARY KEY (span_pk))",
    f"CREATE INDEX IF NOT EXISTS ix_{RUNS}_script_status_started ON {RUNS} "
    "(script_id, status, started_at, trace_id, version, replay)",
    f"CREATE TABLE IF NOT EXISTS {TRACE_RUNS} (trace_id VARCHAR(32) NOT NULL, "
    "started_at BIGINT NOT NULL, trigger_event VARCHAR(200) NOT NULL, "
    "script_id VARCHAR(200) DEFAULT '' NOT NULL, version VARCHAR(12) NOT NULL, "
    "status VARCHAR(16) NOT NULL, replay INTEGER NOT NULL, limit_hit INTEGER DEFAULT 0 NOT NULL, "
    f"bucket INTEGER, CONSTRAINT pk_{TRACE_RUNS} PRIMARY KEY (trace_id)) WITHOUT ROWID",
    f"CREATE INDEX IF NOT EXISTS ix_{TRACE_RUNS}_started_at ON {TRACE_RUNS} (started_at)",
    f"CREATE TABLE IF NOT EXISTS {COUNTS} ({ROLLUP_KEY}, status VARCHAR(16) NOT NULL, "
    f"n INTEGER NOT NULL, limits INTEGER NOT NULL, CONSTRAINT pk_{COUNTS} PRIMARY KEY "
    "(grain, t, trigger_event, script_id, version, status)) WITHOUT ROWID",
    f"CREATE TABLE IF NOT EXISTS {CLAIM} (span_pk INTEGER NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {DURATIONS} ({ROLLUP_KEY}, bucket INTEGER NOT NULL, "
    f"n INTEGER NOT NULL, CONSTRAINT pk_{DURATIONS} PRIMARY KEY "
    "(grain, t, trigger_event, script_id, version, bucket)) WITHOUT ROWID",
)
"""The tables and indexes, made if they are missing (so putting them in place again is harmless),
and the bucket edges (store/duration_buckets.py), which SQL looks durations up in."""
KEEP = (
    *TABLES,
    *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
    *TRIGGERS.values(),
)
"""What keeps the runs and rollups right for every write made after it: put in place in one
short transaction before the stored rows are filed (and again by the revision itself)."""

backfills = (
    Backfill(
        target=RUNS,
        unit_column="span_pk",
        source="pipeline_spans",
        column="pk",
        unit=1,
        fill=(
            f"INSERT OR IGNORE INTO {RUNS} ({RUN_COLUMNS}) SELECT {span_run('s', 't')} "
            "FROM pipeline_spans s JOIN pipeline_traces t ON t.id = s.trace_id "
            f"WHERE {{rows}} AND {IS_RUN.format(s='s')}"
        ),
        keep=KEEP,
    ),
    Backfill(
        target=TRACE_RUNS,
        unit_column="started_at",
        source="pipeline_traces",
        column="started_at",
        unit=1,
        fill=(
            f"INSERT OR IGNORE INTO {TRACE_RUNS} ({TRACE_RUN_COLUMNS}) "
            f"SELECT {trace_run('t')} FROM pipeline_traces t WHERE {{rows}}"
        ),
        keep=KEEP,
    ),
)
"""Every script span and trace stored before this revision, filed a range of span keys (trace
starts) per short transaction while the triggers file what is written meanwhile; a range's runs
are deleted and filed again, their rollups following through the runs' own triggers. (A trace
whose start is text keeps the row the triggers gave it: OR IGNORE.)"""


def upgrade() -> None:
    """The tables, the bucket edges and the triggers, and the runs of every stored span and trace
    (filed already in batches when the runner could, else here in one go)."""
    for backfill in backfills:
        backfill.apply()


def downgrade() -> None:
    """Drop the triggers and the tables."""
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in (DURATIONS, CLAIM, COUNTS, TRACE_RUNS, RUNS, BUCKETS):
        op.execute(f"DROP TABLE IF EXISTS {table}")
