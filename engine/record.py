"""Turning the raw facts of one execution into a TraceRecord, off the caller's hot path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.ids import IdSource
from engine.results import DATA, INT_KEYS, data_start, extras, script_data, shaped
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


def build_record(facts: tuple[Any, ...]) -> TraceRecord:
    """Turn the raw facts the engine queued (plain Python values only) into one trace record.

    facts is (trace_id, trigger, mode, version, started_at, origin, ended, status, message,
    allowed, metadata, input copy, result data, replay_of, input bytes, scripts, limits, ids,
    secret keys); each script is (script, status, message, started, ended, run() result), times
    from perf_counter_ns.
    """
    (
        trace_id, trigger, mode, version, base, origin, ended, status, message, allowed, meta,
        snapshot, result_data, replay_of, input_bytes, scripts, limits, ids, secrets,
    ) = facts  # fmt: skip
    cap = limits.max_attribute_bytes
    runs = [(fact, extras(fact[5]) if fact[5] else None) for fact in scripts]
    count = 1 + len(runs) + sum(len(extra[4]) // 6 for _, extra in runs if extra)
    new_ids = iter(span_ids(ids, count))
    root_id = next(new_ids)
    root_attrs: dict[str, Any] = {"trigger.mode": mode, "pipeline.version": version}
    if input_bytes is not None:
        root_attrs["input.bytes"] = input_bytes
    root_attrs["scripts"] = len(runs)
    end = base + ended - origin
    spans = [
        SpanRecord(
            root_id, None, trigger, "INTERNAL", None, None, None, status, message, base, end,
            root_attrs,
        )
    ]  # fmt: skip
    offset = base - origin
    for fact, extra in runs:
        span = _script_span(fact, extra, next(new_ids), root_id, offset, input_bytes, cap)
        spans.append(span)
        if extra and extra[4]:
            spans.extend(_custom_spans(fact[4], extra[4], span, new_ids, offset))
    if snapshot is not None:
        paths = secrets.redact_in_place(snapshot)
        snapshot = capped(snapshot, limits.max_snapshot_bytes)
        if paths:
            snapshot["_redacted"] = paths
    return TraceRecord(
        trace_id=trace_id,
        trigger_event=trigger,
        status=status,
        status_message=message,
        allowed=allowed,
        started_at=base,
        ended_at=end,
        user_id=_text(meta.get("user_id")),
        request_ip=_text(meta.get("request_ip")),
        context_snapshot=snapshot,
        result_data=capped(result_data, limits.max_snapshot_bytes),
        replay_of=replay_of,
        pipeline_version=version,
        spans=spans,
    )


def span_ids(ids: IdSource, count: int) -> list[str]:
    """Take count span ids in one call when the source offers it (fewer locks per trace)."""
    many = getattr(ids, "span_ids", None)
    if many is not None:
        return many(count)
    return [ids.span_id() for _ in range(count)]


def _text(value: Any) -> str | None:
    """Metadata values are recorded as strings (or not at all)."""
    return None if value is None else str(value)


def _script_span(
    fact: tuple[Any, ...],
    extra: tuple[Any, ...] | None,
    span_id: str,
    parent: str,
    offset: int,
    input_bytes: int | None,
    cap: int,
) -> SpanRecord:
    """One script's span with its inputs, outputs, logs and failure details as attributes."""
    script, status, message, started, ended, res = fact
    attrs: dict[str, Any] = {"script.sha256": script.sha256, "script.file": script.file}
    if status != "skipped":
        attrs["input.bytes"] = input_bytes
    if res and res[2] & DATA:
        data = shaped(script_data(res, data_start(res)), bool(res[2] & INT_KEYS))
        attrs["output.data"] = capped(data, cap)
    if extra:
        used, dropped_spans, dropped_logs, logs, _ = extra
        if logs:
            attrs["logs"] = list(logs)
        if dropped_logs:
            attrs["logs.dropped"] = dropped_logs
        if dropped_spans:
            attrs["custom_spans.dropped"] = dropped_spans
        if used:
            attrs["instructions.min"] = used
    if status == "error" and message:
        limit = limit_name(message)
        if limit:
            attrs["limit"] = limit
        match = _LUA_ERROR.match(message)
        if match:
            attrs["lua.file"] = match.group(1)
            attrs["lua.line"] = int(match.group(2))
            attrs["lua.error"] = match.group(3)[:cap]
        else:
            attrs["lua.error"] = message[:cap]
    return SpanRecord(
        span_id, parent, script.id, "INTERNAL", script.id, script.layer_index,
        script.parallel_index, status, message, offset + started, offset + ended, attrs,
    )  # fmt: skip


def _custom_spans(
    ended: int, flat: tuple[Any, ...], parent: SpanRecord, new_ids: Iterator[str], offset: int
) -> list[SpanRecord]:
    """Child spans a script opened with helpers.trace, nested by their recorded depth.

    flat holds name, depth, begin, end, ok and error of each span in the order they opened.
    """
    out: list[SpanRecord] = []
    stack = [parent.span_id]
    for i in range(0, len(flat), 6):
        name, depth, begin, finish, ok, err = flat[i : i + 6]
        span_id = next(new_ids)
        del stack[depth + 1 :]
        out.append(
            SpanRecord(
                span_id, stack[depth], name, "INTERNAL", parent.script_id, parent.layer_index,
                parent.parallel_index, "success" if ok else "error", None if ok else err,
                offset + begin, offset + (finish or ended), {"custom": True},
            )
        )  # fmt: skip
        stack.append(span_id)
    return out
