"""The SQL of a bulk replay read: a trace's columns a replay needs and its script runs, packed by
the database into one JSON value per trace, so a range of traces costs one query and one row each
(a backtest reads a great many, and every microsecond here is one a replay cannot use)."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import ColumnElement, ScalarSelect, and_, case, func, or_, select

from .models import ScriptRun
from .schema import spans, traces

REPLAY_COLUMNS: tuple[str, ...] = (
    "id",
    "trigger_event",
    "status",
    "started_at",
    "ended_at",
    "duration_ms",
    "allowed",
    "user_id",
    "request_ip",
    "span_count",
    "source",
    "context_snapshot",
)
"""What a replay reads of a trace: its summary and input, not its result data or attributes."""
LARGEST_FLOAT = 1.7976931348623157e308
"""SQLite writes an infinite REAL into JSON as `Inf`, which no JSON reader takes: such a
duration reads as none."""
_decode_runs = msgspec.json.Decoder(tuple[ScriptRun, ...]).decode
_decode_loosely = msgspec.json.Decoder(list[tuple[str, str, float | None, Any]]).decode


def attribute(name: str) -> ColumnElement[Any]:
    """A span attribute read in SQL, without decoding the attributes in Python (None where the
    stored attributes are not valid JSON)."""
    valid = func.json_valid(spans.c.attributes) == 1
    return case((valid, func.json_extract(spans.c.attributes, f"$.{name}")))


def own_script_span() -> ColumnElement[bool]:
    """A script's own span: one with a script id that is not a custom span the script opened."""
    custom = func.coalesce(attribute("custom"), 0)  # absent, null or false: the script's own
    return and_(spans.c.script_id.is_not(None), custom == 0)


def runs_column() -> ScalarSelect[Any]:
    """Each trace's own script spans in start order as a JSON array of [script id, status,
    duration, limit], correlated with the outer query's trace."""
    kind = func.typeof(spans.c.duration_ms)
    own = (
        select(
            _text(spans.c.script_id).label("script_id"),
            _text(spans.c.status).label("status"),
            case(
                (
                    and_(
                        or_(kind == "real", kind == "integer"),
                        func.abs(spans.c.duration_ms) <= LARGEST_FLOAT,
                    ),
                    spans.c.duration_ms,
                )
            ).label("duration_ms"),
            attribute("limit").label("hit"),
        )
        .where(spans.c.trace_id == traces.c.id, own_script_span())
        .order_by(spans.c.started_at, spans.c.pk)
        .correlate(traces)
        .subquery()
    )
    packed = func.json_array(own.c.script_id, own.c.status, own.c.duration_ms, own.c.hit)
    return select(func.json_group_array(packed)).scalar_subquery()


def runs_from_json(text: Any) -> tuple[ScriptRun, ...]:
    """The runs `runs_column` packed; a limit that is not text (a damaged attribute) is none."""
    if not isinstance(text, str | bytes):
        return ()
    try:
        return _decode_runs(text)
    except msgspec.ValidationError:
        return tuple(
            ScriptRun(script_id, status, duration, hit if isinstance(hit, str) else None)
            for script_id, status, duration, hit in _decode_loosely(text)
        )


def _text(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A text column as JSON can hold it: another writer's BLOB or number as SQL would quote it
    (json_array refuses a BLOB, which would fail the whole read)."""
    return case((func.typeof(column) == "text", column), else_=func.quote(column))
