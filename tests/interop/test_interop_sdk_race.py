"""Two services exporting spans of the same traces at the same moment store every span once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import SpanKind, Tracer, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from pipetrace.store import Repository, SpanRow
from pipetrace.store.backends import open_backend
from pipetrace.store.interop.otel_sdk import MERGE_ATTEMPTS, PipetraceSpanExporter
from pipetrace.store.url import parse_database_url

ROUNDS = 8
REQUESTS_PER_ROUND = 8
BARRIER_TIMEOUT = 30.0

Batches = list[list[ReadableSpan]]


def _requests(count: int) -> tuple[Batches, Batches, dict[str, dict[str, str]]]:
    """`count` checkouts through two services, batched as each service's SDK exports them:
    the spans that end first (the children) in one batch, the spans enclosing them in a second.

    shop serves POST /checkout and calls billing over W3C trace context, so billing's spans
    belong to shop's trace. Returns shop's batches, billing's, and each trace's span ids by name.
    """
    shop = _tracer("shop")
    billing = _tracer("billing")
    propagator = TraceContextTextMapPropagator()
    roots, carts, charges, banks = [], [], [], []
    span_ids: dict[str, dict[str, str]] = {}
    for _ in range(count):
        root = shop.start_span("POST /checkout", kind=SpanKind.SERVER)
        cart = shop.start_span("load cart", context=set_span_in_context(root))
        cart.end()
        headers: dict[str, str] = {}
        propagator.inject(headers, context=set_span_in_context(root))
        charge = billing.start_span(
            "charge", context=propagator.extract(headers), kind=SpanKind.SERVER
        )
        bank = billing.start_span(
            "call bank", context=set_span_in_context(charge), kind=SpanKind.CLIENT
        )
        bank.end()
        charge.end()
        root.end()
        trace_id = f"{root.get_span_context().trace_id:032x}"
        span_ids[trace_id] = {
            s.name: f"{s.get_span_context().span_id:016x}" for s in (root, cart, charge, bank)
        }
        roots.append(root)
        carts.append(cart)
        charges.append(charge)
        banks.append(bank)
    return [carts, roots], [banks, charges], span_ids


def _tracer(service: str) -> Tracer:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    return provider.get_tracer(f"{service}.http")


class MeetingClock:
    """A Repository clock that, once armed, holds its first reading until the other service's
    clock is read too.

    The repository reads its clock as it builds a write, after it looked at what is stored, so
    both services look before either writes: the interleaving the race needs, every round,
    instead of only when the threads happen to be scheduled that way.
    """

    def __init__(self, meeting: threading.Barrier) -> None:
        self.meeting = meeting
        self.armed = False

    def __call__(self) -> int:
        if self.armed:
            self.armed = False
            self.meeting.wait()
        return time.time_ns()


def _export_at_once(url: str, shop: Batches, billing: Batches) -> list[SpanExportResult]:
    """Each service's exporter (its own store connection, like a process of its own) on a
    thread of its own; both export their n-th batch at the same moment."""
    start = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    meeting = threading.Barrier(2, timeout=BARRIER_TIMEOUT)

    def run(batches: Batches) -> list[SpanExportResult]:
        clock = MeetingClock(meeting)
        repo = Repository(open_backend(parse_database_url(url)), clock)
        try:
            exporter = PipetraceSpanExporter(repo)
            results = []
            for batch in batches:
                clock.armed = True
                start.wait()
                results.append(exporter.export(batch))
            return results
        except BaseException:
            start.abort()  # the other service must not wait for this one
            meeting.abort()
            raise
        finally:
            repo.close()

    with ThreadPoolExecutor(2) as pool:
        done = [pool.submit(run, batches) for batches in (shop, billing)]
        return [result for future in done for result in future.result()]


def _assert_stored_once(repo: Repository, expected: dict[str, Sequence[str]]) -> None:
    """Each trace holds exactly the expected spans, each once, and counts them; no others."""
    found = {item.trace.id: item for item in repo.get_traces_with_spans(list(expected))}
    for trace_id, ids in expected.items():
        assert trace_id in found, f"trace {trace_id} is not stored"
        assert Counter(s.id for s in found[trace_id].spans) == Counter(ids), trace_id
        assert found[trace_id].trace.span_count == len(ids), trace_id
    assert repo.count_traces() == len(expected)


def test_first_spans_of_the_same_traces_exported_at_once(repo: Repository, store_url: str):
    """Both services find a trace missing and both insert it: the one that loses on the
    duplicate key merges its spans instead of failing its batch."""
    shop: Batches = []
    billing: Batches = []
    expected: dict[str, list[str]] = {}
    for _ in range(ROUNDS):
        (carts, _), (banks, _), span_ids = _requests(REQUESTS_PER_ROUND)
        shop.append(carts)
        billing.append(banks)
        expected.update({t: [ids["load cart"], ids["call bank"]] for t, ids in span_ids.items()})
    results = _export_at_once(store_url, shop, billing)
    assert results == [SpanExportResult.SUCCESS] * 2 * ROUNDS
    _assert_stored_once(repo, expected)


def test_spans_added_to_the_same_stored_traces_at_once(repo: Repository, store_url: str):
    """Then both export the spans enclosing their first ones, merging into the same stored
    traces at once: each trace's summary must count both services' spans and name its root."""
    shop: Batches = []
    billing: Batches = []
    expected: dict[str, list[str]] = {}
    for _ in range(ROUNDS):
        shop_batches, billing_batches, span_ids = _requests(REQUESTS_PER_ROUND)
        shop += shop_batches
        billing += billing_batches
        expected.update({t: list(ids.values()) for t, ids in span_ids.items()})
    results = _export_at_once(store_url, shop, billing)
    assert results == [SpanExportResult.SUCCESS] * 4 * ROUNDS
    _assert_stored_once(repo, expected)
    for item in repo.get_traces_with_spans(list(expected)):
        assert item.trace.trigger_event == "POST /checkout", item.trace.id
        assert item.trace.attributes["services"] == ["billing", "shop"], item.trace.id


class IntrudingClock:
    """A Repository clock that, once armed, has another service add a span to the trace each
    time it is read, just before the exporter's write: the exporter's summary is always stale."""

    def __init__(self, other: Repository, trace_id: str) -> None:
        self.other = other
        self.trace_id = trace_id
        self.armed = False
        self.added: list[str] = []

    def __call__(self) -> int:
        now = time.time_ns()
        if self.armed:
            span_id = f"{len(self.added) + 1:016x}"
            self.other.create_spans([SpanRow(self.trace_id, span_id, "retry", "success", now)])
            self.added.append(span_id)
        return now


def test_a_trace_others_keep_adding_to_still_gets_the_spans(
    repo: Repository, store_url: str, caplog: pytest.LogCaptureFixture
):
    """The exporter stores its spans and does not fail the batch; it stops summarising the
    trace anew after a few tries and says its summary may be behind, instead of looping."""
    (carts, roots), _, span_ids = _requests(1)
    ((trace_id, ids),) = span_ids.items()
    clock = IntrudingClock(repo, trace_id)
    exporter = PipetraceSpanExporter(Repository(open_backend(parse_database_url(store_url)), clock))
    try:
        assert exporter.export(carts) == SpanExportResult.SUCCESS
        clock.armed = True
        assert exporter.export(roots) == SpanExportResult.SUCCESS
    finally:
        exporter.repo.close()
    found = repo.get_trace_with_spans(trace_id)
    assert found is not None
    stored = Counter(s.id for s in found.spans)
    assert stored == Counter([ids["load cart"], ids["POST /checkout"], *clock.added])
    assert len(clock.added) == MERGE_ATTEMPTS
    assert "other services kept adding to it" in caplog.text
