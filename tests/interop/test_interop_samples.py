"""Every third-party sample imports, and what is stored matches what the file itself says."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner
from interop.interop_data import SAMPLES, all_trace_ids, count_rows, endpoint_attributes

from pipetrace.app.cli import main
from pipetrace.store import Repository, open_store
from pipetrace.store.interop import import_file


def _otlp_spans(name: str) -> list[dict[str, Any]]:
    """The spans an OTLP file holds, read straight from its JSON (documents or lines)."""
    text = (SAMPLES / name).read_text()
    if name.endswith(".json"):
        docs = [json.loads(text)]
    else:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [
        span
        for doc in docs
        for rs in doc["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]


def _expected_from_otlp(name: str) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """Per trace, per (span id, kind): parent, name and times, deduplicated as stored."""
    out: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    kinds = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
    for span in _otlp_spans(name):
        out.setdefault(span["traceId"].lower(), {})[
            (span["spanId"].lower(), kinds[span["kind"]])
        ] = {
            "parent_span_id": (span.get("parentSpanId") or "").lower() or None,
            "name": span["name"],
            "started_at": int(span["startTimeUnixNano"]),
            "ended_at": int(span["endTimeUnixNano"]),
            "status": "error" if (span.get("status") or {}).get("code") == 2 else "success",
        }
    return out


def _roots(spans: list) -> list:
    ids = {s.id for s in spans}
    return [s for s in spans if not s.parent_span_id or s.parent_span_id not in ids]


@pytest.mark.parametrize(
    "name",
    ["trace.json", "otlp2jaeger-in.json", "otlp2jaeger-multi-in.json.txt", "otel_traces_01.json"],
)
def test_otlp_samples_match_their_json(repo: Repository, name: str):
    expected = _expected_from_otlp(name)
    report = import_file(repo, SAMPLES / name)
    assert report.format == "otlp"
    assert report.traces_added == len(expected)
    assert report.spans == sum(len(v) for v in expected.values())
    for trace_id, spans in expected.items():
        found = repo.get_trace_with_spans(trace_id)
        assert found is not None
        got = {
            (s.id, s.kind): {
                "parent_span_id": s.parent_span_id,
                "name": s.name,
                "started_at": s.started_at,
                "ended_at": s.ended_at,
                "status": s.status,
            }
            for s in found.spans
        }
        assert got == spans
        assert found.trace.span_count == len(spans)
        assert found.trace.started_at == min(s["started_at"] for s in spans.values())
        assert found.trace.ended_at == max(s["ended_at"] for s in spans.values())
        assert found.trace.duration_ms == pytest.approx(
            (found.trace.ended_at - found.trace.started_at) / 1e6
        )
        for span in found.spans:
            assert span.duration_ms == pytest.approx((span.ended_at - span.started_at) / 1e6)


def test_sources_md_facts(sqlite_repo: Repository):
    facts = {
        "trace.json": (1, 1, 1),
        "otlp2jaeger-in.json": (1, 1, 1),
        "otlp2jaeger-multi-in.json.txt": (1, 4, 1),
        "otel_traces_01.json": (2, 4, 4),
    }
    for name, (traces, spans, roots) in facts.items():
        before, known = count_rows(sqlite_repo), set(all_trace_ids(sqlite_repo))
        report = import_file(sqlite_repo, SAMPLES / name)
        after = count_rows(sqlite_repo)
        assert (report.traces_added, report.spans) == (traces, spans), name
        assert (after[0] - before[0], after[1] - before[1]) == (traces, spans), name
        added = [sqlite_repo.get_trace_with_spans(i) for i in all_trace_ids(sqlite_repo)]
        found_roots = sum(len(_roots(t.spans)) for t in added if t.trace.id not in known)
        assert found_roots == roots, name
    multi = sqlite_repo.get_trace_with_spans("c620759e5d60fafb8ee0922b30e06bc6")
    assert [s.name for s in _roots(multi.spans)] == ["main"]
    assert multi.trace.trigger_event == "main"
    assert multi.trace.attributes["services"] == ["example-trace"]
    spec = sqlite_repo.get_trace_with_spans("5b8efff798038103d269b633813fc60c")
    (span,) = spec.spans
    assert (span.id, span.parent_span_id, span.kind) == (
        "eee19b7ec3c1b174",
        "eee19b7ec3c1b173",
        "SERVER",
    )
    assert span.extra["statusCode"] == 0 and span.status == "success"
    assert spec.trace.trigger_event == "I'm a server span"
    assert spec.trace.duration_ms == 1000.0
    typed = sqlite_repo.get_trace_with_spans("00000000000000010000000000000000")
    assert {s.kind for s in typed.spans} == {"SERVER", "PRODUCER"}
    assert typed.trace.status == "error"
    first = typed.spans[0]
    assert first.attributes == {
        "peer.service": "service-y",
        "peer.ipv4": 23456,
        "blob": "AAAwOQ==",
        "temperature": 72.5,
    }
    assert first.extra["otlpValues"] == {"blob": {"bytesValue": "AAAwOQ=="}}
    assert first.extra["traceState"] == "state.2" and first.extra["flags"] == 1
    assert len(first.extra["events"]) == 2 and len(first.extra["links"]) == 2
    assert len(_roots(typed.spans)) == 2


def test_duplicate_delivery_is_stored_once(repo: Repository):
    report = import_file(repo, SAMPLES / "otlp2jaeger-in.json")
    assert (report.traces_added, report.spans, report.duplicates) == (1, 1, 1)
    trace = repo.get_trace_with_spans("83a9efd15c1c98a977e0711cc93ee28b")
    assert trace.trace.request_ip == "1.2.3.4"
    assert trace.trace.trigger_event == "okey-dokey-0"


def test_zipkin_yelp(repo: Repository):
    raw = json.loads((SAMPLES / "yelp.json").read_text())
    report = import_file(repo, SAMPLES / "yelp.json")
    assert (report.format, report.traces_added, report.spans) == ("zipkin", 1, 16)
    trace_id = raw[0]["traceId"].rjust(32, "0")
    found = repo.get_trace_with_spans(trace_id)
    assert len(found.spans) == len(raw) == 16
    shared = [k for k, n in Counter(s["id"] for s in raw).items() if n > 1]
    assert len(shared) == 3
    for span_id in shared:
        assert sorted(s.kind for s in found.spans if s.id == span_id) == ["CLIENT", "SERVER"]
    by_key = {(s.id, s.kind): s for s in found.spans}
    for span in raw:
        row = by_key[(span["id"], span.get("kind", "INTERNAL"))]
        assert row.started_at == span["timestamp"] * 1000
        assert row.ended_at - row.started_at == span["duration"] * 1000
        assert row.parent_span_id == span.get("parentId")
        assert row.attributes == {**endpoint_attributes(span), **span["tags"]}
        service = span["localEndpoint"]["serviceName"]
        assert row.extra["resource"]["attributes"][0]["value"]["stringValue"] == service
    (root,) = _roots(found.spans)
    assert found.trace.trigger_event == root.name == "post /location/update/v4"
    assert found.trace.started_at == min(s["timestamp"] for s in raw) * 1000
    assert found.trace.duration_ms == pytest.approx(131.848)
    assert "routing" in found.trace.attributes["services"]


def test_otlp_and_jaeger_twins_agree(sqlite_repo: Repository, tmp_path):
    jaeger_store = open_store(str(tmp_path / "jaeger.db"))
    try:
        otlp = import_file(sqlite_repo, SAMPLES / "otlp2jaeger-in.json")
        jaeger = import_file(jaeger_store, SAMPLES / "otlp2jaeger-out.json")
        assert (otlp.format, jaeger.format) == ("otlp", "jaeger")
        assert all_trace_ids(sqlite_repo) == all_trace_ids(jaeger_store)
        (trace_id,) = all_trace_ids(sqlite_repo)
        a = sqlite_repo.get_trace_with_spans(trace_id)
        b = jaeger_store.get_trace_with_spans(trace_id)
    finally:
        jaeger_store.close()
    fields = ("trace_id", "id", "parent_span_id", "name", "kind", "status", "started_at")
    fields += ("ended_at", "duration_ms", "attributes")
    assert [[getattr(s, f) for f in fields] for s in a.spans] == [
        [getattr(s, f) for f in fields] for s in b.spans
    ]
    assert a.spans[0].extra["resource"] == b.spans[0].extra["resource"]
    assert a.spans[0].extra["scope"] == b.spans[0].extra["scope"]
    for column in ("trigger_event", "status", "started_at", "ended_at", "duration_ms"):
        assert getattr(a.trace, column) == getattr(b.trace, column), column
    assert (a.trace.request_ip, b.trace.request_ip) == ("1.2.3.4", "1.2.3.4")
    assert a.trace.attributes == b.trace.attributes
    assert (a.trace.source, b.trace.source) == ("otlp", "jaeger")


def test_importing_twice_adds_nothing(repo: Repository):
    names = sorted(p.name for p in SAMPLES.iterdir() if p.name != "SOURCES.md")
    first = [import_file(repo, SAMPLES / n) for n in names]
    counts = count_rows(repo)
    second = [import_file(repo, SAMPLES / n) for n in names]
    assert count_rows(repo) == counts
    assert sum(r.traces_added for r in first) == counts[0] == 6
    assert all(r.traces_added == 0 and r.spans == 0 for r in second)
    assert sum(r.traces_skipped for r in second) == 7


@pytest.mark.parametrize("shape", ["trace object", "list of traces"])
def test_jaeger_ui_downloads_import_as_the_query_api_answer(
    sqlite_repo: Repository, tmp_path, shape: str
):
    """Jaeger UI downloads one trace object; the same trace in the query API's `data` list, as
    otlp2jaeger-out.json holds it, stores the same rows; trace warnings are kept and listed."""
    answer = json.loads((SAMPLES / "otlp2jaeger-out.json").read_text())
    (trace,) = answer["data"]
    warnings = ["clock skew adjustment disabled", "invalid parent span IDs=7bb"]
    download = {**trace, "warnings": warnings}
    path = tmp_path / "download.json"
    path.write_text(json.dumps(download if shape == "trace object" else [download]))
    other = open_store(str(tmp_path / "answer.db"))
    try:
        first = import_file(other, SAMPLES / "otlp2jaeger-out.json")
        report = import_file(sqlite_repo, path)
        (trace_id,) = all_trace_ids(sqlite_repo)
        a = sqlite_repo.get_trace_with_spans(trace_id)
        b = other.get_trace_with_spans(trace_id)
    finally:
        other.close()
    assert (report.format, report.traces_added, report.spans) == ("jaeger", 1, first.spans)
    assert [s.attributes for s in a.spans] == [s.attributes for s in b.spans]
    assert [s.extra for s in a.spans] == [s.extra for s in b.spans]
    assert a.trace.attributes == {**b.trace.attributes, "warnings": sorted(warnings)}
    code, out = _show(sqlite_repo, trace_id)
    assert code == 0 and "warning: clock skew adjustment disabled" in out


def _show(repo: Repository, trace_id: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["show", trace_id, "--db", repo.url])
    return result.exit_code, result.output
