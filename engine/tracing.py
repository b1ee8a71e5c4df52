"""Trace records the engine hands to a sink: one trace per trigger call, one span per script."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    sources: Mapping[str, str] = field(default_factory=dict)
    """The text of each script of the trigger's plan by its sha256 (the spans' `script.sha256`),
    its literal secrets masked, so a sink can keep every version that ran; shared by the
    trigger's records, not copied."""


class TraceSink(Protocol):
    """Where finished traces go; the store provides the persisting implementation."""

    def submit(self, trace: TraceRecord) -> None: ...
