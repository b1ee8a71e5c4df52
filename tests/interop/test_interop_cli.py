"""`pipetrace import` and `pipetrace export` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli.test_store_commands import strict_json
from click.testing import CliRunner
from factories import make_trace
from interop.interop_data import SAMPLES, count_rows

from pipetrace.app.cli import main
from pipetrace.store import open_store
from pipetrace.store.interop import write_export
from pipetrace.store.sql import Statement


def test_import_files_one_bad_export_to_file(tmp_path, store_url):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"traceId": "zz", "id": "1", "timestamp": 1}]')
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "import",
            "--db",
            store_url,
            str(SAMPLES / "yelp.json"),
            str(bad),
            str(SAMPLES / "trace.json"),
        ],
    )
    assert result.exit_code == 2
    assert f"{SAMPLES / 'yelp.json'}: zipkin: added 1 trace (16 spans)" in result.output
    assert f"pipetrace: {bad}:1: [0].traceId is not 32 hex digits ('zz')" in result.output
    again = runner.invoke(main, ["import", "--db", store_url, str(SAMPLES / "trace.json")])
    assert again.exit_code == 0
    assert again.output.endswith(
        "trace.json: otlp: added 0 traces (0 spans), merged 0 spans into 0 stored traces, "
        "skipped 1 duplicate span\n"
    )
    out = tmp_path / "out.jsonl"
    exported = runner.invoke(main, ["export", "--db", store_url, "-o", str(out), "--limit", "1"])
    assert exported.exit_code == 0, exported.output
    assert "exported 1 trace (16 spans)" in exported.output
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] == (
        "0000000000000000a03ee8fff1dcd9b9"
    )
    repo = open_store(store_url)
    try:
        assert count_rows(repo) == (2, 17)
    finally:
        repo.close()


def test_importing_a_file_that_is_not_json_says_what_import_takes(tmp_path):
    readme = tmp_path / "SOURCES.md"
    readme.write_text("# Sources\n")
    result = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "t.db"), str(readme)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"pipetrace: {readme}:1:1: not valid JSON (Expecting value); "
        "import takes OTLP JSON, Jaeger JSON or Zipkin JSON"
    ]


def test_export_one_trace_by_prefix_to_stdout(tmp_path):
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    runner.invoke(main, ["import", "--db", db, str(SAMPLES / "trace.json")])
    for args, service in [([], "my.service"), (["--service-name", "auth-prod"], "auth-prod")]:
        result = runner.invoke(main, ["export", "--db", db, "--trace", "5B8E", *args])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout.splitlines()[0])
        assert doc["resourceSpans"][0]["resource"]["attributes"] == [
            {"key": "service.name", "value": {"stringValue": service}}
        ]
    missing = runner.invoke(main, ["export", "--db", db, "--trace", "f" * 32])
    assert missing.exit_code == 2 and f"no trace {'f' * 32}" in missing.output


def _store(tmp_path, items, *statements) -> str:
    """A SQLite store holding `items`, then changed by raw SQL as a foreign writer would."""
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    try:
        repo.save_traces(items)
        repo.backend.write(list(statements))
    finally:
        repo.close()
    return db


def test_a_failed_export_leaves_the_existing_file_alone(tmp_path):
    item = make_trace(1)
    deep = "[" * 2000 + "]" * 2000
    db = _store(
        tmp_path,
        [item, make_trace(2)],
        Statement(
            "UPDATE pipeline_spans SET extra = ? WHERE trace_id = ? AND parent_span_id IS NOT NULL",
            ('{"a": ' + deep + "}", item.trace.id),
        ),
    )
    out = tmp_path / "k.jsonl"
    out.write_text("precious\n")
    runner = CliRunner()
    missing = runner.invoke(main, ["export", "--db", db, "--trace", "nosuchid", "-o", str(out)])
    assert missing.exit_code == 2
    assert missing.output == f"pipetrace: no trace nosuchid in {db}\n"
    damaged = runner.invoke(main, ["export", "--db", db, "-o", str(out)])
    assert damaged.exit_code == 2
    assert damaged.output == (
        f"pipetrace: trace {item.trace.id}: span {item.spans[1].id}: cannot export: stored row "
        "problem: extra: JSON nested deeper than 100 levels\n"
    )
    assert out.read_text() == "precious\n"
    repo = open_store(db)
    try:
        report = write_export(repo, [f"{2:032x}", "f" * 32], out)
    finally:
        repo.close()
    assert report.missing == ["f" * 32] and out.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    good = runner.invoke(main, ["export", "--db", db, "--trace", f"{2:032x}", "-o", str(out)])
    assert good.exit_code == 0 and "exported 1 trace (3 spans)" in good.output
    assert len(out.read_text().splitlines()) == 1


def test_export_writes_stored_nan_and_lone_surrogates_as_json(tmp_path):
    """As an import of a file with a bare NaN stores them; export writes both as valid JSON, and
    importing that file again stores the surrogates as U+FFFD, as every import does."""
    item = make_trace(1)
    nan = '[{"key": "x", "value": {"doubleValue": NaN}}]'
    item.spans[0].attributes = {"\ud800": "x\udfff"}
    db = _store(
        tmp_path,
        [item],
        Statement(
            "UPDATE pipeline_spans SET extra = ? WHERE trace_id = ? AND parent_span_id IS NULL",
            (
                f'{{"events": [{{"name": "e", "timeUnixNano": "1", "attributes": {nan}}}]}}',
                item.trace.id,
            ),
        ),
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["export", "--db", db, "-o", str(out)])
    assert result.exit_code == 0, result.output
    (line,) = out.read_text(encoding="utf-8").splitlines()
    span = strict_json(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["events"][0]["attributes"][0]["value"] == {"doubleValue": "NaN"}
    assert span["attributes"][0] == {"key": "\ud800", "value": {"stringValue": "x\udfff"}}
    again = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "back.db"), str(out)])
    assert again.exit_code == 0, again.output
    back = open_store(str(tmp_path / "back.db"))
    try:
        found = back.get_trace_with_spans(item.trace.id)
    finally:
        back.close()
    assert found is not None and found.spans[0].attributes == {"\ufffd": "x\ufffd"}
    assert found.spans[0].extra is not None and found.spans[0].extra["events"][0]["name"] == "e"


def test_export_to_a_device_writes_through_it_and_appends(tmp_path: Path) -> None:
    """-o /dev/stdout reaches a pipe, and a shell's `>> log` behind it keeps what it had."""
    db = _store(tmp_path, [make_trace(1), make_trace(2)])
    log = tmp_path / "log.jsonl"
    log.write_text("kept\n")
    command = [sys.executable, "-m", "pipetrace", "export", "--db", db, "-o", "/dev/stdout"]
    piped = subprocess.run(command, capture_output=True, text=True, check=True)
    assert len(piped.stdout.splitlines()) == 2
    with log.open("a") as handle:
        subprocess.run(command, stdout=handle, check=True)
    assert log.read_text().splitlines()[0] == "kept" and len(log.read_text().splitlines()) == 3


def test_an_empty_service_name_is_refused_in_one_line(tmp_path: Path) -> None:
    """An empty name would be written into every exported resource."""
    for name in ("", "  "):
        result = CliRunner().invoke(
            main, ["export", "--service-name", name, "--db", str(tmp_path / "t.db")]
        )
        assert result.exit_code == 2
        assert result.stderr == "pipetrace: --service-name: the name is empty\n"
