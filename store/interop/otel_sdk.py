"""A span exporter for the OpenTelemetry Python SDK that writes spans into a pipetrace store.

Needs the optional extra `pipetrace[otel]` (opentelemetry-sdk); nothing else in `store` imports
this module. SDK spans are turned into OTLP JSON and imported like an OTLP file (source
"otel-sdk"), so they map exactly as files do. A trace arriving over several export calls (the
SDK exports each span as it ends, children before their parent) is merged: new spans are added
and the trace's summary (root name, times, status, span count) is recomputed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from ..errors import StoreError
from ..models import SpanRow, TraceWithSpans
from ..repository import Repository
from ..url import DatabaseTarget
from .anyvalue import encode_attributes
from .assemble import assemble, trace_of
from .errors import Invalid
from .importer import Scrub
from .otlp_in import parse_otlp

try:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "PipetraceSpanExporter needs the OpenTelemetry SDK: pip install 'pipetrace[otel]'"
    ) from exc

SOURCE = "otel-sdk"
MERGE_ATTEMPTS = 5
log = logging.getLogger(__name__)


class PipetraceSpanExporter(SpanExporter):
    """Stores finished SDK spans in a pipetrace store (a Repository, or a store URL or parsed
    target to open); with scrub, each exported batch's traces go through it first, as
    `import --scrub` does."""

    def __init__(
        self, repo_or_url: Repository | str | DatabaseTarget, scrub: Scrub | None = None
    ) -> None:
        self._scrub = scrub
        if isinstance(repo_or_url, Repository):
            self.repo, self._owned = repo_or_url, False
        else:
            from .. import open_store

            self.repo, self._owned = open_store(repo_or_url), True
        self._lock = threading.Lock()
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write one batch; a trace already stored gets the new spans merged into it."""
        if self._closed:
            return SpanExportResult.FAILURE
        with self._lock:
            try:
                self._store(parse_otlp(sdk_to_otlp(spans)))
            except (StoreError, Invalid) as exc:
                log.warning("pipetrace exporter could not store %d spans: %s", len(spans), exc)
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _store(self, rows: list[SpanRow]) -> None:
        built = assemble(rows, SOURCE).traces
        if self._scrub is not None:
            for item in built:
                self._scrub(item)
        # save_new_traces skips traces another service stored meanwhile; those are merged.
        saved = {t.trace.id for t in self.repo.save_new_traces(built)}
        for item in built:
            if item.trace.id not in saved:
                self._merge(item)

    def _merge(self, item: TraceWithSpans) -> None:
        """Add the spans not stored yet and bring the trace's summary up to date; when another
        service added spans between the read and the write, read again and summarise anew."""
        stored = self.repo.get_trace_with_spans(item.trace.id)
        if stored is None:
            return
        known = {(s.id, s.kind, s.started_at, s.ended_at) for s in stored.spans}
        fresh = [s for s in item.spans if (s.id, s.kind, s.started_at, s.ended_at) not in known]
        if not fresh:
            return
        for _attempt in range(MERGE_ATTEMPTS):
            merged = trace_of([*stored.spans, *fresh], stored.trace.source).trace
            merged.created_at = stored.trace.created_at
            if self.repo.append_spans(merged, fresh, len(stored.spans)):
                return
            fresh = []  # stored now; only the summary is left to write
            stored = self.repo.get_trace_with_spans(item.trace.id)
            if stored is None:
                return
        log.warning(
            "pipetrace exporter stored spans of trace %s, but other services kept adding to it; "
            "its summary (root, times, status, span count) may leave their latest spans out",
            item.trace.id,
        )

    def shutdown(self) -> None:
        """Stop accepting spans and close the store if this exporter opened it."""
        with self._lock:
            if not self._closed and self._owned:
                self.repo.close()
            self._closed = True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Every export is written before it returns, so there is nothing to flush."""
        return True


def sdk_to_otlp(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """SDK spans as one OTLP JSON document, grouped by resource and instrumentation scope."""
    resources: dict[int, dict[str, Any]] = {}
    scopes: dict[tuple[int, Any], dict[str, Any]] = {}
    for span in spans:
        resource = span.resource
        rs = resources.get(id(resource))
        if rs is None:
            rs = {"resource": {"attributes": encode_attributes(dict(resource.attributes))}}
            if resource.schema_url:
                rs["schemaUrl"] = resource.schema_url
            rs["scopeSpans"] = []
            resources[id(resource)] = rs
        scope = span.instrumentation_scope
        key = (id(resource), None if scope is None else (scope.name, scope.version))
        ss = scopes.get(key)
        if ss is None:
            ss = {"scope": _scope(scope), "spans": []}
            if scope is not None and scope.schema_url:
                ss["schemaUrl"] = scope.schema_url
            scopes[key] = ss
            rs["scopeSpans"].append(ss)
        ss["spans"].append(_span(span))
    return {"resourceSpans": list(resources.values())}


def _scope(scope: Any) -> dict[str, Any]:
    if scope is None:
        return {}
    out: dict[str, Any] = {"name": scope.name}
    if scope.version:
        out["version"] = scope.version
    attributes = getattr(scope, "attributes", None)
    if attributes:
        out["attributes"] = encode_attributes(dict(attributes))
    return out


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.context
    out: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        "kind": span.kind.value + 1,
        "startTimeUnixNano": str(span.start_time or 0),
        "attributes": encode_attributes(dict(span.attributes or {})),
        "status": {"code": span.status.status_code.value},
    }
    if span.parent is not None:
        out["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.end_time:
        out["endTimeUnixNano"] = str(span.end_time)
    if span.status.description:
        out["status"]["message"] = span.status.description
    state = context.trace_state.to_header() if context.trace_state else ""
    if state:
        out["traceState"] = state
    if int(context.trace_flags):
        out["flags"] = int(context.trace_flags)
    if span.events:
        out["events"] = [
            {
                "timeUnixNano": str(e.timestamp),
                "name": e.name,
                "attributes": encode_attributes(dict(e.attributes or {})),
            }
            for e in span.events
        ]
    if span.links:
        out["links"] = [
            {
                "traceId": f"{link.context.trace_id:032x}",
                "spanId": f"{link.context.span_id:016x}",
                "attributes": encode_attributes(dict(link.attributes or {})),
            }
            for link in span.links
        ]
    for key, count in (
        ("droppedAttributesCount", span.dropped_attributes),
        ("droppedEventsCount", span.dropped_events),
        ("droppedLinksCount", span.dropped_links),
    ):
        if count:
            out[key] = count
    return out
