"""Replaying an auther trace through the plan and scripts its database holds now (or a folder),
with the helpers the operator supplies, and nothing written to the application's database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from auther_db import SpanSpec, file_digest
from auther_samples import DAY_MS, NOW_MS, AutherStore
from click.testing import CliRunner

from pipetrace.app.cli import main
from pipetrace.app.replay import ReplayError, keep_replay, run_replay
from pipetrace.app.replay_sources import STORED_WHERE, ReplaySourceError
from pipetrace.engine import bundled_pipelines_dir
from pipetrace.store import Repository, open_store
from pipetrace.store.sql import Statement

SECRET = "sk_live_canary_5f3a9"
STRIPE = "https://api.stripe.com/v1/sub"
CHECKOUT = f"""
local res = await(helpers.fetch("{STRIPE}", {{
  headers = {{ Authorization = "Bearer " .. await(helpers.secret("STRIPE_KEY")) }} }}))
helpers.metrics.count("checkout.checked", 1, {{ plan = res.body.plan }})
helpers.log("key " .. helpers.secret("STRIPE_KEY"))
return {{ allowed = res.ok, error = "no subscription", data = {{ plan = res.body.plan,
  env = helpers.env("NODE_ENV"), key = helpers.secret("STRIPE_KEY") }} }}
"""


@pytest.fixture
def repo(auther_store: AutherStore) -> Iterator[Repository]:
    opened = open_store(auther_store.url, create=False)
    try:
        yield opened
    finally:
        opened.close()


def test_replay_runs_the_databases_own_plan_and_scripts(
    repo: Repository, auther_store: AutherStore
) -> None:
    ran = run_replay(repo, auther_store.fresh)
    diff = ran.diff
    assert ran.pipelines == STORED_WHERE
    assert (diff.allowed_before, diff.allowed_after) == (False, False)
    assert (diff.error_before, diff.error_after) == ("Country blocked", "Country blocked")
    by_name = {s.name: s for s in diff.spans}
    assert by_name["Enrich"].change == "same"
    assert by_name["Enrich"].script_id == auther_store.script_ids["enrich"]
    assert by_name["Geo Blocker"].change == "same"
    assert by_name["Unknown"].change == "removed"  # the plan no longer names it
    assert by_name["Enrich"].source_changed is False
    assert by_name["Unknown"].source_changed is None


def test_a_script_changed_since_the_trace_ran_is_named(
    repo: Repository, auther_store: AutherStore
) -> None:
    auther_store.writer.run(
        [
            Statement(
                "UPDATE pipeline_scripts SET code = ?, updated_at = ? WHERE id = ?",
                ("return nil", NOW_MS, auther_store.script_ids["geo"]),
            )
        ]
    )
    diff = run_replay(repo, auther_store.fresh).diff
    assert (diff.allowed_before, diff.allowed_after) == (False, True)
    geo = next(s for s in diff.spans if s.name == "Geo Blocker")
    assert (geo.change, geo.status_after, geo.source_changed) == ("changed", "success", True)


def test_a_folder_replaces_the_databases_scripts(
    repo: Repository, auther_store: AutherStore
) -> None:
    ran = run_replay(repo, auther_store.fresh, bundled_pipelines_dir())
    assert ran.pipelines == str(bundled_pipelines_dir())
    changes = {s.script_id: s.change for s in ran.diff.spans}
    assert changes[auther_store.script_ids["geo"]] == "removed"
    assert changes["risk_scorer"] == "added"


def test_traces_it_cannot_replay_are_refused_in_one_line(
    repo: Repository, auther_store: AutherStore
) -> None:
    with pytest.raises(ReplayError, match="auther cut its input at 32 KB"):
        run_replay(repo, auther_store.older)
    unplanned = auther_store.writer.trace(
        "after_signup", NOW_MS - DAY_MS, [[SpanSpec("Mail", output={"sent": True})]]
    )
    with pytest.raises(ReplaySourceError, match="no plan for trigger 'after_signup' now"):
        run_replay(repo, unplanned)


def test_a_replay_is_never_kept_in_an_auther_database(
    repo: Repository, auther_store: AutherStore
) -> None:
    ran = run_replay(repo, auther_store.fresh)
    with pytest.raises(ReplayError, match="replays are not stored in an auther database"):
        keep_replay(repo, ran)
    assert repo.count_traces() == 3


def test_cli_replay_leaves_the_file_as_it_was(auther_file: AutherStore) -> None:
    assert auther_file.path is not None
    digest = file_digest(auther_file.path)
    runner = CliRunner()
    text = runner.invoke(main, ["replay", auther_file.fresh[:8], "--db", auther_file.url])
    assert text.exit_code == 0, text.output
    words = " ".join(text.output.split())
    assert "is the application's" in words
    assert "through the store's own plan and scripts" in words
    assert "Geo Blocker (" in text.output
    shown = runner.invoke(main, ["replay", auther_file.old, "--json", "--db", auther_file.url])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert report["stored"] is False and report["pipelines"] == STORED_WHERE
    assert (report["decision"]["before"], report["decision"]["after"]) == (True, False)
    assert file_digest(auther_file.path) == digest
    assert sorted(p.name for p in auther_file.path.parent.iterdir()) == ["auther.db"]


@pytest.fixture
def checkout(auther_file: AutherStore) -> str:
    """A token_build trace whose script fetches, reads a secret and the environment."""
    writer = auther_file.writer
    script = writer.script("Stripe Check", CHECKOUT)
    writer.plan("token_build", [[script]])
    return writer.trace(
        "token_build",
        NOW_MS - DAY_MS,
        [[SpanSpec("Stripe Check", output={"plan": "pro"}, script_id=script)]],
    )


def test_cli_replay_hands_the_helpers_what_the_operator_supplies(
    auther_file: AutherStore, checkout: str, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"STRIPE_KEY": SECRET}))
    responses = tmp_path / "responses.json"
    responses.write_text(json.dumps({STRIPE: {"status": 200, "body": {"plan": "pro"}}}))
    args = ["replay", checkout, "--json", "--db", auther_file.url, "--env", "NODE_ENV"]
    result = CliRunner().invoke(
        main,
        [*args, "--secrets", str(secrets), "--fetch-responses", str(responses)],
        env={"NODE_ENV": "production", "HOME_SECRET": "x"},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["decision"] == {"before": True, "after": True}
    data = {d["key"]: d["after"] for d in report["data"]}
    assert data == {"env": "production", "key": "[REDACTED]"}
    assert SECRET not in result.output


def test_cli_replay_without_a_response_shows_the_fetch_refused(
    auther_file: AutherStore, checkout: str
) -> None:
    result = CliRunner().invoke(
        main,
        ["replay", checkout, "--json", "--db", auther_file.url],
        env={"PIPETRACE_SECRET_STRIPE_KEY": SECRET},
    )
    assert result.exit_code == 0, result.output
    (span,) = json.loads(result.stdout)["spans"]
    assert span["status"] == {"before": "success", "after": "error"}
    assert (
        "helpers.fetch: no network in the sandbox and no response supplied for"
        in (span["message"]["after"])
    )


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("--secrets", "[1]", "expected a JSON object of secret names to text values"),
        ("--secrets", "{", "not valid JSON"),
        ("--fetch-responses", '{"https://x": {"status": 9}}', "'https://x': expected a JSON"),
        ("--fetch-responses", '{"https://x": {"status": 200, "body": "%s"}}' % ("x" * 70_000),
         "input too large"),
    ],
)  # fmt: skip
def test_unusable_helper_files_are_refused_in_one_line(
    auther_file: AutherStore, tmp_path: Path, option: str, content: str, message: str
) -> None:
    given = tmp_path / "given.json"
    given.write_text(content)
    result = CliRunner().invoke(
        main, ["replay", auther_file.fresh, option, str(given), "--db", auther_file.url]
    )
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert message in line


def test_what_auther_stored_unredacted_is_redacted_in_the_diff(
    auther_file: AutherStore, checkout: str
) -> None:
    """The checkout fixture's plan runs token_build; auther stored this run's data as given."""
    stored = {"plan": "free", "note": f"used {SECRET}", "password": "hunter2hunter2"}
    trace_id = auther_file.writer.trace(
        "token_build",
        NOW_MS - DAY_MS,
        [[SpanSpec("Stripe Check", output=stored)]],
        context={"email": "ada@example.com", "password": "hunter2hunter2"},
    )
    result = CliRunner().invoke(
        main,
        ["replay", trace_id, "--json", "--db", auther_file.url],
        env={"PIPETRACE_SECRET_STRIPE_KEY": SECRET},
    )
    assert result.exit_code == 0, result.output
    before = {d["key"]: d["before"] for d in json.loads(result.stdout)["data"]}
    assert before["note"] == "used [REDACTED]"
    assert before["password"] == "[REDACTED]"
    assert SECRET not in result.output and "hunter2hunter2" not in result.output
