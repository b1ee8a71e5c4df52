"""Large files are read a line or a span at a time, and well-formed OTLP takes the quick path:
both give the rows the plain reading gives, and refuse the same files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from interop.interop_data import SAMPLES, all_trace_ids, pipeline_trace, stored_rows

from pipetrace.store import Repository, open_store
from pipetrace.store.interop import MalformedFile, import_file, importer, write_export
from pipetrace.store.interop import documents as documents_module
from pipetrace.store.interop.otlp_fast import quick_otlp
from pipetrace.store.interop.otlp_in import parse_otlp

NAMES = sorted(p.name for p in SAMPLES.iterdir() if p.name != "SOURCES.md")
QUICK = ("trace.json", "otlp2jaeger-in.json")
"""OTLP samples in the shapes the quick reading takes (otel_traces_01.json has a bytesValue)."""


def _imported(folder: Path, path: Path) -> dict[str, tuple[dict, list[dict]]]:
    repo = open_store(str(folder / f"{path.name}.{len(list(folder.iterdir()))}.db"))
    try:
        import_file(repo, path)
        return stored_rows(repo)
    finally:
        repo.close()


@pytest.fixture
def tiny_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file counts as large and every line as long, so all of them stream."""
    monkeypatch.setattr(importer, "WHOLE_LIMIT", 10)
    monkeypatch.setattr(documents_module, "LINE_LIMIT", 200)


@pytest.mark.parametrize("name", NAMES)
def test_streamed_files_store_the_rows_a_whole_read_stores(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _imported(tmp_path, SAMPLES / name)
    monkeypatch.setattr(importer, "WHOLE_LIMIT", 10)
    monkeypatch.setattr(documents_module, "LINE_LIMIT", 200)
    assert _imported(tmp_path, SAMPLES / name) == plain


def test_streamed_json_lines_and_documents_of_engine_traces(
    tmp_path: Path, tiny_limits: None
) -> None:
    """A pipetrace export (one trace a line, longer than a line may be) and the same traces as
    one pretty-printed document round-trip through the streaming reader."""
    source = open_store(str(tmp_path / "source.db"))
    items = [pipeline_trace(n, "success", None) for n in range(3)]
    source.save_traces(items)
    lines = tmp_path / "lines.jsonl"
    write_export(source, [t.trace.id for t in items], lines)
    expected = stored_rows(source)
    source.close()
    assert _imported(tmp_path, lines) == expected
    merged = {"resourceSpans": []}
    for line in lines.read_text().splitlines():
        merged["resourceSpans"] += json.loads(line)["resourceSpans"]
    document = tmp_path / "document.json"
    document.write_text(json.dumps(merged, indent=2))
    assert _imported(tmp_path, document) == expected


def test_a_streamed_document_names_the_line_of_a_bad_value(
    sqlite_repo: Repository, tmp_path: Path, tiny_limits: None
) -> None:
    doc = json.loads((SAMPLES / "otel_traces_01.json").read_text())
    doc["resourceSpans"][0]["scopeSpans"][1]["spans"][1]["spanId"] = "not-hex-at-all!!"
    text = json.dumps(doc, indent=2)
    path = tmp_path / "bad.json"
    path.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "not-hex-at-all" in t)
    with pytest.raises(MalformedFile) as caught:
        import_file(sqlite_repo, path)
    assert str(caught.value) == (
        f"{path}:{line}: resourceSpans[0].scopeSpans[1].spans[1].spanId is not 16 hex digits "
        "('not-hex-at-all!!')"
    )
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(MalformedFile, match=r"cut.json: not valid JSON \(parse error"):
        import_file(sqlite_repo, cut)
    assert all_trace_ids(sqlite_repo) == []


@pytest.mark.parametrize("name", QUICK)
def test_the_quick_reading_gives_the_plain_readings_rows(name: str) -> None:
    text = (SAMPLES / name).read_text()
    quick = quick_otlp(text)
    assert quick is not None
    assert quick == list(parse_otlp(json.loads(text)))


def test_the_quick_reading_of_engine_traces_keeps_their_columns(tmp_path: Path) -> None:
    source = open_store(str(tmp_path / "source.db"))
    items = [pipeline_trace(n, status, None) for n, status in enumerate(("success", "blocked"))]
    source.save_traces(items)
    lines = tmp_path / "lines.jsonl"
    write_export(source, [t.trace.id for t in items], lines)
    source.close()
    for line in lines.read_text().splitlines():
        quick = quick_otlp(line)
        assert quick is not None and quick == list(parse_otlp(json.loads(line)))
    assert quick_otlp((SAMPLES / "otel_traces_01.json").read_text()) is None


@pytest.mark.parametrize(
    "value",
    [
        {"stringValue": "a", "intValue": "1"},
        {"intValue": "--1"},
        {"intValue": str(2**63)},
        {"bytesValue": "AAAwOQ=="},
        {"doubleValue": "NaN"},
        {"stringValue": None},
    ],
)
def test_unusual_values_are_left_to_the_plain_reading(value: dict) -> None:
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "startTimeUnixNano": "1"}
    span["attributes"] = [{"key": "k", "value": value}]
    text = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
    assert quick_otlp(text) is None


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"doubleValue": 2},
        {"boolValue": False},
        {"intValue": -7},
        {"arrayValue": {}},
        {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "3"}, {}]}},
        {"kvlistValue": {"values": [{"key": "n", "value": {"kvlistValue": {}}}, {"key": "e"}]}},
    ],
)
def test_usual_values_take_the_quick_reading_and_read_as_the_plain_one(value: dict) -> None:
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "startTimeUnixNano": "1"}
    span["attributes"] = [{"key": "k", "value": value}]
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    quick = quick_otlp(json.dumps(doc))
    assert quick is not None and quick == list(parse_otlp(doc))
