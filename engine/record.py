"""Turning the raw facts of one execution into a TraceRecord, off the caller's hot path."""

from __future__ import annotations

import marshal
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec

from pipetrace.engine.ids import IdSource
from pipetrace.engine.manifest import Pipelines, Script
from pipetrace.engine.redaction import Redactor, TraceScrub
from pipetrace.engine.redaction.sources import masked_source
from pipetrace.engine.results import (
    DATA,
    EXTRAS,
    IGNORED,
    INT_KEYS,
    NESTED,
    extras,
    merged_data,
    script_data,
    shaped,
)
from pipetrace.engine.tracing import SpanRecord, TraceRecord
from pipetrace.engine.values import SIZE_BOUND, capped, clone, plain

# MessagePack through msgspec packs a trigger's facts about three times faster than marshal;
# marshal output is tagged with a byte that never starts a MessagePack array.
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode
_MARSHALLED = b"\x00"
_INPUT = 10
"""Where the input sits in the facts (see Recorder.build)."""
_SKIPPED = "an earlier layer stopped the trigger"
_CRASHED = "the engine failed before this script finished"
_SCRIPT_TEXT = (
    "logs", "output.data", "output.redacted", "result.ignored", "input.refused", "metrics",
)  # fmt: skip
"""Span attributes that hold what a script wrote (its keys too) or why an input was refused,
so secrets may be in them."""
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


# A library bound names its limit at the end of its message: "(max_call_values is 100000)".
_NAMED_LIMIT = re.compile(r"\((max_[a-z_]+) is \d+\)$")


def limit_name(message: str | None) -> str | None:
    """Name the limit a failure message reports, or None for an ordinary script error."""
    if message:
        for needle, name in _LIMITS:
            if needle in message:
                return name
        named = _NAMED_LIMIT.search(message)
        if named:
            return named.group(1)
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

    def __init__(self, pipelines: Pipelines, ids: IdSource, redactor: Redactor) -> None:
        self.version = pipelines.version
        self.limits = pipelines.limits
        self.plans = {
            name: [_Planned.of(script) for layer in trigger.layers for script in layer]
            for name, trigger in pipelines.triggers.items()
        }
        self.sources = {
            name: {
                script.sha256: masked_source(script.source, redactor)
                for layer in trigger.layers
                for script in layer
            }
            for name, trigger in pipelines.triggers.items()
        }
        self.modes = {name: trigger.mode for name, trigger in pipelines.triggers.items()}
        self.refused_input = {n: t.refused_input for n, t in pipelines.triggers.items()}
        self.ids = ids
        self.redactor = redactor

    def build(self, packed: bytes) -> TraceRecord:
        """Turn one execution's packed facts (see pack_facts) into a trace record.

        The facts are (trace_id, trigger, started_at, origin, ended, status, message, allowed,
        user_id, request_ip, input, replay_of, input bytes, crashed, runs);
        runs holds start, end and sandbox result of each script that ran, in plan order (the
        rest were skipped); times other than started_at come from perf_counter_ns.

        Secrets are redacted here, off the trigger path: what secret-named keys hold in the
        input and in each script's data, then every value they held (and every secret the
        helpers hand scripts) and every secret of a recognised shape, wherever it appears.
        """
        (
            trace_id, trigger, base, origin, ended, status, message, allowed, user_id,
            request_ip, given, replay_of, input_bytes, crashed, runs,
        ) = unpack_facts(packed)  # fmt: skip
        limits, version = self.limits, self.version
        cap = limits.max_attribute_bytes
        scrub = self.redactor.for_trace()
        redacted = [] if given is None else scrub.redact_keys(given, note=True)
        plan = self.plans.get(trigger, ())
        ran = len(runs) // 3
        count = 1 + len(plan)
        for res in runs[2::3]:
            if res[2] & EXTRAS:
                count += res[3] >> 32
        ids = span_ids(self.ids, trace_id, count)
        root_id = ids[0]
        root_attrs: dict[str, Any] = {
            "trigger.mode": self.modes.get(trigger),
            "pipeline.version": version,
        }
        if input_bytes is not None:
            root_attrs["input.bytes"] = input_bytes
        elif trigger in self.refused_input:  # a known trigger whose input no script saw
            root_attrs["input.refused"] = message
            root_attrs["input.refused_policy"] = self.refused_input[trigger]
        root_attrs["scripts"] = len(plan)
        offset = base - origin
        end = base + ended - origin
        spans = [
            SpanRecord(
                root_id, None, trigger, "INTERNAL", None, None, None, status, message, base, end,
                root_attrs,
            )
        ]  # fmt: skip
        datas: list[tuple[dict[Any, Any], bool] | None] = []
        numbers: list[Any] = []  # what the scripts' data holds, numbers among it
        outputs: list[dict[str, Any]] = []
        taken = 1
        for i, (script_id, layer, parallel, sha, file, name) in enumerate(plan):
            span_id = ids[taken]
            taken += 1
            if i >= ran:
                reason = _CRASHED if crashed else _SKIPPED
                spans.append(
                    SpanRecord(
                        span_id, root_id, name, "INTERNAL", script_id, layer, parallel,
                        "skipped", reason, end, end, {"script.sha256": sha, "script.file": file},
                    )
                )  # fmt: skip
                continue
            started, finished, res = runs[3 * i : 3 * i + 3]
            run_state, run_message, flags = res[0], res[1], res[2]
            attrs: dict[str, Any] = {
                "script.sha256": sha, "script.file": file, "input.bytes": input_bytes,
            }  # fmt: skip
            ex = extras(res)
            pos = ex.end
            if flags & IGNORED:
                attrs["result.ignored"] = res[pos]
                pos += 1
            if flags & DATA:
                int_keys = bool(flags & INT_KEYS)
                numbers += res[pos:]
                # Redacted before the span and the merge take the data, so both hold it so.
                if flags & (NESTED | INT_KEYS):
                    data = script_data(res, pos)
                    secret_keys = scrub.redact_keys(data)
                    attrs["output.data"] = shaped(data, int_keys)
                else:  # string keys, flat values: sorted once, for the span and the merge
                    data = dict(sorted(zip(res[pos::2], res[pos + 1 :: 2], strict=True)))
                    secret_keys = scrub.redact_flat(data)
                    attrs["output.data"] = data
                if secret_keys:
                    attrs["output.redacted"] = sorted(secret_keys)
                datas.append((data, int_keys))
                outputs.append(attrs)
            else:
                datas.append(None)
            if ex.logs:
                attrs["logs"] = list(ex.logs)
            if ex.dropped_logs:
                attrs["logs.dropped"] = ex.dropped_logs
            if ex.dropped_spans:
                attrs["custom_spans.dropped"] = ex.dropped_spans
            if ex.used:
                attrs["instructions.min"] = ex.used
            owned = _owned(ex.attributes, scrub) if ex.attributes else {}
            if ex.metrics:
                attrs["metrics"] = _metrics(ex.metrics, owned)
                numbers += ex.metrics[2::3]
            if ex.attributes:
                numbers += ex.attributes[2::3]
            if ex.dropped_metrics:
                attrs["metrics.dropped"] = ex.dropped_metrics
            if ex.dropped_attributes:
                attrs["attributes.dropped"] = ex.dropped_attributes
            if run_state == "blocked":
                run_message = run_message or f"blocked by {script_id}"
            elif run_state == "killed":
                run_state = "error"
            if run_state == "error" and run_message:
                _describe_failure(attrs, run_message, cap)
            spans.append(
                SpanRecord(
                    span_id, root_id, name, "INTERNAL", script_id, layer, parallel,
                    run_state, run_message, offset + started, offset + finished, attrs,
                )
            )  # fmt: skip
            if ex.spans:
                spans += _custom_spans(
                    ex.spans, owned, span_id, ids[taken:], (script_id, layer, parallel),
                    offset, finished,
                )  # fmt: skip
                taken += len(ex.spans) // 5
        result = merged_data(datas) if allowed and not crashed else {}
        # Marshal may write a string once and refer back to it: only MessagePack is searched.
        if packed[:1] == _MARSHALLED or scrub.may_mask(packed, numbers):
            _mask_spans(scrub, spans, cap)
            message = message and scrub.text(message)
            given = scrub.mask(given, redacted)
            redacted = scrub.mask(redacted)  # a key may hold a secret too
            result = scrub.mask(result)
        _cap_outputs(outputs, cap)
        snapshot = None
        if given is not None:
            snapshot = capped(given, limits.max_snapshot_bytes)
            if redacted:
                snapshot["_redacted"] = redacted
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
            sources=self.sources.get(trigger, {}),
        )


class _Planned(NamedTuple):
    """What a record needs of a script in the plan, unpacked in one step per span."""

    script_id: str
    layer: int
    parallel: int
    sha256: str
    file: str
    name: str

    @classmethod
    def of(cls, script: Script) -> _Planned:
        """The recorded fields of a loaded script."""
        return cls(
            script.id, script.layer_index, script.parallel_index, script.sha256, script.file,
            script.name or script.id,
        )  # fmt: skip


def span_ids(ids: IdSource, trace_id: str, count: int) -> list[str]:
    """Take a trace's count span ids: the trace's own ids when the source derives them from
    the trace id, else in one call when the source offers it (fewer locks per trace)."""
    of_trace: Callable[[str, int], list[str]] | None = getattr(ids, "span_ids_of", None)
    if of_trace is not None:
        return of_trace(trace_id, count)
    many: Callable[[int], list[str]] | None = getattr(ids, "span_ids", None)
    if many is not None:
        return many(count)
    return [ids.span_id() for _ in range(count)]


def _cap_outputs(outputs: list[dict[str, Any]], cap: int) -> None:
    """Cap each span's output data; one size bound over all of them usually proves none is over
    (marshal version 2 lengths add up, see capped)."""
    if not outputs:
        return
    try:
        if SIZE_BOUND * len(marshal.dumps([a["output.data"] for a in outputs], 2)) <= cap:
            return
    except ValueError:
        pass
    for attrs in outputs:
        attrs["output.data"] = capped(attrs["output.data"], cap)


def _mask_spans(scrub: TraceScrub, spans: list[SpanRecord], cap: int) -> None:
    """Mask secrets in span text: messages, custom span names, Lua errors (described again from
    the masked message, so no secret is cut short by the cap before it is masked) and the
    attributes of _SCRIPT_TEXT."""
    for span in spans:
        attrs = span.attributes
        if span.status_message:
            span.status_message = scrub.text(span.status_message)
            if "lua.error" in attrs:
                _describe_failure(attrs, span.status_message, cap)
        if attrs.get("custom"):
            span.name = scrub.text(span.name)
            scrub.mask(attrs)
        for key in _SCRIPT_TEXT:
            if key in attrs:
                attrs[key] = scrub.mask(attrs[key])


def _describe_failure(attrs: dict[str, Any], message: str, cap: int) -> None:
    """Add the limit a failed script hit, and its Lua file, line and error, to its attributes."""
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


def _owned(flat: tuple[Any, ...], scrub: TraceScrub) -> dict[int, dict[str, Any]]:
    """The flat attributes of one run by owner (a custom span's number from 1, or minus a
    metric's), each with its secret-named keys redacted (which teaches scrub their values)."""
    owned: dict[int, dict[str, Any]] = {}
    for i in range(0, len(flat), 3):
        owner, key, value = flat[i : i + 3]
        owned.setdefault(owner, {})[key] = value
    for owner, values in owned.items():
        owned[owner] = dict(sorted(values.items()))
        scrub.redact_keys(owned[owner])
    return owned


def _metrics(flat: tuple[Any, ...], owned: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """A run's helpers.metrics calls in order: kind, name, value and their tags, if any."""
    out = []
    for number, i in enumerate(range(0, len(flat), 3), start=1):
        kind, name, value = flat[i : i + 3]
        metric: dict[str, Any] = {"kind": kind, "name": name, "value": value}
        if -number in owned:
            metric["tags"] = owned[-number]
        out.append(metric)
    return out


def _custom_spans(
    flat: tuple[Any, ...],
    owned: dict[int, dict[str, Any]],
    parent_id: str,
    ids: list[str],
    script: tuple[str, int, int],
    offset: int,
    ended: int,
) -> list[SpanRecord]:
    """Child spans a script opened with helpers.trace, nested by their recorded depth, with the
    attributes it gave them.

    flat holds name, depth, begin, end (False while still open) and True or the error of each
    span, in the order they opened; ids holds their span ids in the same order; script is the
    script's id, layer and parallel index.
    """
    script_id, layer, parallel = script
    out: list[SpanRecord] = []
    stack = [parent_id]
    for k, i in enumerate(range(0, len(flat), 5)):
        name, depth, begin, finish, outcome = flat[i : i + 5]
        span_id = ids[k]
        del stack[depth + 1 :]
        if outcome is True:
            state, err = "success", None
        else:
            state, err = "error", outcome
        attrs = dict(owned.get(k + 1, ()))
        attrs["custom"] = True
        out.append(
            SpanRecord(
                span_id, stack[depth], name, "INTERNAL", script_id, layer, parallel, state, err,
                offset + begin, offset + (finish or ended), attrs,
            )
        )  # fmt: skip
        stack.append(span_id)
    return out
