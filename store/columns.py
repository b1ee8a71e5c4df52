"""The trace tables' column names and the values pipetrace writes, as plain Python, so reading a
store needs no SQLAlchemy (store/schema.py defines the tables; a test keeps the two equal)."""

from __future__ import annotations

TRACE_TABLE = "pipeline_traces"
SPAN_TABLE = "pipeline_spans"
SCRIPT_SOURCES_TABLE = "pipeline_script_sources"
TRACE_COLUMNS = (
    "id",
    "trigger_event",
    "status",
    "status_message",
    "started_at",
    "ended_at",
    "duration_ms",
    "user_id",
    "request_ip",
    "context_snapshot",
    "result_data",
    "created_at",
    "allowed",
    "replay_of",
    "pipeline_version",
    "span_count",
    "source",
    "attributes",
)
"""pipeline_traces' columns, in the table's order."""
SPAN_COLUMNS = (
    "trace_id",
    "id",
    "parent_span_id",
    "name",
    "kind",
    "script_id",
    "layer_index",
    "parallel_index",
    "status",
    "status_message",
    "started_at",
    "ended_at",
    "duration_ms",
    "attributes",
    "extra",
)
"""pipeline_spans' columns but its surrogate key `pk`, in the table's order."""
TRACE_STATUSES = ("success", "blocked", "error")
SPAN_STATUSES = ("success", "blocked", "error", "skipped")
HOUR_NS = 3_600_000_000_000
"""The hourly counts' unit: a trace counts in hour started_at // HOUR_NS."""
