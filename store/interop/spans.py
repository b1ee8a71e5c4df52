"""Builds stored span rows from decoded OTLP-shaped fields, the one place all formats meet.

What a span row has no column for goes to `extra` under OTLP's own JSON names (events, links,
traceState, flags, dropped counts, resource, scope, schema URLs), plus `statusCode` and `kind`
when the stored status or kind would export as a different code, `otlpValues` with the original
AnyValue of attributes whose type decoding loses (bytesValue), and a format's leftovers
(`zipkin`, `jaeger`). Attributes named in `conventions` (pipeline.*) are lifted back into their
columns when their type is right, so export -> import gives the rows that were exported.
"""

from __future__ import annotations

from typing import Any

from ..models import SpanRow
from ..schema import SPAN_STATUSES
from .conventions import (
    KIND_CODES,
    KIND_NAMES,
    SPAN_DURATION,
    SPAN_EXTRA,
    SPAN_LAYER,
    SPAN_PARALLEL,
    SPAN_SCRIPT_ID,
    SPAN_STATUS,
    STATUS_ERROR,
    export_status_code,
)

_LIFTED = (SPAN_SCRIPT_ID, SPAN_LAYER, SPAN_PARALLEL, SPAN_STATUS, SPAN_DURATION, SPAN_EXTRA)


def make_span(
    trace_id: str,
    span_id: str,
    parent: str | None,
    name: str,
    kind: int,
    start: int,
    end: int | None,
    attributes: dict[str, Any],
    status: int,
    message: str | None,
    extra: dict[str, Any],
) -> SpanRow:
    """A SpanRow with pipeline.* attributes lifted and lossy codes remembered in `extra`."""
    row = SpanRow(
        trace_id=trace_id,
        id=span_id,
        parent_span_id=parent,
        name=name,
        kind=KIND_NAMES[kind],
        status="error" if status == STATUS_ERROR else "success",
        status_message=message,
        started_at=start,
        ended_at=end,
        attributes=attributes,
    )
    for key in _LIFTED:
        if key in attributes:
            _lift(row, key, attributes, extra)
    if export_status_code(row.status) != status:
        extra["statusCode"] = status
    if KIND_CODES[row.kind] != kind:
        extra["kind"] = kind
    row.extra = extra or None
    return row


def _lift(row: SpanRow, key: str, attributes: dict[str, Any], extra: dict[str, Any]) -> None:
    """Move one pipeline.* attribute into its column when its value has the column's type."""
    value = attributes[key]
    if key == SPAN_SCRIPT_ID and type(value) is str:
        row.script_id = value
    elif key == SPAN_LAYER and type(value) is int:
        row.layer_index = value
    elif key == SPAN_PARALLEL and type(value) is int:
        row.parallel_index = value
    elif key == SPAN_STATUS and value in SPAN_STATUSES:
        row.status = value
    elif key == SPAN_DURATION and type(value) in (int, float):
        row.duration_ms = float(value)
    elif key == SPAN_EXTRA and type(value) is dict and not value.keys() & extra.keys():
        extra.update(value)
    else:
        return
    del attributes[key]
