"""Turning the raw facts of one execution into a TraceRecord, off the caller's hot path."""

from __future__ import annotations

import marshal
import re
from collections.abc import Iterator
from typing import Any

import msgspec

from engine.ids import IdSource
from engine.manifest import Pipelines, Script
from engine.results import (
    DATA,
    INT_KEYS,
    extras,
    merged_data,
    run_status,
    script_data,
    shaped,
)
from engine.tracing import SpanRecord, TraceRecord
from engine.values import SecretKeys, capped, clone, plain

# MessagePack through msgspec packs a trigger's facts about three times faster than marshal;
# marshal output is tagged with a byte that never starts a MessagePack array.
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode
_MARSHALLED = b"\x00"
_INPUT = 10
"""Where the input sits in the facts (see Recorder.build)."""
_SKIPPED = "an earlier layer stopped the trigger"
_CRASHED = "the engine failed before this script finished"
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


def pack_facts(facts: tuple[Any, ...]) -> bytes:
    """Serialise one execution's raw facts (see Recorder.build) in one C call, which also
    copies the caller's input, so later changes by the caller cannot leak into the trace."""
    try:
        return _encode(facts)
    except (TypeError, ValueError, OverflowError):
        pass
    # What MessagePack refuses (a lone surrogate, a str subclass) marshal keeps, tagged.
    try:
        return _MARSHALLED + marshal.dumps(facts)
    except ValueError:
        return _MARSHALLED + marshal.dumps(plain(facts))


def unpack_facts(packed: bytes) -> Any:
    """The facts pack_facts serialised, as fresh values whose input has lists, not tuples, so
    redaction can work on it in place."""
    if packed[:1] != _MARSHALLED:
        return _decode(packed)
    facts = list(marshal.loads(memoryview(packed)[1:]))
    facts[_INPUT] = clone(facts[_INPUT])
    return facts


class Recorder:
    """Builds trace records from the engine's raw facts; picklable, so a recorder process can
    hold one."""

    def __init__(self, pipelines: Pipelines, ids: IdSource, secrets: SecretKeys) -> None:
        self.version = pipelines.version
        self.limits = pipelines.limits
        self.order = {
            name: [script for layer in trigger.layers for script in layer]
            for name, trigger in pipelines.triggers.items()
        }
        self.modes = {name: trigger.mode for name, trigger in pipelines.triggers.items()}
        self.ids = ids
        self.secrets = secrets

    def build(self, packed: bytes) -> TraceRecord:
        """Turn one execution's packed facts (see pack_facts) into a trace record.

        The facts are (trace_id, trigger, started_at, origin, ended, status, message, allowed,
        user_id, request_ip, input, replay_of, input bytes, crashed, runs);
        runs holds start, end and sandbox result of each script that ran, in plan order (the
        rest were skipped); times other than started_at come from perf_counter_ns.
        """
        (
            trace_id, trigger, base, origin, ended, status, message, allowed, user_id,
            request_ip, given, replay_of, input_bytes, crashed, runs,
        ) = unpack_facts(packed)  # fmt: skip
        limits, version = self.limits, self.version
        cap = limits.max_attribute_bytes
        order = self.order.get(trigger, [])
        results = runs[2::3]
        info = [extras(res) for res in results]
        datas = [
            (script_data(res, extra[5]), bool(res[2] & INT_KEYS)) if res[2] & DATA else None
            for res, extra in zip(results, info, strict=True)
        ]
        count = 1 + len(order) + sum(len(extra[4]) // 5 for extra in info)
        new_ids = iter(span_ids(self.ids, count))
        root_id = next(new_ids)
        root_attrs: dict[str, Any] = {
            "trigger.mode": self.modes.get(trigger),
            "pipeline.version": version,
        }
        if input_bytes is not None:
            root_attrs["input.bytes"] = input_bytes
        root_attrs["scripts"] = len(order)
        end = base + ended - origin
        spans = [
            SpanRecord(
                root_id, None, trigger, "INTERNAL", None, None, None, status, message, base, end,
                root_attrs,
            )
        ]  # fmt: skip
        offset = base - origin
        for i, script in enumerate(order):
            if i < len(results):
                started, finished, res = runs[3 * i : 3 * i + 3]
                span = _script_span(
                    script, res, datas[i], info[i], next(new_ids), root_id, offset + started,
                    offset + finished, input_bytes, cap,
                )  # fmt: skip
                spans.append(span)
                if info[i][4]:
                    spans.extend(_custom_spans(finished, info[i][4], span, new_ids, offset))
            else:
                reason = _CRASHED if crashed else _SKIPPED
                spans.append(_skipped_span(script, reason, next(new_ids), root_id, end))
        snapshot = None
        if given is not None:
            snapshot = given
            paths = self.secrets.redact_in_place(snapshot)
            snapshot = capped(snapshot, limits.max_snapshot_bytes)
            if paths:
                snapshot["_redacted"] = paths
        result = {} if crashed else merged_data(datas)
        return TraceRecord(
            trace_id=trace_id,
            trigger_event=trigger,
            status=status,
            status_message=message,
            allowed=allowed,
            started_at=base,
            ended_at=end,
            user_id=user_id,
            request_ip=request_ip,
            context_snapshot=snapshot,
            result_data=capped(result, limits.max_snapshot_bytes),
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


def _script_span(
    script: Script,
    res: tuple[Any, ...],
    data: tuple[dict[Any, Any], bool] | None,
    extra: tuple[Any, ...],
    span_id: str,
    parent: str,
    started: int,
    ended: int,
    input_bytes: int | None,
    cap: int,
) -> SpanRecord:
    """One script's span with its inputs, outputs, logs and failure details as attributes."""
    status, message = run_status(script.id, res)
    attrs: dict[str, Any] = {
        "script.sha256": script.sha256,
        "script.file": script.file,
        "input.bytes": input_bytes,
    }
    if data is not None:
        attrs["output.data"] = capped(shaped(*data), cap)
    used, dropped_spans, dropped_logs, logs, _, _ = extra
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
        script.parallel_index, status, message, started, ended, attrs,
    )  # fmt: skip


def _skipped_span(script: Script, reason: str, span_id: str, parent: str, at: int) -> SpanRecord:
    """The span of a script that never ran (or never finished) because the trigger stopped."""
    attrs = {"script.sha256": script.sha256, "script.file": script.file}
    return SpanRecord(
        span_id, parent, script.id, "INTERNAL", script.id, script.layer_index,
        script.parallel_index, "skipped", reason, at, at, attrs,
    )  # fmt: skip


def _custom_spans(
    ended: int, flat: tuple[Any, ...], parent: SpanRecord, new_ids: Iterator[str], offset: int
) -> list[SpanRecord]:
    """Child spans a script opened with helpers.trace, nested by their recorded depth.

    flat holds name, depth, begin, end (False while still open) and True or the error of each
    span, in the order they opened.
    """
    out: list[SpanRecord] = []
    stack = [parent.span_id]
    for i in range(0, len(flat), 5):
        name, depth, begin, finish, outcome = flat[i : i + 5]
        ok = outcome is True
        err = None if ok else outcome
        span_id = next(new_ids)
        del stack[depth + 1 :]
        out.append(
            SpanRecord(
                span_id, stack[depth], name, "INTERNAL", parent.script_id, parent.layer_index,
                parent.parallel_index, "success" if ok else "error", err,
                offset + begin, offset + (finish or ended), {"custom": True},
            )
        )  # fmt: skip
        stack.append(span_id)
    return out
