"""Turning the raw facts of one execution into a TraceRecord, off the caller's hot path."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.ids import IdSource
from engine.limits import Limits
from engine.manifest import Script
from engine.tracing import SpanRecord, TraceRecord
from engine.values import capped

_LUA_ERROR = re.compile(r"^([^:\s]+\.lua):(\d+): (.*)$", re.DOTALL)
_LIMITS = (
    ("instruction budget exceeded", "instruction_budget"),
    ("deadline exceeded", "deadline_ms"),
    ("memory limit exceeded", "max_memory"),
    ("output too deep", "max_output_depth"),
    ("output too large", "max_output_bytes"),
    ("pattern too complex", "max_pattern_cost"),
    ("pattern too long", "max_pattern_bytes"),
    ("string too long for pattern", "max_pattern_subject"),
    ("string.rep result too large", "max_string_rep"),
    ("stack overflow", "stack"),
)


def limit_name(message: str | None) -> str | None:
    """Name the limit a failure message reports, or None for an ordinary script error."""
    if message:
        for needle, name in _LIMITS:
            if needle in message:
                return name
    return None


@dataclass(slots=True)
class ScriptFact:
    """What happened to one script of a trigger run (perf-counter times).

    report is the sandbox's per-script report: d (data), l (logs), s (custom spans),
    ds (dropped spans), dl (dropped logs), u (instructions counted by the hook).
    """

    script: Script
    status: str
    message: str | None
    started: int
    ended: int
    report: dict[str, Any] | None = None


@dataclass(slots=True)
class TraceFacts:
    """Everything needed to build a trace record later, captured cheaply during the run."""

    trace_id: str
    trigger: str
    mode: str | None
    version: str
    started_at: int
    origin: int
    ended: int
    status: str
    message: str | None
    allowed: bool
    metadata: dict[str, Any]
    snapshot: dict[str, Any] | None
    result_data: dict[str, Any] | None
    replay_of: str | None
    input_bytes: int | None
    scripts: list[ScriptFact]
    limits: Limits
    ids: IdSource


def build_record(facts: TraceFacts) -> TraceRecord:
    """Assemble the root span, script spans and custom spans into one trace record."""
    base, origin, cap = facts.started_at, facts.origin, facts.limits.max_attribute_bytes
    new_id = facts.ids.span_id
    root_id = new_id()
    root_attrs: dict[str, Any] = {"trigger.mode": facts.mode, "pipeline.version": facts.version}
    if facts.input_bytes is not None:
        root_attrs["input.bytes"] = facts.input_bytes
    root_attrs["scripts"] = len(facts.scripts)
    end = base + facts.ended - origin
    spans = [
        SpanRecord(
            root_id, None, facts.trigger, "INTERNAL", None, None, None,
            facts.status, facts.message, base, end, root_attrs,
        )
    ]  # fmt: skip
    for fact in facts.scripts:
        span = _script_span(fact, new_id(), root_id, base, origin, facts.input_bytes, cap)
        spans.append(span)
        if fact.report and "s" in fact.report:
            spans.extend(_custom_spans(fact, span, new_id, base, origin))
    return TraceRecord(
        trace_id=facts.trace_id,
        trigger_event=facts.trigger,
        status=facts.status,
        status_message=facts.message,
        allowed=facts.allowed,
        started_at=base,
        ended_at=end,
        user_id=_text(facts.metadata.get("user_id")),
        request_ip=_text(facts.metadata.get("request_ip")),
        context_snapshot=facts.snapshot,
        result_data=capped(facts.result_data, facts.limits.max_snapshot_bytes)
        if facts.result_data is not None
        else None,
        replay_of=facts.replay_of,
        pipeline_version=facts.version,
        spans=spans,
    )


def _text(value: Any) -> str | None:
    """Metadata values are recorded as strings (or not at all)."""
    return None if value is None else str(value)


def _script_span(
    fact: ScriptFact,
    span_id: str,
    parent: str,
    base: int,
    origin: int,
    input_bytes: int | None,
    cap: int,
) -> SpanRecord:
    """One script's span with its inputs, outputs, logs and failure details as attributes."""
    script = fact.script
    attrs: dict[str, Any] = {"script.sha256": script.sha256, "script.file": script.file}
    if fact.status != "skipped":
        attrs["input.bytes"] = input_bytes
    report = fact.report or {}
    if "d" in report:
        attrs["output.data"] = capped(report["d"], cap)
    if "l" in report:
        attrs["logs"] = report["l"]
    if report.get("dl"):
        attrs["logs.dropped"] = report["dl"]
    if report.get("ds"):
        attrs["custom_spans.dropped"] = report["ds"]
    if report.get("u"):
        attrs["instructions.min"] = report["u"]
    if fact.status == "error" and fact.message:
        limit = limit_name(fact.message)
        if limit:
            attrs["limit"] = limit
        match = _LUA_ERROR.match(fact.message)
        if match:
            attrs["lua.file"] = match.group(1)
            attrs["lua.line"] = int(match.group(2))
            attrs["lua.error"] = match.group(3)[:cap]
        else:
            attrs["lua.error"] = fact.message[:cap]
    return SpanRecord(
        span_id, parent, script.id, "INTERNAL", script.id, script.layer_index,
        script.parallel_index, fact.status, fact.message, base + fact.started - origin,
        base + fact.ended - origin, attrs,
    )  # fmt: skip


def _custom_spans(
    fact: ScriptFact, parent: SpanRecord, new_id: Callable[[], str], base: int, origin: int
) -> list[SpanRecord]:
    """Child spans a script opened with helpers.trace, nested by their recorded depth."""
    out: list[SpanRecord] = []
    stack = [parent.span_id]
    for item in (fact.report or {}).get("s", []):
        depth, span_id = item["d"], new_id()
        del stack[depth + 1 :]
        ok = item["ok"]
        out.append(
            SpanRecord(
                span_id, stack[depth], item["n"], "INTERNAL", parent.script_id,
                parent.layer_index, parent.parallel_index, "success" if ok else "error",
                None if ok else item.get("err"), base + item["b"] - origin,
                base + (item.get("e") or fact.ended) - origin, {"custom": True},
            )
        )  # fmt: skip
        stack.append(span_id)
    return out
