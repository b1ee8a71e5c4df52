"""Export -> protobuf parse -> import gives back the same rows, for our traces and foreign ones."""

from __future__ import annotations

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import wipe_sqld
from factories import make_trace
from google.protobuf.json_format import Parse
from interop.interop_data import SAMPLES, all_trace_ids, count_rows, stored
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from pipetrace.store import Repository, open_store
from pipetrace.store.interop import export_traces, import_file, write_export
from pipetrace.store.interop.importer import ImportReport

RACED_TRACES = 300
RACE_ROUNDS = 4
IMPORTERS = 3


def test_exported_lines_parse_as_protobuf_traces_data(sqlite_repo: Repository, pipeline_traces):
    sqlite_repo.save_traces(pipeline_traces)
    lines = list(export_traces(sqlite_repo, [t.trace.id for t in pipeline_traces]))
    assert len(lines) == len(pipeline_traces)
    for line, item in zip(lines, pipeline_traces, strict=True):
        message = Parse(line, TracesData())
        Parse(line, ExportTraceServiceRequest())
        (rs,) = message.resource_spans
        assert rs.resource.attributes[0].key == "service.name"
        assert rs.resource.attributes[0].value.string_value == "pipetrace"
        spans = rs.scope_spans[0].spans
        assert rs.scope_spans[0].scope.name == "pipetrace"
        assert [s.name for s in spans] == [s.name for s in item.spans]
        for proto, row in zip(spans, item.spans, strict=True):
            # json_format reads bytes fields as base64; OTLP JSON writes hex: same characters.
            assert base64.b64encode(proto.span_id).decode() == row.id
            assert proto.start_time_unix_nano == row.started_at
            assert proto.end_time_unix_nano == row.ended_at
            expected_code = {"success": 1, "error": 2, "blocked": 2, "skipped": 0}[row.status]
            assert proto.status.code == expected_code
            attributes = {a.key: a.value for a in proto.attributes}
            assert attributes["pipeline.status"].string_value == row.status
            if row.script_id:
                assert attributes["pipeline.script_id"].string_value == row.script_id
                assert attributes["pipeline.layer_index"].int_value == row.layer_index
        root = {a.key: a.value for a in spans[0].attributes}
        assert root["pipeline.trigger"].string_value == item.trace.trigger_event
        assert root["pipeline.trace.status"].string_value == item.trace.status


def _resources(line: str) -> list[dict]:
    return [rs["resource"] for rs in json.loads(line)["resourceSpans"]]


def test_a_service_name_is_set_on_every_resource_imported_ones_included(
    sqlite_repo: Repository, pipeline_traces, tmp_path
):
    host = {"key": "host.name", "value": {"stringValue": "web-1"}}
    service = {"key": "service.name", "value": {"stringValue": "frontend"}}
    span = {"traceId": "cd" * 16, "name": "GET /", "startTimeUnixNano": "1", "endTimeUnixNano": "2"}
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [host, service], "droppedAttributesCount": 1},
                "scopeSpans": [{"scope": {"name": "http"}, "spans": [span | {"spanId": "1" * 16}]}],
            },
            {
                "resource": {"attributes": [host]},
                "scopeSpans": [{"scope": {"name": "db"}, "spans": [span | {"spanId": "2" * 16}]}],
            },
        ]
    }
    (tmp_path / "foreign.json").write_text(json.dumps(document))
    import_file(sqlite_repo, tmp_path / "foreign.json")
    sqlite_repo.save_traces(pipeline_traces[:1])
    ids = ["cd" * 16, pipeline_traces[0].trace.id]
    named = {"key": "service.name", "value": {"stringValue": "auth-prod"}}
    foreign, ours = export_traces(sqlite_repo, ids, service_name="auth-prod")
    assert _resources(foreign) == [
        {"attributes": [named, host], "droppedAttributesCount": 1},
        {"attributes": [named, host]},
    ]
    assert _resources(ours) == [{"attributes": [named]}]
    foreign, ours = export_traces(sqlite_repo, ids)
    assert _resources(foreign) == [
        {"attributes": [host, service], "droppedAttributesCount": 1},
        {"attributes": [host]},
    ]
    assert _resources(ours) == [
        {"attributes": [{"key": "service.name", "value": {"stringValue": "pipetrace"}}]}
    ]


def test_typed_attributes_on_the_wire(sqlite_repo: Repository, pipeline_traces):
    sqlite_repo.save_traces(pipeline_traces[:1])
    (line,) = export_traces(sqlite_repo, [pipeline_traces[0].trace.id])
    span = json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    values = {a["key"]: a["value"] for a in span["attributes"]}
    assert values["ratio"] == {"doubleValue": 0.1}
    assert values["big"] == {"intValue": str(2**63 - 1)}
    assert values["empty"] == {"arrayValue": {"values": []}}
    tags = values["input"]["kvlistValue"]["values"][1]["value"]["arrayValue"]["values"]
    assert tags == [{"intValue": "1"}, {"doubleValue": 2.5}, {}, {"boolValue": True}]
    assert span["kind"] == 1 and span["startTimeUnixNano"] == str(
        pipeline_traces[0].spans[1].started_at
    )


def test_pipeline_traces_round_trip_unchanged(repo: Repository, pipeline_traces, tmp_path):
    repo.save_traces(pipeline_traces)
    ids = [t.trace.id for t in pipeline_traces]
    first = tmp_path / "first.jsonl"
    write_export(repo, ids, first)
    target = open_store(str(tmp_path / "copy.db"))
    try:
        report = import_file(target, first)
        assert (report.traces_added, report.spans) == (4, 20)
        for trace_id in ids:
            assert stored(target, trace_id) == stored(repo, trace_id)
        second = tmp_path / "second.jsonl"
        write_export(target, ids, second)
    finally:
        target.close()
    assert second.read_text() == first.read_text()


FORMAT_LEFTOVERS = ("zipkin", "jaeger")
"""What a span keeps of its source format that OTLP has no field for: not exported."""


def _as_exported(fields: tuple[dict, list[dict]]) -> tuple[dict, list[dict]]:
    """A stored trace without what an export of an imported trace leaves out: the import time
    and format (the copy was imported later, from OTLP) and the source format's leftovers."""
    trace, spans = fields
    trace = {k: v for k, v in trace.items() if k not in ("created_at", "source")}
    for span in spans:
        extra = {k: v for k, v in (span["extra"] or {}).items() if k not in FORMAT_LEFTOVERS}
        span["extra"] = extra or None
    return trace, spans


def test_sample_files_round_trip_unchanged(sqlite_repo: Repository, tmp_path):
    names = ("trace.json", "otel_traces_01.json", "otlp2jaeger-multi-in.json.txt", "yelp.json")
    names += ("otlp2jaeger-out.json",)
    for name in names:
        import_file(sqlite_repo, SAMPLES / name)
    ids = all_trace_ids(sqlite_repo)
    out = tmp_path / "samples.jsonl"
    write_export(sqlite_repo, ids, out)
    for line in out.read_text().splitlines():
        Parse(line, TracesData())
    copy = open_store(str(tmp_path / "copy.db"))
    try:
        import_file(copy, out)
        assert all_trace_ids(copy) == ids
        for trace_id in ids:
            assert _as_exported(stored(copy, trace_id)) == _as_exported(
                stored(sqlite_repo, trace_id)
            )
        again = tmp_path / "again.jsonl"
        write_export(copy, ids, again)
    finally:
        copy.close()
    assert again.read_text() == out.read_text()


def test_foreign_fields_survive_export(sqlite_repo: Repository, tmp_path: Path):
    import_file(sqlite_repo, SAMPLES / "otel_traces_01.json")
    (line,) = export_traces(sqlite_repo, ["00000000000000010000000000000000"])
    original = json.loads((SAMPLES / "otel_traces_01.json").read_text())
    source = original["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    exported = json.loads(line)["resourceSpans"][0]
    assert exported["resource"] == original["resourceSpans"][0]["resource"]
    scopes = [s["scope"]["name"] for s in exported["scopeSpans"]]
    assert scopes == ["testing-library-2", "testing-library-3"]
    span = exported["scopeSpans"][0]["spans"][0]
    for key in ("traceState", "flags", "events", "links", "status", "kind", "name"):
        assert span[key] == source[key], key
    attributes = {a["key"]: a["value"] for a in span["attributes"]}
    for kv in source["attributes"]:
        assert attributes[kv["key"]] == kv["value"]


def test_the_same_file_imported_at_once_is_stored_once(store_url: str, tmp_path: Path):
    source = open_store(str(tmp_path / "source.db"))
    try:
        source.save_traces([make_trace(n, spans=2) for n in range(1, RACED_TRACES + 1)])
        write_export(source, [f"{n:032x}" for n in range(1, RACED_TRACES + 1)], tmp_path / "t.json")
    finally:
        source.close()
    for round_ in range(RACE_ROUNDS):
        url = store_url if store_url.startswith("http") else str(tmp_path / f"t{round_}.db")
        if round_ and url == store_url:
            wipe_sqld(url)
        reports = _import_at_once(url, tmp_path / "t.json", IMPORTERS)
        assert sum(r.traces_added for r in reports) == RACED_TRACES
        assert {r.traces_added + r.traces_skipped for r in reports} == {RACED_TRACES}
        target = open_store(url)
        try:
            assert count_rows(target) == (RACED_TRACES, 2 * RACED_TRACES)
        finally:
            target.close()


def _import_at_once(url: str, path: Path, importers: int) -> list[ImportReport]:
    """`importers` threads import the same file into the store at the same moment."""
    start = threading.Barrier(importers)
    reports: list[ImportReport] = []

    def import_one() -> None:
        repo = open_store(url)
        try:
            start.wait()
            reports.append(import_file(repo, path))
        finally:
            repo.close()

    with ThreadPoolExecutor(importers) as pool:
        for done in [pool.submit(import_one) for _ in range(importers)]:
            done.result()
    return reports
