"""The store's tables, defined once; every backend and migration derives its SQL from here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from .columns import HOUR_NS as HOUR_NS  # where older code imports it from

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

traces = Table(
    "pipeline_traces",
    metadata,
    Column("id", String(32), primary_key=True, comment="W3C trace id, 32 lowercase hex"),
    Column("trigger_event", String(200), nullable=False),
    Column("status", String(16), nullable=False, comment="success | blocked | error"),
    Column("status_message", Text),
    Column("started_at", BigInteger, nullable=False, comment="Unix ns"),
    Column("ended_at", BigInteger, comment="Unix ns"),
    Column("duration_ms", Float, comment="sub-millisecond precision"),
    Column("user_id", String(200)),
    Column("request_ip", String(64)),
    Column("context_snapshot", Text, comment="JSON input, secrets redacted, size-capped"),
    Column("result_data", Text, comment="JSON"),
    Column("created_at", BigInteger, nullable=False, comment="Unix ns"),
    Column("allowed", Boolean(create_constraint=False), comment="the decision returned"),
    Column("replay_of", String(32), comment="trace id this trace replays"),
    Column("pipeline_version", String(64), comment="hash of manifest and scripts"),
    Column("span_count", Integer, nullable=False, server_default="0"),
    Column("source", String(16), nullable=False, server_default="engine"),
    Column("attributes", Text, comment="JSON: resource and import details"),
)

spans = Table(
    "pipeline_spans",
    metadata,
    # A surrogate key: imported data repeats (trace id, span id) (duplicate deliveries,
    # Zipkin's shared client/server spans), so the span id alone cannot be the key.
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column(
        "trace_id",
        String(32),
        ForeignKey("pipeline_traces.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("id", String(16), nullable=False, comment="W3C span id, 16 lowercase hex"),
    Column("parent_span_id", String(16)),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False, server_default="INTERNAL"),
    Column("script_id", String(200)),
    Column("layer_index", Integer),
    Column("parallel_index", Integer),
    Column("status", String(16), nullable=False, comment="success | blocked | error | skipped"),
    Column("status_message", Text),
    Column("started_at", BigInteger, nullable=False, comment="Unix ns"),
    Column("ended_at", BigInteger, comment="Unix ns"),
    Column("duration_ms", Float),
    Column("attributes", Text, comment="JSON: input, output, Lua error location, ..."),
    Column("extra", Text, comment="JSON: OTLP fields kept for export (events, links, ...)"),
)

trace_counts = Table(
    "pipeline_trace_counts",
    metadata,
    # Traces per trigger, status and hour, kept by SQL triggers on pipeline_traces (every writer,
    # raw SQL included), so COUNT over a time range sums hours instead of scanning rows.
    Column("trigger_event", String(200), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("hour", BigInteger, primary_key=True, comment="started_at // HOUR_NS"),
    Column("n", Integer, nullable=False),
)

Index("ix_pipeline_traces_started_at_id", traces.c.started_at, traces.c.id)
Index(
    "ix_pipeline_traces_trigger_status_started",
    traces.c.trigger_event,
    traces.c.status,
    traces.c.started_at,
)
Index("ix_pipeline_traces_status_started", traces.c.status, traces.c.started_at)
Index("ix_pipeline_traces_duration", traces.c.duration_ms)
# One user's or IP's traces newest first, a page at a time, without sorting them all (0003).
Index("ix_pipeline_traces_user_started", traces.c.user_id, traces.c.started_at, traces.c.id)
Index("ix_pipeline_traces_ip_started", traces.c.request_ip, traces.c.started_at, traces.c.id)
Index("ix_pipeline_traces_replay_of", traces.c.replay_of)
# Replays are not traffic (0004): the counts skip them and this lists them newest first.
Index(
    "ix_pipeline_traces_replays_started",
    traces.c.started_at,
    traces.c.id,
    sqlite_where=traces.c.replay_of.is_not(None),
)
Index("ix_pipeline_spans_trace_id_started", spans.c.trace_id, spans.c.started_at)

# An import stages a file's spans and its traces' new summaries here, in short transactions of
# their own, then moves them into the tables above in one transaction (0005): the file's data
# never waits in memory, and a reader sees all of it or none of it.
staged_spans = Table(
    "pipeline_import_spans",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True, comment="order in the file"),
    Column("import_id", String(32), nullable=False),
    Column("staged_at", BigInteger, nullable=False, comment="Unix ns; stale rows are dropped"),
    Column("identity", String(32), nullable=False, comment="digest of what makes one span"),
    Column("carried", Text, comment="JSON: trace columns a pipetrace export carried here"),
    Column("user_hint", Text, comment="the span's first user attribute that is text"),
    Column("ip_hint", Text, comment="the span's first address attribute that is text"),
    *(Column(c.name, c.type, nullable=c.nullable) for c in spans.columns if c.name != "pk"),
)
# One index serves the duplicate check and reading a trace's staged spans; with the trace id
# before the digest, the spans of one trace (which files mostly keep together) insert nearby.
Index(
    "ux_pipeline_import_spans_identity",
    staged_spans.c.import_id,
    staged_spans.c.trace_id,
    staged_spans.c.identity,
    unique=True,
)

staged_traces = Table(
    "pipeline_import_traces",
    metadata,
    Column("import_id", String(32), primary_key=True),
    Column("trace_id", String(32), primary_key=True),
    Column("staged_at", BigInteger, nullable=False),
    Column("existed", Boolean(create_constraint=False), nullable=False),
    Column("held", Integer, nullable=False, comment="spans stored when the summary was made"),
    # Set to 1 by the move's guard when the stored trace changed since: the CHECK then fails
    # the move's transaction, and the import makes the summary again.
    Column("stale", Integer, CheckConstraint("stale = 0", name="fresh"), nullable=False),
    *(Column(c.name, c.type, nullable=c.nullable) for c in traces.columns if c.name != "id"),
)

# Every script version the engine ran, stored once by its sha256 (0006_script_sources), so the
# line a script failed at can be shown after its file changed. Spans name it in their attributes.
script_sources = Table(
    "pipeline_script_sources",
    metadata,
    Column("sha256", String(64), primary_key=True, comment="hex sha256 of the script file"),
    Column("source", Text, nullable=False, comment="the script's text as it ran"),
    Column("recorded_at", BigInteger, nullable=False, comment="Unix ns, when first stored"),
    Column(
        "used_until",
        BigInteger,
        nullable=False,
        comment="Unix ns: every trace stored with it started before this (an hour boundary)",
    ),
)

# Script runs and their rollups (0007_script_stats), kept by SQL triggers on pipeline_spans and
# pipeline_traces, so every writer keeps them (the repository's own writes claim the work and
# file a whole transaction at once, store/rollup_writes.py): a row per script span (not the
# custom spans it opened) with its trace's start, trigger and replay flag, which the span-level
# filters page through by keyset, and a row per trace (the trigger's own run, script ''); and
# counts and log-linear duration histograms (store/duration_buckets.py) per trigger, script,
# version and status or bucket, for each hour ("h"), day ("d") and all time ("a"), replays left
# out, which the stats read.
script_runs = Table(
    "pipeline_script_runs",
    metadata,
    Column("span_pk", Integer, primary_key=True, comment="pipeline_spans.pk"),
    Column("trace_id", String(32), nullable=False),
    Column("started_at", BigInteger, nullable=False, comment="the trace's start, Unix ns"),
    Column("trigger_event", String(200), nullable=False),
    Column("script_id", String(200), nullable=False),
    Column("version", String(12), nullable=False, comment="script.sha256, short; '' unknown"),
    Column("status", String(16), nullable=False),
    Column("replay", Integer, nullable=False),
    Column("limit_hit", Integer, nullable=False),
    Column("bucket", Integer, comment="duration bucket; NULL when skipped or no duration"),
)
Index(
    "ix_pipeline_script_runs_script_status_started",
    script_runs.c.script_id,
    script_runs.c.status,
    script_runs.c.started_at,
    script_runs.c.trace_id,
    script_runs.c.version,
    script_runs.c.replay,
)


trace_runs = Table(
    "pipeline_trace_runs",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("started_at", BigInteger, nullable=False),
    Column("trigger_event", String(200), nullable=False),
    Column("script_id", String(200), nullable=False, comment="always '': the trigger's own"),
    Column("version", String(12), nullable=False, comment="pipeline_version, short"),
    Column("status", String(16), nullable=False),
    Column("replay", Integer, nullable=False),
    Column("limit_hit", Integer, nullable=False),
    Column("bucket", Integer),
    sqlite_with_rowid=False,
)
Index("ix_pipeline_trace_runs_started_at", trace_runs.c.started_at)


def _rollup_key() -> list[Column[Any]]:
    """The columns a rollup row is keyed by before its own (status or bucket)."""
    return [
        Column("grain", String(1), primary_key=True, comment="h: hour, d: day, a: all time"),
        Column("t", BigInteger, primary_key=True, comment="started_at // the grain; 0 for a"),
        Column("trigger_event", String(200), primary_key=True),
        Column("script_id", String(200), primary_key=True),
        Column("version", String(12), primary_key=True),
    ]


script_counts = Table(
    "pipeline_script_counts",
    metadata,
    *_rollup_key(),
    Column("status", String(16), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("limits", Integer, nullable=False, comment="runs that hit a sandbox limit"),
    sqlite_with_rowid=False,
)
script_durations = Table(
    "pipeline_script_durations",
    metadata,
    *_rollup_key(),
    Column("bucket", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,
)
duration_buckets = Table(
    "pipeline_duration_buckets",
    metadata,
    Column("bucket", Integer, primary_key=True),
    Column("lower_ms", Float, nullable=False, unique=True),
)
rollup_claim = Table(
    "pipeline_rollup_claim",
    metadata,
    Column("span_pk", Integer, nullable=False, comment="largest span key before the claim"),
    comment="empty but within a repository write that files its own runs (store/run_sql.py)",
)
GRAIN_NS = {"h": HOUR_NS, "d": 24 * HOUR_NS}
