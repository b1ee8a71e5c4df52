"""auther's rows as our TraceRow and SpanRow: integer milliseconds become nanoseconds, JSON
columns are read in the shapes its engine writes, including the ones it cuts short."""

from __future__ import annotations

import json
import re
from typing import Any

from ..codec import span_from_row, trace_from_row
from ..columns import SPAN_COLUMNS as OUR_SPAN_COLUMNS
from ..columns import TRACE_COLUMNS as OUR_TRACE_COLUMNS
from ..models import SpanRow, TraceRow

MS = 1_000_000
"""Nanoseconds in a millisecond: auther stores drizzle `timestamp_ms` integers."""
TRUNCATED = re.compile(r'\.\.\."__truncated":true,"__originalSize":(\d+)\}\Z')
"""The marker auther's truncateJson appends to a context or result cut at 32 KB (which leaves
the text no longer JSON)."""
TRUNCATED_KEY = "__truncated"
CUT_KEY = "_cut_json"
"""Where the cut text of a snapshot or a custom span's attributes is kept, to be shown as is."""


def ns(ms: Any) -> Any:
    """A millisecond integer as nanoseconds; anything else passes through to be marked."""
    return ms * MS if type(ms) is int else ms


def trace_row(values: tuple[Any, ...], columns: tuple[str, ...]) -> TraceRow:
    """One trace from auther's columns (any subset, in `columns` order)."""
    data = dict(zip(columns, values, strict=True))
    for key in ("started_at", "ended_at", "created_at"):
        if key in data:
            data[key] = ns(data[key])
    cut = {k: _cut(data.pop(k)) for k in ("context_snapshot", "result_data") if k in data}
    ours = {c: data.get(c) for c in OUR_TRACE_COLUMNS}
    ours.update(source="auther", span_count=0, allowed=_allowed(data.get("status")))
    for key, value in cut.items():
        ours[key] = value if isinstance(value, str) else None
    row = trace_from_row(tuple(ours.values()), OUR_TRACE_COLUMNS)
    for key, value in cut.items():
        if not isinstance(value, str):
            setattr(row, key, value)
    return row


def span_row(values: tuple[Any, ...], columns: tuple[str, ...]) -> SpanRow:
    """One span from auther's columns: a custom span (`helpers.trace`) keeps its parent, and
    auther's empty script id on it reads as none."""
    data = dict(zip(columns, values, strict=True))
    for key in ("started_at", "ended_at"):
        data[key] = ns(data[key])
    attributes = _cut(data.get("attributes"))
    ours = {c: data.get(c) for c in OUR_SPAN_COLUMNS}
    ours["attributes"] = attributes if isinstance(attributes, str) else None
    if ours.get("script_id") == "":
        ours["script_id"] = None
    row = span_from_row(tuple(ours.values()))
    if not isinstance(attributes, str) and attributes is not None:
        row.attributes = attributes
    return row


def _cut(text: Any) -> Any:
    """A JSON column as stored, or, when auther cut it short, what is left of it as an object
    saying so (the text itself, and the original size where the marker gives it)."""
    if not isinstance(text, str) or not text:
        return text
    try:
        json.loads(text)
    except ValueError:
        marker = TRUNCATED.search(text)
        if marker is not None:
            return {CUT_KEY: text[: marker.start()], TRUNCATED_KEY: int(marker.group(1))}
        if text.startswith("{"):
            return {CUT_KEY: text, TRUNCATED_KEY: True}
    return text


def _allowed(status: Any) -> bool | None:
    """The decision auther returned: only a blocked trace was denied."""
    if status == "blocked":
        return False
    return True if status == "success" else None
