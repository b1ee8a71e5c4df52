"""A span exporter for the OpenTelemetry Python SDK that writes spans into a pipetrace store.

Needs the optional extra `pipetrace[otel]` (opentelemetry-sdk); nothing else in `store` imports
this module. SDK spans are turned into OTLP JSON and imported like an OTLP file (source
"otel-sdk"), so they map exactly as files do, and a trace arriving over several export calls
(the SDK exports each span as it ends, children before their parent) is merged as an import
merges: new spans are added and the trace's summary (root, times, status, span count) is made
again, in one transaction per export.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from ..errors import StoreError
from ..repository import Repository
from ..url import DatabaseTarget
from .anyvalue import encode_attributes
from .errors import Invalid
from .importer import MERGE_ATTEMPTS, Scrub, store_items
from .otlp_in import parse_otlp

try:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "PipetraceSpanExporter needs the OpenTelemetry SDK: pip install 'pipetrace[otel]'"
    ) from exc

SOURCE = "otel-sdk"
log = logging.getLogger(__name__)
__all__ = ["MERGE_ATTEMPTS", "PipetraceSpanExporter", "sdk_to_otlp"]


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
                items = parse_otlp(sdk_to_otlp(spans))
                store_items(self.repo, items, SOURCE, SOURCE, self._scrub)
            except (StoreError, Invalid) as exc:
                log.warning("pipetrace exporter could not store %d spans: %s", len(spans), exc)
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

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
