"""A small program instrumented with the OpenTelemetry SDK lands its spans in the store."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from pipetrace.store import Repository
from pipetrace.store.interop.otel_sdk import PipetraceSpanExporter


def _checkout(provider: TracerProvider) -> str:
    """The instrumented program: nested spans, an event, a recorded exception."""
    tracer = provider.get_tracer("shop.checkout", "2.1")
    with tracer.start_as_current_span(
        "POST /checkout", kind=SpanKind.SERVER, attributes={"enduser.id": "u-17"}
    ) as root:
        root.set_attribute("client.address", "198.51.100.7")
        with tracer.start_as_current_span("reserve stock") as span:
            span.set_attribute("items", 3)
            span.set_attribute("skus", ["A1", "B2"])
            span.add_event("reserved", {"warehouse": "ams"})
        try:
            with tracer.start_as_current_span("charge card", kind=SpanKind.CLIENT):
                raise ValueError("card declined")
        except ValueError:
            root.set_status(Status(StatusCode.ERROR, "payment failed"))
    return f"{root.get_span_context().trace_id:032x}"


@pytest.mark.parametrize("processor", [SimpleSpanProcessor, BatchSpanProcessor])
def test_instrumented_program_lands_in_the_store(repo: Repository, processor):
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(processor(PipetraceSpanExporter(repo)))
    trace_id = _checkout(provider)
    provider.shutdown()
    found = repo.get_trace_with_spans(trace_id)
    assert found is not None
    trace = found.trace
    assert (trace.trigger_event, trace.status, trace.span_count) == ("POST /checkout", "error", 3)
    assert (trace.user_id, trace.request_ip, trace.source) == ("u-17", "198.51.100.7", "otel-sdk")
    assert trace.attributes["services"] == ["shop"]
    by_name = {s.name: s for s in found.spans}
    root, reserve, charge = (by_name[n] for n in ("POST /checkout", "reserve stock", "charge card"))
    assert root.parent_span_id is None and root.kind == "SERVER"
    assert reserve.parent_span_id == charge.parent_span_id == root.id
    assert reserve.attributes == {"items": 3, "skus": ["A1", "B2"]}
    assert reserve.extra["events"][0]["name"] == "reserved"
    assert reserve.extra["scope"] == {"name": "shop.checkout", "version": "2.1"}
    assert (charge.kind, charge.status) == ("CLIENT", "error")
    assert charge.status_message == "ValueError: card declined"
    exception = charge.extra["events"][0]
    assert exception["name"] == "exception"
    assert {a["key"] for a in exception["attributes"]} >= {"exception.type", "exception.message"}
    assert root.status_message == "payment failed"
    assert trace.started_at == root.started_at and trace.ended_at == root.ended_at
    assert all(s.started_at >= root.started_at and s.ended_at <= root.ended_at for s in found.spans)


def test_trace_arriving_in_pieces_is_merged(repo: Repository):
    exporter = PipetraceSpanExporter(repo)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("jobs")
    with tracer.start_as_current_span("nightly") as root:
        with tracer.start_as_current_span("step 1"):
            pass
        first = repo.get_trace_with_spans(f"{root.get_span_context().trace_id:032x}")
        with tracer.start_as_current_span("step 2"):
            pass
    provider.shutdown()
    assert first is not None and first.trace.trigger_event == "step 1"
    found = repo.get_trace_with_spans(first.trace.id)
    assert found.trace.trigger_event == "nightly"
    assert found.trace.span_count == len(found.spans) == 3
    assert found.trace.started_at == min(s.started_at for s in found.spans)
    assert found.trace.ended_at == max(s.ended_at for s in found.spans)
    assert exporter.export([]).name == "FAILURE"
