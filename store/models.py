"""Plain rows and query values that cross the store's boundary, free of any database type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from .span_outline import SpanOutline

ReplayChoice = Literal["exclude", "include", "only"]
"""Whether a listing leaves replays out (the default: they are not traffic), adds them, or shows
nothing else."""
REPLAY_CHOICES: tuple[ReplayChoice, ...] = ("exclude", "include", "only")

TRACE_WARNINGS = "warnings"
"""Key of a trace's warnings in its `attributes`."""


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

    @property
    def warnings(self) -> list[str]:
        """What the trace's source warned about it (Jaeger's trace warnings), if anything."""
        found = (self.attributes or {}).get(TRACE_WARNINGS)
        return [str(w) for w in found] if isinstance(found, list) else []


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
    sources: Mapping[str, str] = field(default_factory=dict)
    """The text of each script version its spans ran, by sha256 (their `script.sha256`), for a
    write to keep once; empty for imported traces and for rows read back."""


@dataclass(slots=True)
class TraceOutline:
    """A trace and its spans in start order, read so that a tree of any size shows at once: the
    spans stay the rows they were read as (`SpanOutline`), a span whose stored row is sound made
    a `SpanRow` only when asked for and its JSON columns decoded only when it is read whole."""

    trace: TraceRow
    spans: SpanOutline


class ScriptRun(NamedTuple):
    """A script's own span reduced to what a replay compares, read without its attributes (a
    named tuple: a backtest reads a great many, and the JSON decoder makes these directly)."""

    script_id: str
    status: str
    duration_ms: float | None
    limit: str | None
    """The sandbox limit the script hit (its span's `limit` attribute), if any."""


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
    replays: ReplayChoice = "exclude"
    """Replays (traces with `replay_of` set) are not traffic: left out unless asked for."""
    scripts: tuple[str, ...] = ()
    """Traces with a run of one of these scripts (its own span, not a custom span it opened)."""
    script_statuses: tuple[str, ...] = ()
    """With `scripts`: only runs that ended so (success, blocked, error, skipped)."""
    script_versions: tuple[str, ...] = ()
    """With `scripts`: only runs of a version whose sha256 starts so (hex, 12 digits compared)."""

    @property
    def by_script(self) -> bool:
        """Whether the filter looks into script runs (span-level), not only trace rows."""
        return bool(self.scripts)


CURSOR_ORDER = "newest"
"""The order a cursor token continues: newest first, by started_at then trace id."""
_CURSOR_TOKEN = re.compile(
    r"([a-z]{1,16}):(0|-?[1-9][0-9]{0,18}):([0-9a-f]{32})(?::([0-9a-f]{1,16}))?"
)
"""Exactly what `encode` writes (a number as str() writes it), so each position has one token."""
_MAX_TOKEN_CHARS = 100
"""Longer than any token `encode` makes; longer text is refused before it is parsed."""
_INT64 = range(-(2**63), 2**63)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Keyset position: the last row of the previous page, newest-first order."""

    started_at: int
    trace_id: str
    scope: str = ""
    """Up to 16 hex digits a caller binds the token to (e.g. its filters); the store ignores it."""

    def encode(self) -> str:
        """A compact token for command lines and JSON output: ORDER:STARTED_NS:TRACE_ID[:SCOPE]."""
        token = f"{CURSOR_ORDER}:{self.started_at}:{self.trace_id}"
        return f"{token}:{self.scope}" if self.scope else token

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse what `encode` produced; anything else, such as a token edited by hand or one
        for another order, raises ValueError saying what is wrong."""
        shown = repr(text) if len(repr(text)) <= 60 else repr(text)[:60] + "…"
        if len(text) > _MAX_TOKEN_CHARS:
            raise ValueError(f"{shown} is too long to be a cursor")
        match = _CURSOR_TOKEN.fullmatch(text)
        if match is None:
            raise ValueError(
                f"{shown} is not a cursor (expected {CURSOR_ORDER}:STARTED_NS:TRACE_ID[:SCOPE])"
            )
        order, started, trace_id, scope = match.groups()
        if order != CURSOR_ORDER:
            raise ValueError(
                f"cursor {shown} belongs to the {order!r} order, not to {CURSOR_ORDER} first"
            )
        if int(started) not in _INT64:
            raise ValueError(f"cursor {shown}: start time {started} is out of range")
        return cls(int(started), trace_id, scope or "")


@dataclass(slots=True)
class Page:
    """One page of traces and the cursor of the next page (None on the last)."""

    rows: list[TraceRow]
    next_cursor: Cursor | None


class TraceRuns(NamedTuple):
    """A stored trace as a replay reads it in bulk: its row without result data or attributes,
    and its scripts' own runs."""

    trace: TraceRow
    runs: tuple[ScriptRun, ...]


class DurationPoints(NamedTuple):
    """The results plot's points and why it may hold fewer of them than matching traces."""

    points: list[tuple[int, float | None, str]]
    """(started_at, duration_ms, status); a duration that is no number is None."""
    sampled: bool
    """Some time slice held more traces than its share of the limit: only its newest are here."""
    unplaceable: int
    """Matching traces left out because their start time is no number within 64 bits."""


class StoreSpace(NamedTuple):
    """How large the database is, how much of it is free pages, and who can give those back."""

    size_bytes: int
    """Pages times page size: the database file's size once its write-ahead log is folded in."""
    free_bytes: int
    """Pages that hold nothing; new traces reuse them."""
    mode: str
    """"incremental": cleanup gives free pages back to the disk as it deletes; "none": a store
    made before pipetrace did that keeps them until `pipetrace db vacuum`; "full": SQLite gives
    them back at every commit; "server": a libSQL server manages its own disk space."""

    @property
    def vacuum_helps(self) -> bool:
        """Whether a full VACUUM has work: free pages to give back, or a mode to switch."""
        return self.mode != "server" and (self.mode != "incremental" or self.free_bytes > 0)


class CleanupResult(NamedTuple):
    """What a retention run removed, and whether it was cancelled before the end."""

    traces: int
    spans: int
    cancelled: bool = False
    freed_bytes: int = 0
    """How much the database file shrank by: free pages given back to the disk."""
    space: StoreSpace | None = None
    """The store's size and free pages afterwards, when they could be read."""


class VacuumResult(NamedTuple):
    """A full VACUUM: the database and its log on disk before and after, and what it changed."""

    before_bytes: int
    after_bytes: int
    vacuumed: bool
    """False when there was nothing to give back and the store was left as it was."""
    converted: bool
    """The store was switched to incremental auto-vacuum by this VACUUM."""


class CleanupProgress(NamedTuple):
    """Running totals after each deleted batch, for progress bars."""

    traces: int
    spans: int
    total_traces: int | None


class StoredScript(NamedTuple):
    """A pipeline script a store keeps itself (auther's pipeline_scripts): its source as it is
    now, and when it last changed."""

    id: str
    name: str
    code: str
    updated_at: int | None
    """Nanoseconds; None when the stored value is no integer of milliseconds."""


class StoredPipelines(NamedTuple):
    """The execution plans and scripts a store keeps itself, as they are now: each trigger's
    plan as its stored JSON text (layers of script ids), and every script by id."""

    plans: dict[str, str]
    scripts: dict[str, StoredScript]
    origin: str
    """Where they are, for messages: the database and its tables."""
