"""Every command's text output carries stored, imported and typed text that would drive a
terminal only as visible escapes, and its JSON output stays exact JSON that a terminal shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hostile_text import (
    Hostile,
    hostile_classes,
    hostile_input,
    hostile_otlp,
    hostile_pipelines,
    record_hostile,
)

from pipetrace.app.cli import main
from pipetrace.store import open_store

IMPORTED = "5b8efff798038103d269b633813fc60c"
"""The trace id of the hostile OTLP file."""


@dataclass(frozen=True)
class HostileStore:
    """A store whose name holds the hostile text, with a trace the engine recorded from the
    hostile pipelines and a trace imported from the hostile OTLP file."""

    db: str
    pipelines: Path
    recorded: str
    otlp: Path


@pytest.fixture
def store(tmp_path: Path, hostile: Hostile) -> HostileStore:
    pipelines = hostile_pipelines(tmp_path / "pipelines", hostile)
    db = str(tmp_path / f"traces{hostile.in_names}.db")
    repo = open_store(db)
    try:
        recorded = record_hostile(repo, pipelines, hostile)
    finally:
        repo.close()
    otlp = hostile_otlp(tmp_path / f"in{hostile.in_names}.json", hostile)
    assert invoke("import", str(otlp), "--db", db).exit_code == 0
    return HostileStore(db, pipelines, recorded, otlp)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def check_json(hostile: Hostile, result: Result) -> object:
    """The output parsed: exact JSON whose strings keep the hostile text, which the output
    itself holds only as JSON's escapes."""
    assert result.exit_code == 0, result.output
    hostile.check(result.stdout, hostile.in_json)
    return json.loads(result.stdout)


@hostile_classes
def test_run_prints_the_decision_with_escapes(hostile: Hostile, tmp_path: Path) -> None:
    blocking = hostile_pipelines(tmp_path / "blocking", hostile)
    allowing = hostile_pipelines(tmp_path / "allowing", hostile, block=False)
    common = ["--input", json.dumps(hostile_input(hostile)), "--user", hostile.raw]
    common += ["--db", str(tmp_path / "t.db")]
    blocked = invoke("run", hostile.raw, "--pipelines", str(blocking), *common)
    assert blocked.exit_code == 0, blocked.output
    hostile.check(blocked.stdout + blocked.stderr)
    first = blocked.stdout.splitlines()[0]
    assert first == f"{hostile.shown}: blocked: invalid email: {hostile.shown}"
    allowed = invoke("run", hostile.raw, "--pipelines", str(allowing), *common)
    assert allowed.exit_code == 0, allowed.output
    data = {hostile.raw: "v", "k": hostile.raw}  # ASCII JSON: the controls in JSON's escapes
    hostile.check(
        allowed.stdout + allowed.stderr,
        f"{hostile.shown}: allowed\n",
        f"data: {json.dumps(data, sort_keys=True)}\n",
        f"script error: crash{hostile.shown}: crash{hostile.names_shown}.lua:",
        f".lua:1: {hostile.shown}\n",
    )
    for pipelines, error in ((blocking, f"invalid email: {hostile.raw}"), (allowing, None)):
        run = invoke("run", hostile.raw, "--pipelines", str(pipelines), *common, "--json")
        assert check_json(hostile, run)["error"] == error  # type: ignore[index]


@hostile_classes
def test_traces_and_show_print_stored_text_with_escapes(
    hostile: Hostile, store: HostileStore
) -> None:
    shown = hostile.shown
    listed = invoke("traces", "--db", store.db)
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if line.startswith("20"))
    # the message (cut where the hostile names and the script that blocked leave it no room;
    # show prints it whole, below)
    hostile.check(listed.stdout + listed.stderr, "invalid email: ")
    assert f"check{shown}" in listed.stdout, "the by column names the script that blocked"
    assert row.endswith(f"{shown}  {shown}"), "user and ip"
    recorded = invoke("show", store.recorded, "--db", store.db)
    assert recorded.exit_code == 0, recorded.output
    hostile.check(
        recorded.stdout + recorded.stderr,
        f"{shown} {store.recorded}",
        f"user {shown}  ip {shown}",
        f"message: invalid email: {shown}",
        f"  check{shown}  ",
        f'input: {{"x": "{hostile.in_json}", "{hostile.in_json}": "v"}}',
        f"enrich{shown} output: {{",  # keys in the order Lua returned them
        f'"{hostile.in_json}": "v"',
        f'"k": "{hostile.in_json}"',
        f"crash{shown} error at crash{hostile.names_shown}.lua:",
        f".lua:1: {shown}\n",
    )
    imported = invoke("show", IMPORTED, "--db", store.db)
    assert imported.exit_code == 0, imported.output
    hostile.check(
        imported.stdout + imported.stderr, f"user {shown}  ip {shown}", f"message: {shown}"
    )
    for trace_id in (store.recorded, IMPORTED):
        stored = check_json(hostile, invoke("show", trace_id, "--db", store.db, "--json"))
        assert stored["trace"]["user_id"] == hostile.raw  # type: ignore[index]
    page = check_json(hostile, invoke("traces", "--db", store.db, "--json"))
    assert {t["trigger_event"] for t in page["traces"]} == {hostile.raw}  # type: ignore[index]


@hostile_classes
def test_replay_prints_the_diff_with_escapes(hostile: Hostile, store: HostileStore) -> None:
    args = ["replay", store.recorded, "--pipelines", str(store.pipelines), "--db", store.db]
    replayed = invoke(*args)
    assert replayed.exit_code == 0, replayed.output
    hostile.check(
        replayed.stdout + replayed.stderr,
        f"{hostile.shown} {store.recorded} replayed as ",
        f"message:  invalid email: {hostile.shown} -> invalid email: {hostile.shown}",
        f"crash{hostile.shown}  ",
        f"crash{hostile.names_shown}.lua:1: {hostile.shown}",
    )
    diff = check_json(hostile, invoke(*args, "--json"))
    assert diff["trigger"] == hostile.raw  # type: ignore[index]


@hostile_classes
def test_import_and_export_report_with_escapes(
    hostile: Hostile, store: HostileStore, tmp_path: Path
) -> None:
    again = invoke("import", str(store.otlp), "--db", store.db)
    assert again.exit_code == 0, again.output
    name = f"in{hostile.names_shown}.json"
    hostile.check(again.stdout + again.stderr, f"{name}: otlp: added 0 traces")
    exported = invoke("export", "--trace", IMPORTED, "--db", store.db)
    document = check_json(hostile, exported)
    hostile.check(exported.stderr, "exported 1 trace (1 span) to stdout")
    resource = document["resourceSpans"][0]  # type: ignore[index]
    assert resource["scopeSpans"][0]["scope"]["name"] == hostile.raw
    assert resource["scopeSpans"][0]["spans"][0]["name"] == hostile.raw
    assert resource["resource"]["attributes"][0]["value"]["stringValue"] == hostile.raw
    target = tmp_path / f"out{hostile.in_names}.jsonl"
    written = invoke("export", "-o", str(target), "--db", store.db)
    assert written.exit_code == 0, written.output
    hostile.check(written.stderr, f"out{hostile.names_shown}.jsonl")
    hostile.check(target.read_text(), hostile.in_json)


@hostile_classes
def test_store_lines_and_errors_name_hostile_text_with_escapes(
    hostile: Hostile, store: HostileStore, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pipelines.toml").write_text(
        (store.pipelines / "pipelines.toml").read_text()
        + f"depends_on = [{json.dumps(hostile.raw)}]\n"
    )
    for name in store.pipelines.glob("*.lua"):
        (broken / name.name).write_text(name.read_text())
    where = store.db.replace(hostile.in_names, hostile.names_shown)
    for args, expected in [
        (["cleanup", "--dry-run", "--older-than", "1d"], f"UTC) in {where}\n"),
        (["cleanup", "--yes", "--older-than", "1d"], f"UTC) from {where}\n"),
        (["db", "upgrade"], f"{where}: already at revision "),
        (["show", hostile.raw], f"pipetrace: no trace {hostile.raw!r} in {where}\n"),
        (["run", hostile.raw], f"pipetrace: no trigger {hostile.raw!r} in the bundled"),
        (["run", "t", "--input", f"@{hostile.in_names}.json"], f"{hostile.names_shown}.json: "),
        (["run", "t", "--pipelines", str(broken)], "depends on unknown script '"),
        (["traces", "--status", hostile.raw], "pipetrace traces: --status: "),
    ]:
        result = invoke(*args, "--db", store.db)
        hostile.check(result.stdout + result.stderr, expected)
        if result.exit_code:
            assert len(result.stderr.splitlines()) == 1, result.stderr


@hostile_classes
def test_backtest_reports_with_escapes(
    hostile: Hostile, store: HostileStore, tmp_path: Path
) -> None:
    candidate = hostile_pipelines(tmp_path / f"candidate{hostile.in_names}", hostile, block=False)
    args = ["backtest", "--pipelines", str(candidate), "--workers", "1", "--db", store.db]
    reported = invoke(*args)
    assert reported.exit_code == 0, reported.output
    folder = str(candidate).replace(hostile.in_names, hostile.names_shown)
    hostile.check(
        reported.stdout + reported.stderr,
        f"backtest of {folder}: ",
        "blocked -> allowed",
        f"\ncheck{hostile.shown}  ",
        f"\ncrash{hostile.shown}  ",
    )
    report = check_json(hostile, invoke(*args, "--json"))
    assert f"crash{hostile.raw}" in report["scripts"]  # type: ignore[index]
