"""The quick way through well-formed OTLP JSON: msgspec decodes a document straight into typed
structures (several times faster than json.loads and a walk over dicts), and the same checks
as `otlp_in` map them to span rows.

It takes only the plain shapes exporters write; for anything else (a value of an unexpected
type, a null where a field has a type, a bytesValue, legacy field names, an unpaired surrogate
escape, NaN) it gives up and `otlp_in` reads the document, which also words every error. Both
give the same rows for what both read.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType
from msgspec.structs import astuple

from .anyvalue import INT64_MAX, INT64_MIN
from .conventions import hex_id, kind_code, nanos, status_code
from .errors import Invalid
from .otlp_in import check_event, check_link, check_resource, check_scope, span_base
from .spans import Item, make_span, with_carried

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_INTEGER = re.compile(r"-?[0-9]+")
_COUNTS = ("droppedAttributesCount", "droppedEventsCount", "droppedLinksCount")
_ONE_SET = 5
"""UNSET fields of an AnyValue with one value."""


class KeyValue(Struct):
    """An attribute."""

    key: str
    value: AnyValue | UnsetType = UNSET


class AnyValue(Struct, forbid_unknown_fields=True):
    """An AnyValue of the types a decoded value keeps (a bytesValue, or a string where a
    double goes, NaN included, is `otlp_in`'s); `_value` checks that at most one is set."""

    stringValue: str | UnsetType = UNSET
    intValue: int | str | UnsetType = UNSET
    boolValue: bool | UnsetType = UNSET
    doubleValue: float | UnsetType = UNSET
    kvlistValue: KeyValueList | UnsetType = UNSET
    arrayValue: ArrayValue | UnsetType = UNSET


class KeyValueList(Struct, forbid_unknown_fields=True):
    """A kvlistValue."""

    values: list[KeyValue] = []


class ArrayValue(Struct, forbid_unknown_fields=True):
    """An arrayValue."""

    values: list[AnyValue] = []


class Status(Struct):
    """A span's status."""

    code: int | str | UnsetType = UNSET
    message: str | UnsetType = UNSET


class Span(Struct):
    """An OTLP span, as far as rows go; events and links stay plain JSON."""

    traceId: str
    spanId: str
    startTimeUnixNano: str | int
    parentSpanId: str | UnsetType = UNSET
    name: str = ""
    kind: int | str | UnsetType = UNSET
    endTimeUnixNano: str | int | UnsetType = UNSET
    attributes: list[KeyValue] | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    traceState: str | UnsetType = UNSET
    flags: int | UnsetType = UNSET
    droppedAttributesCount: int | UnsetType = UNSET
    droppedEventsCount: int | UnsetType = UNSET
    droppedLinksCount: int | UnsetType = UNSET
    events: list[dict[str, Any]] | UnsetType = UNSET
    links: list[dict[str, Any]] | UnsetType = UNSET


class ScopeSpans(Struct):
    """Spans of one instrumentation scope."""

    spans: list[Span] | UnsetType = UNSET
    scope: dict[str, Any] | UnsetType = UNSET
    schemaUrl: str | UnsetType = UNSET
    instrumentationLibrary: Any = UNSET


class ResourceSpans(Struct):
    """Spans of one resource."""

    scopeSpans: list[ScopeSpans] | UnsetType = UNSET
    resource: dict[str, Any] | UnsetType = UNSET
    schemaUrl: str | UnsetType = UNSET
    instrumentationLibrarySpans: Any = UNSET


class TracesData(Struct):
    """A TracesData (or ExportTraceServiceRequest) document."""

    resourceSpans: list[ResourceSpans]


_DECODER = msgspec.json.Decoder(TracesData)


class _Elsewhere(Exception):
    """The document needs `otlp_in`'s reading."""


def quick_otlp(document: bytes | str) -> list[Item] | None:
    """The spans of an OTLP document in file order, or None when `otlp_in` must read it."""
    raw = document.encode() if isinstance(document, str) else document
    if b"\\u" in raw and _SURROGATE_ESCAPE.search(raw):
        return None
    try:
        data = _DECODER.decode(raw)
        return list(_items(data))
    except (msgspec.DecodeError, msgspec.ValidationError, Invalid, _Elsewhere, RecursionError):
        return None


def _items(data: TracesData) -> Any:
    ids = _Ids()
    for rs in data.resourceSpans:
        if rs.instrumentationLibrarySpans is not UNSET:
            raise _Elsewhere
        resource = check_resource(_given(rs.resource))
        for ss in _given(rs.scopeSpans) or ():
            if ss.instrumentationLibrary is not UNSET:
                raise _Elsewhere
            scope = check_scope(_given(ss.scope), "scope")
            base, native = span_base(resource, _given(rs.schemaUrl), scope, _given(ss.schemaUrl))
            for span in _given(ss.spans) or ():
                yield _span(span, dict(base), native, ids)


def _given(value: Any) -> Any:
    """A field's value, None where it was not given."""
    return None if value is UNSET else value


class _Ids:
    """The ids a document gave, each checked once: a trace's id is on each of its spans, and a
    parent's id on each of its children."""

    def __init__(self) -> None:
        self.traces: dict[str, str] = {}
        self.spans: dict[str, str] = {}

    def trace(self, value: str) -> str:
        found = self.traces.get(value)
        if found is None:
            found = self.traces[value] = hex_id(value, 32, "traceId")
        return found

    def span(self, value: str, key: str) -> str:
        found = self.spans.get(value)
        if found is None:
            found = self.spans[value] = hex_id(value, 16, key)
        return found


def _span(sp: Span, extra: dict[str, Any], native: bool, ids: _Ids) -> Item:
    trace_id = ids.trace(sp.traceId)
    span_id = ids.span(sp.spanId, "spanId")
    parent = ids.span(sp.parentSpanId, "parentSpanId") if sp.parentSpanId else None
    start = nanos(sp.startTimeUnixNano, "startTimeUnixNano")
    end_value = _given(sp.endTimeUnixNano)
    end = nanos(end_value, "endTimeUnixNano") if end_value not in (None, "0", 0) else None
    if end is not None and end < start:
        raise Invalid("is before startTimeUnixNano", "endTimeUnixNano")
    attributes = _attributes(sp.attributes) if sp.attributes is not UNSET else {}
    status = sp.status if sp.status is not UNSET else Status()
    message = _given(status.message) or None
    code = status_code(_given(status.code))
    if sp.traceState:
        extra["traceState"] = sp.traceState
    if sp.flags:
        if not 0 <= sp.flags < 2**32:
            raise Invalid("is not a 32-bit unsigned integer", "flags")
        extra["flags"] = sp.flags
    for key in _COUNTS:
        count = getattr(sp, key)
        if count:
            if count < 0:
                raise Invalid("is not a non-negative integer", key)
            extra[key] = count
    if sp.events:
        extra["events"] = [check_event(e, i) for i, e in enumerate(sp.events)]
    if sp.links:
        extra["links"] = [check_link(k, i) for i, k in enumerate(sp.links)]
    row = make_span(
        trace_id, span_id, parent, sp.name, kind_code(_given(sp.kind)), start, end,
        attributes, code, message, extra, native,
    )  # fmt: skip
    return with_carried(row) if native else row


def _attributes(items: list[KeyValue]) -> dict[str, Any]:
    """Key/value pairs as a JSON object."""
    return {item.key: None if item.value is UNSET else _value(item.value) for item in items}


def _value(value: AnyValue) -> Any:
    """An AnyValue as JSON, as `anyvalue.decode_value` gives it; none or one field set, else
    `otlp_in` reads the document (and says what is wrong)."""
    fields = astuple(value)
    unset = fields.count(UNSET)
    if unset != _ONE_SET:
        if unset == len(fields):
            return None
        raise _Elsewhere
    text, integer, boolean, double, kvlist, array = fields
    if text is not UNSET:
        return text
    if integer is not UNSET:
        if type(integer) is str and not _integer_text(integer):
            raise _Elsewhere
        number = int(integer)
        if INT64_MIN <= number <= INT64_MAX:
            return number
        raise _Elsewhere
    if kvlist is not UNSET:
        return _attributes(kvlist.values)
    if boolean is not UNSET:
        return boolean
    if double is not UNSET:
        return double
    return [_value(v) for v in array.values]


def _integer_text(text: str) -> bool:
    """Whether an intValue string is a decimal integer (plain digits checked the quick way)."""
    return (text.isdigit() and text.isascii()) or _INTEGER.fullmatch(text) is not None
