"""Traces the store does not have are written without staging: one another client stores in the
meantime is merged instead, and a file too large to hold stores what a held one stores."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from interop.interop_data import SAMPLES, stored_rows

from pipetrace.store import Repository, SpanRow, TraceRow, TraceWithSpans, open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.interop import import_file, import_text, importer
from pipetrace.store.url import parse_database_url

RACED = "ab" * 16
OTHER = "cd" * 16


def _document(spans: list[tuple[str, str, str | None]]) -> str:
    """An OTLP document of (trace id, span id, parent id) spans of one service."""
    out = []
    for n, (trace_id, span_id, parent) in enumerate(spans):
        span: dict[str, Any] = {
            "traceId": trace_id,
            "spanId": span_id,
            "name": f"step {n}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + n * 1000),
            "endTimeUnixNano": str(1_700_000_000_000_000_000 + n * 1000 + 500),
        }
        if parent:
            span["parentSpanId"] = parent
        out.append(span)
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]}
    return json.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": out}]}]})


class StoringClock:
    """A Repository clock that, once armed, has another client store the raced trace at its
    first reading: after the import looked the trace up, before it writes."""

    def __init__(self, other: Repository) -> None:
        self.other = other
        self.armed = False

    def __call__(self) -> int:
        now = time.time_ns()
        if self.armed:
            self.armed = False
            span = SpanRow(RACED, "f" * 16, "elsewhere", "success", now)
            trace = TraceRow(RACED, "elsewhere", "success", now, span_count=1, source="otlp")
            self.other.save_traces([TraceWithSpans(trace, [span])])
        return now


def test_a_trace_stored_between_the_lookup_and_the_write_is_merged(
    repo: Repository, store_url: str
) -> None:
    clock = StoringClock(repo)
    importing = Repository(open_backend(parse_database_url(store_url)), clock)
    text = _document(
        [(RACED, "1" * 16, None), (RACED, "2" * 16, "1" * 16), (OTHER, "3" * 16, None)]
    )
    try:
        clock.armed = True
        report = import_text(importing, text)
    finally:
        importing.close()
    assert (report.traces_added, report.spans) == (1, 1)
    assert (report.traces_merged, report.spans_merged) == (1, 2)
    raced = repo.get_trace_with_spans(RACED)
    assert raced is not None
    assert sorted(s.id for s in raced.spans) == ["1" * 16, "2" * 16, "f" * 16]
    assert raced.trace.span_count == 3
    assert raced.trace.trigger_event == "step 0"
    other = repo.get_trace_with_spans(OTHER)
    assert other is not None and other.trace.span_count == 1


@pytest.mark.parametrize(
    ("name", "first_lines"),
    [("otel_traces_01.json", 0), ("yelp.json", 0), ("otlp2jaeger-multi-in.json.txt", 1)],
)
def test_a_file_over_the_hold_limit_stores_what_a_held_one_stores(
    tmp_path: Path, name: str, first_lines: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Imported (after its first lines, so a trace may be stored already) held whole or staged
    after its second span, the file gives the same rows and report; imported again, nothing."""
    path = SAMPLES / name
    results = []
    for hold in (importer.HOLD_SPANS, 2):
        monkeypatch.setattr(importer, "HOLD_SPANS", hold)
        repo = open_store(str(tmp_path / f"{hold}.db"))
        try:
            if first_lines:
                part = "\n".join(path.read_text().splitlines()[:first_lines])
                import_text(repo, part)
            report = import_file(repo, path)
            again = import_file(repo, path)
            assert (again.traces_added, again.spans, again.spans_merged) == (0, 0, 0)
            assert again.duplicates == report.spans + report.spans_merged + report.duplicates
            results.append((asdict(report), stored_rows(repo)))
        finally:
            repo.close()
    assert results[0] == results[1]
    assert results[0][0]["spans"] + results[0][0]["spans_merged"] > 2
