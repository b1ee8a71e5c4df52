"""Turns rows into column tuples and back; reading never raises, it marks what was wrong."""

from __future__ import annotations

import json
from typing import Any

from .models import SpanRow, TraceRow
from .schema import SPAN_STATUSES, TRACE_STATUSES, spans, traces

TRACE_COLUMNS: tuple[str, ...] = tuple(c.name for c in traces.columns)
SPAN_COLUMNS: tuple[str, ...] = tuple(c.name for c in spans.columns if c.name != "pk")
SUMMARY_COLUMNS: tuple[str, ...] = tuple(
    c for c in TRACE_COLUMNS if c not in ("context_snapshot", "result_data", "attributes")
)

_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode


def dump_json(value: Any) -> str | None:
    """Compact JSON text, or None for None."""
    return None if value is None else _dumps(value)


def trace_to_tuple(row: TraceRow, created_at: int) -> tuple[Any, ...]:
    """Column values in TRACE_COLUMNS order."""
    return (
        row.id,
        row.trigger_event,
        row.status,
        row.status_message,
        row.started_at,
        row.ended_at,
        _duration(row.duration_ms, row.started_at, row.ended_at),
        row.user_id,
        row.request_ip,
        dump_json(row.context_snapshot),
        dump_json(row.result_data),
        row.created_at if row.created_at is not None else created_at,
        None if row.allowed is None else int(row.allowed),
        row.replay_of,
        row.pipeline_version,
        row.span_count,
        row.source,
        dump_json(row.attributes),
    )


def span_to_tuple(row: SpanRow) -> tuple[Any, ...]:
    """Column values in SPAN_COLUMNS order."""
    return (
        row.trace_id,
        row.id,
        row.parent_span_id,
        row.name,
        row.kind,
        row.script_id,
        row.layer_index,
        row.parallel_index,
        row.status,
        row.status_message,
        row.started_at,
        row.ended_at,
        _duration(row.duration_ms, row.started_at, row.ended_at),
        dump_json(row.attributes) if row.attributes else None,
        dump_json(row.extra),
    )


def _duration(duration_ms: float | None, started_at: int, ended_at: int | None) -> float | None:
    """The given duration, or the one the timestamps imply."""
    if duration_ms is None and ended_at is not None:
        return (ended_at - started_at) / 1_000_000
    return duration_ms


def trace_from_row(values: tuple[Any, ...], columns: tuple[str, ...]) -> TraceRow:
    """A TraceRow from selected columns; problems are listed, never raised."""
    data = dict(zip(columns, values, strict=True))
    if _clean_trace(data):
        if data.get("allowed") is not None:
            data["allowed"] = bool(data["allowed"])
        return TraceRow(**data)
    problems: list[str] = []
    for key in ("context_snapshot", "result_data", "attributes"):
        if key in data:
            data[key] = _load_object(data[key], key, problems)
    _check_times(data, problems)
    if data.get("status") not in TRACE_STATUSES:
        problems.append(f"unknown status {data.get('status')!r}")
    for key in ("trigger_event", "status"):
        if data.get(key) is None:
            problems.append(f"{key} missing")
            data[key] = "?"
    if data.get("started_at") is None:
        data["started_at"] = 0
    if data.get("allowed") is not None:
        data["allowed"] = bool(data["allowed"])
    data["span_count"] = _int_or(data.get("span_count"), 0, "span_count", problems)
    data["source"] = data.get("source") or "engine"
    return TraceRow(**data, problems=tuple(problems))


def _clean_trace(data: dict[str, Any]) -> bool:
    """The common case, checked cheaply: nothing to parse, nothing wrong."""
    duration = data.get("duration_ms")
    return (
        data.get("status") in TRACE_STATUSES
        and type(data.get("trigger_event")) is str
        and type(data.get("started_at")) is int
        and type(data.get("ended_at")) is int
        and type(duration) is float
        and duration >= 0
        and type(data.get("span_count")) is int
        and type(data.get("source")) is str
        and "context_snapshot" not in data
    )


def span_from_row(values: tuple[Any, ...]) -> SpanRow:
    """A SpanRow from SPAN_COLUMNS values; problems are listed, never raised."""
    data = dict(zip(SPAN_COLUMNS, values, strict=True))
    problems: list[str] = []
    data["attributes"] = _load_object(data["attributes"], "attributes", problems) or {}
    data["extra"] = _load_object(data["extra"], "extra", problems)
    _check_times(data, problems)
    if data.get("status") not in SPAN_STATUSES:
        problems.append(f"unknown status {data.get('status')!r}")
    for key in ("id", "name", "status"):
        if data.get(key) is None:
            problems.append(f"{key} missing")
            data[key] = "?"
    if data.get("started_at") is None:
        data["started_at"] = 0
    data["kind"] = data.get("kind") or "INTERNAL"
    return SpanRow(**data, problems=tuple(problems))


def _load_object(text: Any, key: str, problems: list[str]) -> dict[str, Any] | None:
    """Parse a JSON object column; anything else is kept visible under `_raw`."""
    if text is None or text == "":
        return None
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        problems.append(f"{key}: invalid JSON ({exc})")
        return {"_raw": str(text)[:2000]}
    if not isinstance(value, dict):
        problems.append(f"{key}: not a JSON object")
        return {"_raw": value}
    return value


def _check_times(data: dict[str, Any], problems: list[str]) -> None:
    """Missing end times and negative durations are marked, not fixed."""
    for key in ("started_at", "ended_at"):
        if data.get(key) is not None and not isinstance(data[key], int):
            data[key] = _int_or(data[key], None, key, problems)
    if data.get("started_at") is None:
        problems.append("started_at missing")
    if data.get("ended_at") is None:
        problems.append("ended_at missing")
    duration = data.get("duration_ms")
    if duration is not None:
        try:
            data["duration_ms"] = float(duration)
        except (TypeError, ValueError):
            problems.append(f"duration_ms not a number ({duration!r})")
            data["duration_ms"] = None
            return
        if data["duration_ms"] < 0:
            problems.append(f"negative duration ({data['duration_ms']} ms)")


def _int_or(value: Any, default: Any, key: str, problems: list[str]) -> Any:
    """An integer column that may hold text written by something else."""
    if value is None or isinstance(value, int):
        return default if value is None else value
    try:
        return int(value)
    except (TypeError, ValueError):
        problems.append(f"{key} not an integer ({value!r})")
        return default
