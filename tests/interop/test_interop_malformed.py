"""Malformed files are refused with one line naming the file and line, and nothing is stored."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.interop_data import SAMPLES, count_rows

from pipetrace.store import Repository
from pipetrace.store.interop import MalformedFile, import_file, import_text, write_export

GOOD_LINE = (SAMPLES / "otlp2jaeger-multi-in.json.txt").read_text().splitlines()[0]


def _refused(repo: Repository, path: Path, expected: str) -> str:
    before = count_rows(repo)
    with pytest.raises(MalformedFile) as caught:
        import_file(repo, path)
    assert count_rows(repo) == before
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:") and expected in message, message
    return message


def _span_line(**changes: Any) -> str:
    doc = json.loads(GOOD_LINE)
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for key, value in changes.items():
        if value is None:
            del span[key]
        else:
            span[key] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"traceId": "XYZ" * 10 + "ab"}, "spans[0].traceId is not 32 hex digits"),
        ({"spanId": None}, "spans[0].spanId is missing"),
        ({"spanId": 12}, "spans[0].spanId is not a string"),
        ({"startTimeUnixNano": "-5"}, "startTimeUnixNano is not a non-negative integer time"),
        ({"startTimeUnixNano": True}, "startTimeUnixNano is not a non-negative integer time"),
        ({"endTimeUnixNano": "1"}, "endTimeUnixNano is before startTimeUnixNano"),
        ({"kind": 9}, "spans[0].kind is not a known value"),
        ({"attributes": [{"key": "a", "value": {"intValue": "x1"}}]}, "attributes[0].value"),
        ({"status": {"code": "bad"}}, "status.code is not a known value"),
        ({"name": ["x"]}, "spans[0].name is not a string"),
    ],
)
def test_bad_span_in_json_lines_names_the_line(repo: Repository, tmp_path, changes, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text(GOOD_LINE + "\n" + GOOD_LINE + "\n" + _span_line(**changes) + "\n")
    message = _refused(repo, path, expected)
    assert message.startswith(f"{path}:3: resourceSpans[0].scopeSpans[0].spans[0].")


def test_pretty_document_error_points_at_the_line(sqlite_repo: Repository, tmp_path):
    doc = json.loads((SAMPLES / "otel_traces_01.json").read_text())
    doc["resourceSpans"][0]["scopeSpans"][1]["spans"][1]["spanId"] = "not-hex-at-all!!"
    text = json.dumps(doc, indent=2)
    path = tmp_path / "bad.json"
    path.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "not-hex-at-all" in t)
    _refused(
        sqlite_repo,
        path,
        f"bad.json:{line}: resourceSpans[0].scopeSpans[1].spans[1].spanId is not 16 hex digits",
    )


def test_truncated_json_gives_line_and_column(repo: Repository, tmp_path):
    text = (SAMPLES / "trace.json").read_text()
    path = tmp_path / "cut.json"
    cut = text[: text.index('"kind"')]
    path.write_text(cut)
    with pytest.raises(json.JSONDecodeError) as where:
        json.loads(cut)
    message = _refused(
        repo,
        path,
        f"cut.json:{where.value.lineno}:{where.value.colno}: not valid JSON (Expecting property",
    )
    assert "import takes" not in message  # it is JSON, cut short: no need to list the formats
    lines = tmp_path / "cut.jsonl"
    lines.write_text(GOOD_LINE + "\n" + GOOD_LINE[:200] + "\n" + GOOD_LINE + "\n")
    with pytest.raises(json.JSONDecodeError) as where:
        json.loads(GOOD_LINE[:200])
    _refused(repo, lines, f"{lines}:2:{where.value.colno}: not valid JSON (Unterminated string")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"foo": 1}', "unknown format"),
        ("42", "unknown format"),
        ("   \n", "the file is empty"),
        ('[{"traceId": "a03ee8fff1dcd9b9", "id": "1", "kind": "SIDEWAYS",'
         ' "timestamp": 1}]', "[0].kind"),
        ('[{"traceId": "a03ee8fff1dcd9b9", "id": "1", "timestamp": -3}]', "[0].timestamp"),
        ('[{"traceId": "a03ee8fff1dcd9b9", "timestamp": 3}]', "[0].id is missing"),
        ('{"data": [{"spans": [{"traceID": "ab", "spanID": "cd", "startTime": "x"}]}]}',
         "data[0].spans[0].startTime is not a number of microseconds"),
        ('{"data": [{"spans": [{"traceID": "ab", "spanID": "cd", "startTime": 5,'
         ' "tags": [{"key": "k", "type": "int64", "value": "x"}]}]}]}',
         "data[0].spans[0].tags[0].value is not a int64 value"),
        ('{"data": {"traceID": "ab", "spans": []}}', "bad.json:1: data is not a list of traces"),
    ],
)  # fmt: skip
def test_hand_made_bad_files(repo: Repository, tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    _refused(repo, path, expected)


LONE = "\ud800"
"""A high surrogate with no low one after it: JSON can escape it, UTF-8 cannot store it."""


def _otlp_with_lone_surrogates() -> str:
    doc = json.loads(_span_line(name=f"lone{LONE}"))
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["attributes"] = [{"key": f"k{LONE}", "value": {"stringValue": f"v{LONE}"}}]
    return GOOD_LINE + "\n" + json.dumps(doc) + "\n"


def _jaeger_with_lone_surrogates() -> str:
    tag = {"key": f"k{LONE}", "type": "string", "value": f"v{LONE}"}
    span = {"traceID": "ab", "spanID": "cd", "operationName": f"lone{LONE}", "startTime": 5}
    return json.dumps({"data": [{"spans": [{**span, "tags": [tag]}]}]}, indent=1)


def _zipkin_with_lone_surrogates() -> str:
    span = {"traceId": "ab", "id": "cd", "name": f"lone{LONE}", "timestamp": 5}
    return json.dumps([{**span, "tags": {f"k{LONE}": f"v{LONE}"}}])


@pytest.mark.parametrize(
    "make", [_otlp_with_lone_surrogates, _jaeger_with_lone_surrogates, _zipkin_with_lone_surrogates]
)
def test_lone_surrogates_become_replacement_characters(repo: Repository, tmp_path, make):
    path = tmp_path / "lone.json"
    path.write_text(make())
    assert "\\ud800" in path.read_text()
    report = import_file(repo, path)
    (span,) = [
        s
        for t in repo.list_traces(limit=10).rows
        for s in repo.get_trace_with_spans(t.id).spans
        if s.name.startswith("lone")
    ]
    assert report.traces_added >= 1 and span.name == "lone\ufffd"
    assert span.attributes["k\ufffd"] == "v\ufffd"
    exported = tmp_path / "out.jsonl"
    write_export(repo, [span.trace_id], exported)
    assert "lone\ufffd" in exported.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "content", "where", "cause"),
    [
        ("SOURCES.md", "# Sources\n\nSee the README.\n", "1:1", "Expecting value"),
        ("spans.csv", "trace_id,span_id\n1,2\n", "1:1", "Expecting value"),
        ("notes.txt", "\n\n  nothing here\n", "3:3", "Expecting value"),
    ],
)
def test_a_file_that_is_not_json_says_so_and_what_import_takes(
    sqlite_repo: Repository, tmp_path, name: str, content: str, where: str, cause: str
):
    path = tmp_path / name
    path.write_text(content)
    message = _refused(sqlite_repo, path, "")
    assert message == (
        f"{path}:{where}: not valid JSON ({cause}); "
        "import takes OTLP JSON, Jaeger JSON or Zipkin JSON"
    )


def test_not_utf8_gives_the_byte_offset(sqlite_repo: Repository, tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"resourceSpans": [], "x": "caf\xe9"}')
    _refused(
        sqlite_repo, path, "latin1.json: not UTF-8 text (byte 0xe9 at offset 31); import takes "
    )


def test_valid_traces_before_the_error_are_not_stored(repo: Repository, tmp_path):
    good = (SAMPLES / "otlp2jaeger-multi-in.json.txt").read_text()
    path = tmp_path / "mixed.jsonl"
    path.write_text(good + '{"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}]}\n')
    _refused(repo, path, ":5: resourceSpans[0].scopeSpans[0].spans[0].traceId is missing")
    assert count_rows(repo) == (0, 0)


def _mutations(doc: Any) -> st.SearchStrategy[Any]:
    """A copy of `doc` with one value somewhere replaced by arbitrary JSON, or removed."""
    junk = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=6,
    )

    @st.composite
    def mutate(draw: st.DrawFn) -> Any:
        out = copy.deepcopy(doc)
        node = out
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                return out
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            if isinstance(node, dict) and draw(st.booleans()):
                del node[key]
            else:
                node[key] = draw(junk)
            return out

    return mutate()


SAMPLE_DOCS = {
    name: json.loads((SAMPLES / name).read_text())
    for name in ("trace.json", "otel_traces_01.json", "otlp2jaeger-out.json", "yelp.json")
}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), name=st.sampled_from(sorted(SAMPLE_DOCS)))
def test_mutated_samples_import_or_are_refused_cleanly(sqlite_repo: Repository, data, name):
    doc = data.draw(_mutations(SAMPLE_DOCS[name]))
    text = json.dumps(doc, indent=1)
    before = count_rows(sqlite_repo)
    try:
        report = import_text(sqlite_repo, text, "mutated.json")
    except MalformedFile as exc:
        assert str(exc).startswith("mutated.json")
        assert "\n" not in str(exc)
        assert count_rows(sqlite_repo) == before
        return
    after = count_rows(sqlite_repo)
    added = report.spans + report.spans_merged
    assert after == (before[0] + report.traces_added, before[1] + added)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_arbitrary_text_is_refused_or_empty(sqlite_repo: Repository, text):
    before = count_rows(sqlite_repo)
    try:
        report = import_text(sqlite_repo, text, "noise")
    except MalformedFile as exc:
        assert str(exc).startswith("noise")
        assert count_rows(sqlite_repo) == before
        return
    assert report.spans == 0 and count_rows(sqlite_repo) == before
