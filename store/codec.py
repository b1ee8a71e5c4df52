"""Turns rows into column tuples and back; reading never raises, it marks what was wrong."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from .columns import SPAN_COLUMNS, SPAN_STATUSES, TRACE_COLUMNS, TRACE_STATUSES
from .json_escapes import OBEYED_BEYOND_C0 as OBEYED_BEYOND_C0  # where older code imports them
from .json_escapes import escape_json_text as escape_json_text
from .json_escapes import json_safe as json_safe
from .models import SpanRow, TraceRow

TRACE_OBJECTS = ("context_snapshot", "result_data", "attributes")
"""A trace's JSON object columns."""
SUMMARY_COLUMNS: tuple[str, ...] = tuple(c for c in TRACE_COLUMNS if c not in TRACE_OBJECTS)

TRACE_TEXT = (
    "id",
    "trigger_event",
    "status",
    "status_message",
    "user_id",
    "request_ip",
    "replay_of",
    "pipeline_version",
    "source",
)
SPAN_TEXT = (
    "trace_id",
    "id",
    "parent_span_id",
    "name",
    "kind",
    "script_id",
    "status",
    "status_message",
)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_JSON_DEPTH = 100
"""Deeper JSON columns are not read: printing, exporting and the viewer walk values recursively."""

_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode


class LostValue(str):
    """A row problem whose stored value could not be read and was replaced (by `_raw`, a
    default or decoded text), so exports and replays refuse the row instead of passing it on."""


def lost_value(problems: Iterable[str]) -> str | None:
    """The first problem that replaced a stored value, or None if every value was kept."""
    return next((p for p in problems if isinstance(p, LostValue)), None)


def json_text(value: Any) -> str:
    """Compact JSON text as the store writes it, so a search can match what is stored."""
    return _dumps(value)


def dump_json(value: Any) -> str | None:
    """Compact JSON text, or None for None."""
    return None if value is None else json_text(value)


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
    if _clean_trace(data, values):
        objects = _sound_objects(data)
        if objects is not None:
            data.update(objects)
            if data.get("allowed") is not None:
                data["allowed"] = bool(data["allowed"])
            return TraceRow(**data)
    problems: list[str] = []
    _read_text(data, TRACE_TEXT, problems)
    for key in TRACE_OBJECTS:
        if key in data:
            data[key] = _load_object(data[key], key, problems)
    _check_times(data, problems)
    if data.get("status") not in TRACE_STATUSES:
        problems.append(f"unknown status {data.get('status')!r}")
    for key in ("trigger_event", "status"):
        if data.get(key) is None:
            problems.append(LostValue(f"{key} missing"))
            data[key] = "?"
    if data.get("started_at") is None:
        data["started_at"] = 0
    if data.get("allowed") is not None:
        data["allowed"] = bool(data["allowed"])
    data["span_count"] = _int_or(data.get("span_count"), 0, "span_count", problems)
    data["source"] = data.get("source") or "engine"
    return TraceRow(**data, problems=tuple(problems))


def _clean_trace(data: dict[str, Any], values: tuple[Any, ...]) -> bool:
    """The common case, checked cheaply: nothing to parse, nothing wrong."""
    duration = data.get("duration_ms")
    return (
        data.get("status") in TRACE_STATUSES
        and type(data.get("trigger_event")) is str
        and type(data.get("started_at")) is int
        and type(data.get("ended_at")) is int
        and type(duration) is float
        and 0 <= duration < math.inf
        and type(data.get("span_count")) is int
        and type(data.get("source")) is str
        and bytes not in {type(v) for v in values}
    )


def _sound_objects(data: dict[str, Any]) -> dict[str, Any] | None:
    """The row's JSON columns read, when each is empty or a JSON object with too few brackets
    to nest too deep (what `_load_object` reads without a problem); None otherwise."""
    read: dict[str, Any] = {}
    for key in TRACE_OBJECTS:
        if key not in data:
            continue
        text = data[key]
        if text is None or text == "":
            read[key] = None
            continue
        if type(text) is not str or text.count("{") + text.count("[") > MAX_JSON_DEPTH:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if type(value) is not dict:
            return None
        read[key] = value
    return read


def span_from_row(values: tuple[Any, ...]) -> SpanRow:
    """A SpanRow from SPAN_COLUMNS values; problems are listed, never raised."""
    clean = _clean_span(values)
    if clean is not None:
        return clean
    data = dict(zip(SPAN_COLUMNS, values, strict=True))
    problems: list[str] = []
    _read_text(data, SPAN_TEXT, problems)
    data["attributes"] = _load_object(data["attributes"], "attributes", problems) or {}
    data["extra"] = _load_object(data["extra"], "extra", problems)
    _check_times(data, problems)
    if data.get("status") not in SPAN_STATUSES:
        problems.append(f"unknown status {data.get('status')!r}")
    for key in ("id", "name", "status"):
        if data.get(key) is None:
            problems.append(LostValue(f"{key} missing"))
            data[key] = "?"
    if data.get("started_at") is None:
        data["started_at"] = 0
    data["kind"] = data.get("kind") or "INTERNAL"
    for key in ("layer_index", "parallel_index"):
        data[key] = _int_or(data.get(key), None, key, problems)
    return SpanRow(**data, problems=tuple(problems))


def _clean_span(values: tuple[Any, ...]) -> SpanRow | None:
    """The common case, checked cheaply: every column of the type it should have, times and
    duration sound, JSON columns objects that read without a problem; None otherwise."""
    (trace_id, span_id, parent, name, kind, script_id, layer, parallel, status, message,
     started, ended, duration, attributes, extra) = values  # fmt: skip
    if not (
        type(trace_id) is str
        and type(span_id) is str
        and type(name) is str
        and type(kind) is str
        and kind
        and status in SPAN_STATUSES
        and type(started) is int
        and type(ended) is int
        and (duration is None or (type(duration) is float and 0 <= duration < math.inf))
        and (parent is None or type(parent) is str)
        and (script_id is None or type(script_id) is str)
        and (message is None or type(message) is str)
        and (layer is None or type(layer) is int)
        and (parallel is None or type(parallel) is int)
        and (attributes is None or type(attributes) is str)
        and (extra is None or type(extra) is str)
    ):
        return None
    problems: list[str] = []
    decoded = _load_object(attributes, "attributes", problems) or {}
    details = _load_object(extra, "extra", problems)
    if problems:
        return None
    return SpanRow(
        trace_id, span_id, name, status, started, parent, kind, script_id, layer, parallel,
        message, ended, duration, decoded, details,
    )  # fmt: skip


def _read_text(data: dict[str, Any], keys: tuple[str, ...], problems: list[str]) -> None:
    """Text columns another writer filled with a BLOB are decoded, so every caller gets str."""
    for key in keys:
        value = data.get(key)
        if not isinstance(value, bytes):
            continue
        try:
            data[key] = value.decode("utf-8")
            problems.append(f"{key}: stored as a BLOB")
        except UnicodeDecodeError:
            data[key] = value.decode("utf-8", "backslashreplace")
            problems.append(LostValue(f"{key}: stored as a BLOB that is not UTF-8 text"))


def _load_object(text: Any, key: str, problems: list[str]) -> dict[str, Any] | None:
    """Parse a JSON object column; anything else is kept visible under `_raw`."""
    if text is None or text == "":
        return None
    if isinstance(text, bytes):
        problems.append(f"{key}: stored as a BLOB")
        text = text.decode("utf-8", "backslashreplace")
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        problems.append(LostValue(f"{key}: invalid JSON ({exc})"))
        return {"_raw": str(text)[:2000]}
    except RecursionError:
        deep = True
    else:
        deep = _too_deep(text, value)
    if deep:
        problems.append(LostValue(f"{key}: JSON nested deeper than {MAX_JSON_DEPTH} levels"))
        return {"_raw": str(text)[:2000]}
    if not isinstance(value, dict):
        problems.append(LostValue(f"{key}: not a JSON object"))
        return {"_raw": value}
    return value


def _too_deep(text: str, value: Any) -> bool:
    """Whether containers nest deeper than MAX_JSON_DEPTH, found without recursion."""
    if text.count("{") + text.count("[") <= MAX_JSON_DEPTH:
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return False


def _check_times(data: dict[str, Any], problems: list[str]) -> None:
    """Missing end times and negative durations are marked, not fixed; unreadable times go."""
    for key in ("started_at", "ended_at"):
        if data.get(key) is not None:
            data[key] = _read_ns(data[key], key, problems)
        elif key == "started_at":
            problems.append(LostValue("started_at missing"))
        else:
            problems.append("ended_at missing")
    duration = data.get("duration_ms")
    if duration is not None:
        try:
            data["duration_ms"] = float(duration)
        except (TypeError, ValueError):
            problems.append(LostValue(f"duration_ms not a number ({duration!r})"))
            data["duration_ms"] = None
            return
        if not math.isfinite(data["duration_ms"]):
            problems.append(f"duration_ms not finite ({data['duration_ms']})")
        elif data["duration_ms"] < 0:
            problems.append(f"negative duration ({data['duration_ms']} ms)")


def _read_ns(value: Any, key: str, problems: list[str]) -> int | None:
    """A Unix ns column; one that is no integer, or beyond 64 bits, cannot be shown as a time."""
    number = _int_or(value, None, key, problems)
    if number is not None and not INT64_MIN <= number <= INT64_MAX:
        problems.append(LostValue(f"{key} out of range ({value!r})"))
        return None
    return number


def _int_or(value: Any, default: int | None, key: str, problems: list[str]) -> int | None:
    """An integer column that may hold text written by something else."""
    if value is None or isinstance(value, int):
        return default if value is None else value
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        problems.append(LostValue(f"{key} not an integer ({value!r})"))
        return default
