"""Tells an auther database from ours and from any other by the columns of its trace tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..sql import Statement

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
)
"""auther's pipeline_traces (drizzle/0012_flashy_boomer.sql), in its column order."""
SPAN_COLUMNS = (
    "id",
    "trace_id",
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
)
"""auther's pipeline_spans: keyed by the span's UUID `id` (ours by a surrogate `pk`)."""

Query = Callable[[Statement], list[tuple[Any, ...]]]


def is_auther_schema(query: Query) -> bool:
    """Whether the database holds auther's two trace tables, exactly as its migrations make them
    (our store's tables carry more columns: `source`, `pk`, ...)."""
    return _columns(query, "pipeline_traces") == TRACE_COLUMNS and (
        _columns(query, "pipeline_spans") == SPAN_COLUMNS
    )


def _columns(query: Query, table: str) -> tuple[str, ...]:
    """A table's column names in order; empty when there is no such table."""
    rows = query(Statement("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,)))
    return tuple(str(r[0]) for r in rows)
