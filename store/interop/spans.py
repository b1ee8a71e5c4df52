"""Builds stored span rows from decoded OTLP-shaped fields, the one place all formats meet.

What a span row has no column for goes to `extra` under OTLP's own JSON names (events, links,
traceState, flags, dropped counts, resource, scope, schema URLs), plus `statusCode` and `kind`
when the stored status or kind would export as a different code, `otlpValues` with the original
AnyValue of attributes whose type decoding loses (bytesValue), and a format's leftovers
(`zipkin`, `jaeger`). On spans pipetrace exported itself (its own instrumentation scope), the
attributes named in `conventions` (pipeline.*) are lifted back into their columns when their
type is right, so export -> import gives the rows that were exported; on any other span they
are the source's own attributes and stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..columns import SPAN_STATUSES
from ..models import SpanRow
from .conventions import (
    DERIVED_KEYS,
    KIND_CODES,
    KIND_NAMES,
    SPAN_DURATION,
    SPAN_EXTRA,
    SPAN_LAYER,
    SPAN_PARALLEL,
    SPAN_SCRIPT_ID,
    SPAN_STATUS,
    STATUS_ERROR,
    TRACE_KEYS,
    TRACE_SOURCE,
    export_status_code,
)
from .summary import fits

_LIFTED = (SPAN_SCRIPT_ID, SPAN_LAYER, SPAN_PARALLEL, SPAN_STATUS, SPAN_DURATION, SPAN_EXTRA)
_CARRIED = tuple((TRACE_KEYS | DERIVED_KEYS).items())


@dataclass(slots=True)
class CarrierSpan:
    """A span pipetrace exported with its trace's columns (`pipeline.trace.*`) on it."""

    row: SpanRow
    carried: dict[str, Any]


@dataclass(slots=True)
class TraceNote:
    """Trace-level warnings a file gave (Jaeger's `warnings`), kept in the trace's attributes."""

    trace_id: str
    warnings: list[str]


Item = SpanRow | CarrierSpan | TraceNote
"""What a reader yields: spans, spans that carry their trace's columns, and trace warnings."""


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
    native: bool = False,
) -> SpanRow:
    """A SpanRow with lossy codes remembered in `extra`; a `native` span (exported by pipetrace)
    has its pipeline.* attributes lifted into their columns."""
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
    if native:
        for key in _LIFTED:
            if key in attributes:
                _lift(row, key, attributes, extra)
    if export_status_code(row.status) != status:
        extra["statusCode"] = status
    if KIND_CODES[row.kind] != kind:
        extra["kind"] = kind
    row.extra = extra or None
    return row


def with_carried(row: SpanRow) -> Item:
    """A span pipetrace exported, as a CarrierSpan if it carries its trace's columns: they are
    taken out of its attributes (a value of the wrong type stays, as the attribute it then is)."""
    if TRACE_SOURCE not in row.attributes:
        return row
    carried = {}
    for column, key in _CARRIED:
        if key in row.attributes and fits(column, row.attributes[key]):
            carried[column] = row.attributes.pop(key)
    return CarrierSpan(row, carried)


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
