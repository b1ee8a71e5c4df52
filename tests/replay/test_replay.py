"""Replay through the real engine and store: identical runs, changed scripts, and refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import BLOCKED_SIGNUP as SIGNUP

from pipetrace.app.cli import main
from pipetrace.app.engine_sink import recording_engine
from pipetrace.app.replay import ReplayError, replay_trace
from pipetrace.engine import bundled_pipelines_dir
from pipetrace.store import Repository
from pipetrace.store.sql import Statement


def record(repo: Repository, trigger: str, payload: dict, pipelines: Path | None = None) -> str:
    """Run one trigger through the engine into the store; returns its trace id."""
    with recording_engine(repo, pipelines) as (engine, _):
        outcome = engine.execute_trigger(
            trigger, payload, {"user_id": "u-7", "request_ip": "1.2.3.4"}
        )
    return outcome.trace_id


def copy_pipelines(tmp_path: Path) -> Path:
    folder = tmp_path / "pipelines"
    shutil.copytree(bundled_pipelines_dir(), folder)
    return folder


def test_unchanged_scripts_replay_identically_and_link_both_ways(repo: Repository) -> None:
    original = record(repo, "before_signup", SIGNUP)
    diff = replay_trace(repo, original)

    assert diff.identical
    assert (diff.allowed_before, diff.allowed_after) == (False, False)
    assert diff.error_before == diff.error_after and "disposable" in (diff.error_after or "")
    assert {s.change for s in diff.spans} == {"same"}
    assert {s.source_changed for s in diff.spans} == {False}
    assert diff.redacted == ["password"]
    replayed = repo.get_trace_with_spans(diff.replay_id)
    assert replayed is not None and replayed.trace.replay_of == original
    assert replayed.trace.user_id == "u-7" and replayed.trace.request_ip == "1.2.3.4"
    assert [r.id for r in repo.replays_of(original)] == [diff.replay_id]


def test_a_changed_script_shows_its_change(sqlite_repo: Repository, tmp_path: Path) -> None:
    folder = copy_pipelines(tmp_path)
    original = record(sqlite_repo, "before_signup", SIGNUP, folder)
    script = folder / "disposable_email.lua"
    script.write_text(script.read_text().replace("mailinator.com", "mailinator.invalid"))

    diff = replay_trace(sqlite_repo, original, folder)

    assert not diff.identical
    assert (diff.allowed_before, diff.allowed_after) == (False, True)
    by_id = {s.script_id: s for s in diff.spans}
    assert by_id["disposable_email"].change == "changed"
    assert (by_id["disposable_email"].status_before, by_id["disposable_email"].status_after) == (
        "blocked",
        "success",
    )
    assert by_id["disposable_email"].source_changed is True
    assert by_id["ip_denylist"].source_changed is False
    assert by_id["risk_scorer"].status_before == "skipped"
    assert by_id["risk_scorer"].status_after == "success"


def test_scripts_added_and_removed(sqlite_repo: Repository, tmp_path: Path) -> None:
    folder = copy_pipelines(tmp_path)
    original = record(sqlite_repo, "before_signup", {**SIGNUP, "email": "ana@example.com"}, folder)
    manifest = folder / "pipelines.toml"
    text = manifest.read_text()
    risk_block = (
        '[[scripts]]\nid = "risk_scorer"\ntrigger = "before_signup"\nfile = "risk_scorer.lua"\n'
        'depends_on = ["disposable_email", "ip_denylist", "velocity_check", "geo_rule"]\n'
    )
    assert risk_block in text
    manifest.write_text(
        text.replace(
            risk_block,
            '[[scripts]]\nid = "name_check"\ntrigger = "before_signup"\nfile = "name_check.lua"\n',
        )
    )
    (folder / "name_check.lua").write_text("return {data = {name_risk = 0}}\n")

    diff = replay_trace(sqlite_repo, original, folder)

    changes = {s.script_id: s.change for s in diff.spans}
    assert changes["risk_scorer"] == "removed"
    assert changes["name_check"] == "added"
    assert changes["disposable_email"] == "same"
    assert not diff.identical


def test_a_removed_trigger_is_reported(sqlite_repo: Repository, tmp_path: Path) -> None:
    original = record(sqlite_repo, "before_signup", SIGNUP)
    folder = tmp_path / "only_tokens"
    folder.mkdir()
    (folder / "pipelines.toml").write_text(
        '[triggers.token_build]\nmode = "enrichment"\n\n[[scripts]]\nid = "claims"\n'
        'trigger = "token_build"\nfile = "claims.lua"\n'
    )
    (folder / "claims.lua").write_text("return {data = {tier = 'free'}}\n")
    with pytest.raises(ReplayError, match="trigger 'before_signup' no longer exists"):
        replay_trace(sqlite_repo, original, folder)
    assert sqlite_repo.count_traces() == 1


def test_an_input_too_large_to_store_is_reported(sqlite_repo: Repository) -> None:
    original = record(sqlite_repo, "after_signup", {"email": "a@example.com", "bio": "x" * 40_000})
    stored = sqlite_repo.get_trace(original)
    assert stored is not None and stored.context_snapshot.get("_truncated") is True
    with pytest.raises(ReplayError, match="too large to store"):
        replay_trace(sqlite_repo, original)


def test_unknown_and_imported_traces_are_refused(sqlite_repo: Repository) -> None:
    with pytest.raises(ReplayError, match="no trace"):
        replay_trace(sqlite_repo, "f" * 32)
    original = record(sqlite_repo, "before_signup", SIGNUP)
    sqlite_repo.backend.write(
        [Statement("UPDATE pipeline_traces SET source = 'zipkin' WHERE id = ?", (original,))]
    )
    with pytest.raises(ReplayError, match=r"imported \(zipkin\)"):
        replay_trace(sqlite_repo, original)


def test_replay_command_json_and_text(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    ran = runner.invoke(
        main, ["run", "before_signup", "--input", json.dumps(SIGNUP), "--db", db, "--json"]
    )
    trace_id = json.loads(ran.stdout)["trace_id"]
    result = runner.invoke(main, ["replay", trace_id[:10], "--db", db, "--json"])
    assert result.exit_code == 0, result.stderr
    diff = json.loads(result.stdout)
    assert diff["identical"] is True and diff["original_id"] == trace_id
    assert diff["decision"] == {"before": False, "after": False}
    text = runner.invoke(main, ["replay", trace_id, "--db", db])
    assert "identical" in text.stdout and "disposable_email" in text.stdout
    missing = runner.invoke(main, ["replay", "0" * 32, "--db", db])
    assert missing.exit_code == 2 and "no trace" in missing.stderr


def test_replay_text_prints_stored_text_as_it_is(sqlite_repo: Repository) -> None:
    original = record(sqlite_repo, "before_signup", SIGNUP)
    sqlite_repo.backend.write(
        [
            Statement(
                "UPDATE pipeline_traces SET status_message = ?, result_data = ? WHERE id = ?",
                ("[/]", '{"[bold]key": "[link=x]v"}', original),
            )
        ]
    )
    db = sqlite_repo.backend.target.location
    result = CliRunner(env={"COLUMNS": "300"}).invoke(main, ["replay", original, "--db", db])
    assert result.exit_code == 0, result.output
    assert "message:  [/] -> " in result.stdout
    assert 'data [bold]key: "[link=x]v" -> -' in result.stdout


def test_replay_of_input_nested_too_deeply_names_trace_and_field(sqlite_repo: Repository) -> None:
    original = record(sqlite_repo, "before_signup", SIGNUP)
    deep = '{"email": ' + "[" * 2000 + "]" * 2000 + "}"
    sqlite_repo.backend.write(
        [
            Statement(
                "UPDATE pipeline_traces SET context_snapshot = ? WHERE id = ?", (deep, original)
            )
        ]
    )
    db = sqlite_repo.backend.target.location
    result = CliRunner().invoke(main, ["replay", original, "--db", db])
    assert result.exit_code == 2
    assert result.stderr == (
        f"pipetrace: trace {original} has no readable stored input to replay (stored row "
        "problem: context_snapshot: JSON nested deeper than 100 levels)\n"
    )
