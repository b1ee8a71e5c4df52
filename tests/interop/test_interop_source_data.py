"""An imported trace exports the source's data: each span exactly the attributes its source
gave it, its resource as it came, and nothing pipetrace adds (no pipeline.*, no import time)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from interop.interop_data import SAMPLES, all_trace_ids, endpoint_attributes, pipeline_trace

from pipetrace.store import Repository
from pipetrace.store.interop import export_traces, import_file
from pipetrace.store.interop.anyvalue import decode_attributes

OTLP = ("trace.json", "otel_traces_01.json", "otlp2jaeger-in.json", "otlp2jaeger-multi-in.json.txt")
JAEGER_FIELDS = {
    "span.kind",
    "otel.scope.name",
    "otel.scope.version",
    "otel.library.name",
    "otel.library.version",
    "otel.status_code",
    "otel.status_description",
    "w3c.tracestate",
}
"""Tags Jaeger derives from OTLP span fields; import turns them back into those fields."""
JAEGER_TYPES = {"string": str, "bool": bool, "int64": int, "float64": float}


def _documents(name: str) -> list[dict[str, Any]]:
    text = (SAMPLES / name).read_text()
    if not name.endswith(".txt"):
        return [json.loads(text)]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _source_otlp(name: str) -> dict[tuple[str, str], tuple[list[Any], list[Any]]]:
    """(trace id, span id) -> (the span's KeyValue list, its resource's) as the file has them."""
    return {
        (span["traceId"].lower(), span["spanId"].lower()): (
            span.get("attributes", []),
            (rs.get("resource") or {}).get("attributes", []),
        )
        for doc in _documents(name)
        for rs in doc["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    }


def _source_jaeger(name: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(trace id, span id) -> the span's tags but those Jaeger derived from OTLP fields."""
    (doc,) = _documents(name)
    return {
        (span["traceID"].rjust(32, "0"), span["spanID"].rjust(16, "0")): {
            tag["key"]: JAEGER_TYPES[tag.get("type", "string")](tag["value"])
            for tag in span.get("tags", [])
            if tag["key"] not in JAEGER_FIELDS
        }
        for trace in doc["data"]
        for span in trace["spans"]
    }


def _source_zipkin(name: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(trace id, span id, kind) -> tags and the endpoints' semantic-convention attributes."""
    (doc,) = _documents(name)
    return {
        (span["traceId"].rjust(32, "0"), span["id"], span.get("kind", "INTERNAL")): {
            **endpoint_attributes(span),
            **span.get("tags", {}),
        }
        for span in doc
    }


def _exported(repo: Repository) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every exported span with its resource."""
    return [
        (span, rs.get("resource") or {})
        for line in export_traces(repo, all_trace_ids(repo))
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]


KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


@pytest.mark.parametrize(
    "name", sorted(p.name for p in SAMPLES.iterdir() if p.name != "SOURCES.md")
)
def test_an_imported_trace_exports_exactly_the_sources_attributes(
    sqlite_repo: Repository, name: str
) -> None:
    report = import_file(sqlite_repo, SAMPLES / name)
    exported = _exported(sqlite_repo)
    assert len(exported) == report.spans
    for span, resource in exported:
        key = (span["traceId"], span["spanId"])
        keys = {a["key"] for a in span["attributes"]}
        assert not any(k.startswith("pipeline.") for k in keys), (name, keys)
        if name in OTLP:
            attributes, source_resource = _source_otlp(name)[key]
            assert span["attributes"] == attributes, key
            assert resource.get("attributes", []) == source_resource, key
        elif report.format == "jaeger":
            assert decode_attributes(span["attributes"])[0] == _source_jaeger(name)[key], key
        else:
            expected = _source_zipkin(name)[(*key, KINDS[span["kind"]])]
            assert decode_attributes(span["attributes"])[0] == expected, key


def test_an_engine_trace_still_carries_its_columns(sqlite_repo: Repository) -> None:
    """What pipetrace adds appears on the traces its engine recorded, namespaced pipeline.*."""
    item = pipeline_trace(0, "blocked", "disposable email")
    sqlite_repo.save_traces([item])
    (line,) = export_traces(sqlite_repo, [item.trace.id])
    spans = json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    root = {a["key"] for a in spans[0]["attributes"]}
    assert {"pipeline.trigger", "pipeline.trace.status", "pipeline.trace.created_at"} <= root
    assert all("pipeline.status" in {a["key"] for a in s["attributes"]} for s in spans)
