"""`import --scrub`: imported traces redacted by the rules the engine records with, so a file
from another system stores no secret the engine would not have stored."""

from __future__ import annotations

from pathlib import Path

from pipetrace.engine import load_pipelines
from pipetrace.engine.redaction import REDACTED, KeyRules, Redactor, TraceScrub
from pipetrace.store import TraceWithSpans

REDACTED_NAMES = "redacted"
"""Attribute listing the attribute names a scrub redacted on a span or a trace."""


class ImportScrub:
    """Redacts each imported trace in place before it is stored: by key in its input, result
    and attributes, then every value those keys held, and every secret shape, in all its
    text (names, messages, attributes)."""

    def __init__(self, pipelines_dir: Path | None = None) -> None:
        rules = load_pipelines(pipelines_dir).redaction if pipelines_dir else KeyRules()
        self._redactor = Redactor(rules)

    def __call__(self, item: TraceWithSpans) -> None:
        """Scrub one trace and its spans."""
        scrub = self._redactor.for_trace()
        trace = item.trace
        if trace.context_snapshot is not None:
            _note(trace.context_snapshot, "_redacted", scrub.redact_keys(trace.context_snapshot))
        if trace.result_data is not None:
            scrub.redact_keys(trace.result_data)
        if trace.attributes is not None:
            _note(trace.attributes, REDACTED_NAMES, scrub.redact_keys(trace.attributes))
        for span in item.spans:
            _note(span.attributes, REDACTED_NAMES, scrub.redact_keys(span.attributes))
            if span.extra is not None:
                scrub.redact_keys(span.extra)
                _typed_redactions(span.extra)
        _mask_trace(scrub, item)


def _note(holder: dict[str, object], key: str, paths: list[str]) -> None:
    """Add the names a scrub redacted to those the holder lists already."""
    if paths:
        listed = holder.get(key)
        known = [str(p) for p in listed] if isinstance(listed, list) else []
        holder[key] = known + [p for p in paths if p not in known]


def _typed_redactions(value: object) -> None:
    """Keep OTLP's shape in a span's `extra` (its resource's, scope's, events' and links'
    attributes): a {"key", "value"} pair whose value the scrub replaced by the bare text
    [REDACTED] gets the AnyValue {"stringValue": "[REDACTED]"}, so an export stays OTLP."""
    if isinstance(value, dict):
        if value.get("value") == REDACTED and "key" in value:
            value["value"] = {"stringValue": REDACTED}
        for item in value.values():
            _typed_redactions(item)
    elif isinstance(value, list):
        for item in value:
            _typed_redactions(item)


def _mask_trace(scrub: TraceScrub, item: TraceWithSpans) -> None:
    """Mask every text of a trace whose keyed secrets scrub has learned."""
    trace = item.trace
    trace.trigger_event = scrub.text(trace.trigger_event)
    if trace.status_message:
        trace.status_message = scrub.text(trace.status_message)
    trace.context_snapshot = scrub.mask(trace.context_snapshot)
    trace.result_data = scrub.mask(trace.result_data)
    trace.attributes = scrub.mask(trace.attributes)
    for span in item.spans:
        span.name = scrub.text(span.name)
        if span.status_message:
            span.status_message = scrub.text(span.status_message)
        span.attributes = scrub.mask(span.attributes)
        span.extra = scrub.mask(span.extra)
