"""`show` prints the lines around where a script failed or blocked from the version that ran,
after its file has changed on disk; `replay` diffs each changed script against that version;
imported traces and stores from before the table say why they have no source."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result

from pipetrace.app.cli import main
from pipetrace.app.script_source import IMPORTED, NOT_KEPT, OLD_STORE
from pipetrace.store import open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.migrate import upgrade
from pipetrace.store.url import parse_database_url

MANIFEST = """\
[triggers.check]
mode = "blocking"

[[scripts]]
id = "gate"
trigger = "check"
file = "gate.lua"

[[scripts]]
id = "scorer"
trigger = "check"
file = "scorer.lua"
depends_on = ["gate"]
"""
GATE = """\
-- blocks what asks to be blocked
if context.block then
\treturn { allowed = false, error = "asked to block" }
end
"""
SCORER = """\
-- line 1
local weights = { a = 1 }
local score = 0
for key, value in pairs(context) do
  score = score + weights[key] * value
end
return { data = { score = score } }
"""


def _cli(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args))


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "pipelines.toml").write_text(MANIFEST)
    (folder / "gate.lua").write_text(GATE)
    (folder / "scorer.lua").write_text(SCORER)
    return folder


def _run(db: str, folder: Path, payload: dict[str, object]) -> str:
    result = _cli(
        "run", "check", "--input", json.dumps(payload), "--pipelines", str(folder), "--db", db
    )
    assert result.exit_code == 0, result.output
    result = _cli("traces", "--db", db, "--json", "--limit", "1")
    return str(json.loads(result.stdout)["traces"][0]["trace_id"])


def test_show_prints_the_failing_line_of_the_version_that_ran(tmp_path: Path) -> None:
    db, folder = str(tmp_path / "t.db"), _folder(tmp_path)
    trace_id = _run(db, folder, {"b": 2})
    scorer = folder / "scorer.lua"
    scorer.write_text(SCORER.replace("weights[key] * value", "(weights[key] or 0) * value"))
    shown = _cli("show", trace_id, "--db", db)
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert "scorer error at scorer.lua:5: " in out
    assert "scorer.lua as it ran (version " in out and ") line 5:" in out
    assert "  > 5 │   score = score + weights[key] * value" in out
    assert "    2 │ local weights = { a = 1 }" in out
    assert "    8 │" not in out and "(weights[key] or 0)" not in out
    assert "gate.lua as it ran" not in out  # it neither failed nor blocked


def test_show_prints_a_blocking_script_whole_and_tabs_as_spaces(tmp_path: Path) -> None:
    db, folder = str(tmp_path / "t.db"), _folder(tmp_path)
    trace_id = _run(db, folder, {"block": True})
    (folder / "gate.lua").write_text("return nil\n")
    out = _cli("show", trace_id, "--db", db).stdout
    assert "gate.lua as it ran (version " in out
    assert "    1 │ -- blocks what asks to be blocked" in out
    assert '    3 │     return { allowed = false, error = "asked to block" }' in out
    assert "\\x09" not in out and "return nil" not in out


def test_replay_diffs_each_changed_script_against_the_version_that_ran(tmp_path: Path) -> None:
    db, folder = str(tmp_path / "t.db"), _folder(tmp_path)
    trace_id = _run(db, folder, {"b": 2})
    fixed = SCORER.replace("weights[key] * value", "(weights[key] or 0) * value")
    (folder / "scorer.lua").write_text(fixed)
    replayed = _cli("replay", trace_id, "--pipelines", str(folder), "--db", db, "--no-store")
    assert replayed.exit_code == 0, replayed.output
    lines = replayed.stdout.splitlines()
    assert any(line.startswith("--- scorer.lua (ran, ") for line in lines)
    assert any(line.startswith("+++ scorer.lua (candidate, ") for line in lines)
    assert "-  score = score + weights[key] * value" in lines
    assert "+  score = score + (weights[key] or 0) * value" in lines
    assert not any(line.startswith("--- gate.lua") for line in lines)
    as_json = json.loads(
        _cli("replay", trace_id, "--pipelines", str(folder), "--db", db, "--json").stdout
    )
    (diff,) = as_json["script_diffs"]
    assert diff["script_id"] == "scorer" and diff["missing"] is None
    assert "+  score = score + (weights[key] or 0) * value" in diff["diff"].splitlines()
    stored = _cli("traces", "--db", db, "--replays", "only", "--json")
    replay_id = json.loads(stored.stdout)["traces"][0]["trace_id"]
    kept = _cli("show", replay_id, "--db", db).stdout  # it failed further on, in the fixed one
    assert "  > 5 │   score = score + (weights[key] or 0) * value" in kept


def test_imported_traces_and_older_stores_say_why_there_is_no_source(tmp_path: Path) -> None:
    db, folder = str(tmp_path / "t.db"), _folder(tmp_path)
    trace_id = _run(db, folder, {"b": 2})
    exported = tmp_path / "out.jsonl"
    assert _cli("export", "--db", db, "-o", str(exported)).exit_code == 0
    other = str(tmp_path / "other.db")
    assert _cli("import", "--db", other, str(exported)).exit_code == 0
    assert (
        f"scorer.lua source not shown: {NOT_KEPT}" in _cli("show", trace_id, "--db", other).stdout
    )
    with sqlite3.connect(other) as conn:
        conn.execute("UPDATE pipeline_traces SET source = 'otlp'")
    conn.close()
    assert f"script source: {IMPORTED}" in _cli("show", trace_id, "--db", other).stdout

    old = str(tmp_path / "old.db")
    backend = open_backend(parse_database_url(old))
    try:
        upgrade(backend, "0005")
    finally:
        backend.close()
    source, repo = open_store(db, migrate=False), open_store(old, migrate=False)
    try:
        found = source.get_trace_with_spans(trace_id)
        assert found is not None
        repo.save_traces([found])
    finally:
        source.close()
        repo.close()
    shown = _cli("show", trace_id, "--db", old)
    assert shown.exit_code == 0, shown.output
    assert f"scorer.lua source not shown: {OLD_STORE}" in shown.stdout
