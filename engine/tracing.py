"""Trace records the engine hands to a sink: one trace per trigger call, one span per script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(slots=True)
class SpanRecord:
    """One span: the trigger's root, a script execution, or a custom child span of a script."""

    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    script_id: str | None
    layer_index: int | None
    parallel_index: int | None
    status: str
    status_message: str | None
    started_at: int
    ended_at: int
    attributes: dict[str, Any]


@dataclass(slots=True)
class TraceRecord:
    """One trigger execution with its decision, redacted input and spans (root span first)."""

    trace_id: str
    trigger_event: str
    status: str
    status_message: str | None
    allowed: bool
    started_at: int
    ended_at: int
    user_id: str | None
    request_ip: str | None
    context_snapshot: dict[str, Any] | None
    result_data: dict[str, Any] | None
    replay_of: str | None
    pipeline_version: str | None
    spans: list[SpanRecord]


class TraceSink(Protocol):
    """Where finished traces go; the store provides the persisting implementation."""

    def submit(self, trace: TraceRecord) -> None: ...
