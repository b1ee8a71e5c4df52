"""Plain rows and query values that cross the store's boundary, free of any database type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class TraceRow:
    """One trigger execution; `problems` lists what was wrong with the stored row, if anything."""

    id: str
    trigger_event: str
    status: str
    started_at: int
    status_message: str | None = None
    ended_at: int | None = None
    duration_ms: float | None = None
    user_id: str | None = None
    request_ip: str | None = None
    context_snapshot: dict[str, Any] | None = None
    result_data: dict[str, Any] | None = None
    created_at: int | None = None
    allowed: bool | None = None
    replay_of: str | None = None
    pipeline_version: str | None = None
    span_count: int = 0
    source: str = "engine"
    attributes: dict[str, Any] | None = None
    problems: tuple[str, ...] = ()

    @property
    def corrupt(self) -> bool:
        """Whether the stored row could only be read in part."""
        return bool(self.problems)


@dataclass(slots=True)
class SpanRow:
    """One script execution (or custom or imported span) inside a trace."""

    trace_id: str
    id: str
    name: str
    status: str
    started_at: int
    parent_span_id: str | None = None
    kind: str = "INTERNAL"
    script_id: str | None = None
    layer_index: int | None = None
    parallel_index: int | None = None
    status_message: str | None = None
    ended_at: int | None = None
    duration_ms: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] | None = None
    problems: tuple[str, ...] = ()

    @property
    def corrupt(self) -> bool:
        """Whether the stored row could only be read in part."""
        return bool(self.problems)


@dataclass(slots=True)
class TraceWithSpans:
    """A trace and all its spans in start order, as the detail view and `show` need them."""

    trace: TraceRow
    spans: list[SpanRow]


@dataclass(frozen=True, slots=True)
class TraceFilter:
    """Filters for listing and counting traces; every field is optional and they combine (AND)."""

    triggers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    started_from: int | None = None
    """Inclusive lower bound on started_at, Unix ns."""
    started_until: int | None = None
    """Exclusive upper bound on started_at, Unix ns."""
    min_duration_ms: float | None = None
    max_duration_ms: float | None = None
    text: str | None = None
    """Trace id prefix, user id, request IP, or a substring of the status message or the input."""
    user_id: str | None = None
    """Exactly this user id."""
    request_ip: str | None = None
    """Exactly this request IP, as stored (the text is compared, not the address)."""
    ip_network: str | None = None
    """An IPv4 network of whole octets (10.0.0.0/8, /16, /24) or inside a /24 (/25 to /32): request
    IPs in it, written in dotted decimal. Any other raises ValueError (see store/ipv4.py)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Keyset position: the last row of the previous page, newest-first order."""

    started_at: int
    trace_id: str

    def encode(self) -> str:
        """A compact string for command lines and JSON output."""
        return f"{self.started_at}:{self.trace_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse what `encode` produced; raises ValueError on anything else."""
        started, _, trace_id = text.partition(":")
        if not trace_id:
            raise ValueError(f"bad cursor {text!r}: expected STARTED_NS:TRACE_ID")
        return cls(int(started), trace_id)


@dataclass(slots=True)
class Page:
    """One page of traces and the cursor of the next page (None on the last)."""

    rows: list[TraceRow]
    next_cursor: Cursor | None


@dataclass(frozen=True, slots=True)
class CleanupResult:
    """What a retention run removed, and whether it was cancelled before the end."""

    traces: int
    spans: int
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class CleanupProgress:
    """Running totals after each deleted batch, for progress bars."""

    traces: int
    spans: int
    total_traces: int | None
