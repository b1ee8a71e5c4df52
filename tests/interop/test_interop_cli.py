"""`pipetrace import` and `pipetrace export` from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner
from interop.interop_data import SAMPLES, count_rows

from app.cli import main
from store import open_store


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
    assert f"{SAMPLES / 'yelp.json'}: zipkin: added 1 traces (16 spans)" in result.output
    assert f"pipetrace: {bad}:1: [0].traceId is not 32 hex digits ('zz')" in result.output
    again = runner.invoke(main, ["import", "--db", store_url, str(SAMPLES / "trace.json")])
    assert again.exit_code == 0 and "skipped 1 already stored" in again.output
    out = tmp_path / "out.jsonl"
    exported = runner.invoke(main, ["export", "--db", store_url, "-o", str(out), "--limit", "1"])
    assert exported.exit_code == 0, exported.output
    assert "exported 1 traces (16 spans)" in exported.output
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] == (
        "0000000000000000a03ee8fff1dcd9b9"
    )
    repo = open_store(store_url)
    try:
        assert count_rows(repo) == (2, 17)
    finally:
        repo.close()


def test_export_one_trace_by_prefix_to_stdout(tmp_path):
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    runner.invoke(main, ["import", "--db", db, str(SAMPLES / "trace.json")])
    result = runner.invoke(main, ["export", "--db", db, "--trace", "5B8E", "--service-name", "x"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout.splitlines()[0])
    assert doc["resourceSpans"][0]["resource"]["attributes"][0]["value"] == {
        "stringValue": "my.service"
    }
    missing = runner.invoke(main, ["export", "--db", db, "--trace", "f" * 32])
    assert missing.exit_code == 2 and f"no trace {'f' * 32}" in missing.output
