"""The shared vocabulary of export and import: ids, times, kinds, status codes, pipeline keys.

Stored spans keep kind names ("SERVER") and pipetrace statuses; OTLP uses integer enums. Status:
success -> OK (1); error and blocked -> ERROR (2) with the message; skipped -> UNSET (0). The
pipetrace status itself travels in the `pipeline.status` attribute, so blocked and skipped
come back as they were. On import ERROR is "error", OK and UNSET are "success".
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from .errors import Invalid

NATIVE_SCOPE = "pipetrace"
"""Instrumentation scope name of spans pipetrace exports itself; their resource is not kept, and
only their `pipeline.*` attributes are read back into columns."""
NATIVE_SOURCES = frozenset(("engine", "auther"))
"""The `source` of traces a pipeline engine recorded (pipetrace's, or auther's read in place):
only they export `pipeline.*` attributes."""

KIND_CODES = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
KIND_NAMES = {code: name for name, code in KIND_CODES.items()}
KIND_NAMES[0] = "INTERNAL"
_KIND_ENUM = {f"SPAN_KIND_{n}": c for n, c in KIND_CODES.items()} | {"SPAN_KIND_UNSPECIFIED": 0}

STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
STATUS_CODES = {"success": STATUS_OK, "error": STATUS_ERROR, "blocked": STATUS_ERROR}
CODED_STATUSES = ("success", "error")
"""Span statuses an OTLP status code says on its own (blocked and skipped need pipeline.status)."""
_STATUS_ENUM = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}

# Span columns that OTLP has no field for, carried as attributes.
SPAN_SCRIPT_ID = "pipeline.script_id"
SPAN_LAYER = "pipeline.layer_index"
SPAN_PARALLEL = "pipeline.parallel_index"
SPAN_STATUS = "pipeline.status"
SPAN_DURATION = "pipeline.duration_ms"
SPAN_EXTRA = "pipeline.span.extra"

# Trace columns, carried on the trace's root span; `pipeline.trace.source` marks the carrier.
TRACE_SOURCE = "pipeline.trace.source"
TRACE_KEYS = {
    "trigger_event": "pipeline.trigger",
    "user_id": "pipeline.user_id",
    "request_ip": "pipeline.request_ip",
    "status": "pipeline.trace.status",
    "status_message": "pipeline.trace.status_message",
    "allowed": "pipeline.trace.allowed",
    "replay_of": "pipeline.trace.replay_of",
    "pipeline_version": "pipeline.trace.version",
    "created_at": "pipeline.trace.created_at",
    "context_snapshot": "pipeline.trace.context_snapshot",
    "result_data": "pipeline.trace.result_data",
    "attributes": "pipeline.trace.attributes",
    "source": TRACE_SOURCE,
}
# Trace columns an import derives from the spans; carried only when the stored value differs.
DERIVED_KEYS = {
    "started_at": "pipeline.trace.started_at",
    "ended_at": "pipeline.trace.ended_at",
    "duration_ms": "pipeline.trace.duration_ms",
    "span_count": "pipeline.trace.span_count",
}

USER_KEYS = ("enduser.id",)
IP_KEYS = ("client.address", "net.peer.ip", "http.client_ip")

_HEX = re.compile(r"[0-9a-fA-F]+")
MAX_NANOS = 2**63 - 1


def export_status_code(status: str) -> int:
    """The OTLP status code a pipetrace status exports as."""
    return STATUS_CODES.get(status, STATUS_UNSET)


def hex_id(value: Any, width: int, key: str, *, pad: bool = False) -> str:
    """A trace (32) or span (16) id as lowercase hex; base64 (protobuf's own JSON) is accepted."""
    if type(value) is not str or not value:
        raise Invalid("is missing" if value in (None, "") else "is not a string", key)
    text: str = value
    if len(text) != width or not _HEX.fullmatch(text):
        if _HEX.fullmatch(text) and pad and len(text) < width:
            text = text.rjust(width, "0")
        else:
            text = _from_base64(text, width, key)
    text = text.lower()
    if text.count("0") == width:
        raise Invalid("is all zeros", key)
    return text


def _from_base64(value: str, width: int, key: str) -> str:
    """protobuf's json_format writes bytes fields as base64; OTLP JSON says hex."""
    if value.endswith("=") and len(value) == (width // 2 + 2) // 3 * 4:
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error:
            raw = b""
        if len(raw) == width // 2:
            return raw.hex()
    raise Invalid(f"is not {width} hex digits ({value!r:.40})", key)


def nanos(value: Any, key: str) -> int:
    """A Unix nanosecond time given as a decimal string or a JSON number."""
    if type(value) is str and value.isdigit() and value.isascii():
        number = int(value)
    elif type(value) is int:
        number = value
    elif type(value) is float and value.is_integer():
        number = int(value)
    else:
        raise Invalid(f"is not a non-negative integer time ({value!r:.40})", key)
    if not 0 <= number <= MAX_NANOS:
        raise Invalid(f"is out of range ({number})", key)
    return number


def micros(value: Any, key: str) -> int:
    """A microsecond time or duration (Jaeger, Zipkin) as nanoseconds."""
    if type(value) is bool or type(value) not in (int, float):
        raise Invalid(f"is not a number of microseconds ({value!r:.40})", key)
    if type(value) is float and not value.is_integer():
        raise Invalid(f"is not a whole number of microseconds ({value!r:.40})", key)
    number = int(value) * 1000
    if not 0 <= number <= MAX_NANOS:
        raise Invalid(f"is out of range ({value})", key)
    return number


def enum_code(value: Any, names: dict[str, int], key: str, limit: int) -> int:
    """An OTLP enum given as its number or its proto name."""
    if value is None:
        return 0
    if type(value) is int and 0 <= value <= limit:
        return value
    if type(value) is str and value in names:
        return names[value]
    raise Invalid(f"is not a known value ({value!r:.40})", key)


def kind_code(value: Any) -> int:
    """A span kind as its OTLP number."""
    return enum_code(value, _KIND_ENUM, "kind", 5)


def status_code(value: Any) -> int:
    """A status code as its OTLP number."""
    return enum_code(value, _STATUS_ENUM, "code", 2)


class Timed(Protocol):
    """A span as far as finding a trace's root goes."""

    @property
    def id(self) -> str: ...
    @property
    def parent_span_id(self) -> str | None: ...
    @property
    def started_at(self) -> int: ...
    @property
    def ended_at(self) -> int | None: ...


SpanT = TypeVar("SpanT", bound=Timed)


def pick_root(spans: Sequence[SpanT]) -> SpanT:
    """The earliest span whose parent is not in the trace (ties: longest, then lowest id, then
    the first in `spans`)."""
    ids = {s.id for s in spans}
    candidates = [s for s in spans if not s.parent_span_id or s.parent_span_id not in ids]
    return min(candidates or spans, key=_root_order)


def _root_order(span: Timed) -> tuple[int, int, str]:
    end = span.ended_at if span.ended_at is not None else span.started_at
    return (span.started_at, -end, span.id)
