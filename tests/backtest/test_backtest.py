"""Backtest over a real demo store through an edited copy of the bundled set, in worker
processes: its flips match replaying each trace one by one, and the CLI gates on them."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipetrace.app.backtest.report import flip_class
from pipetrace.app.backtest.run import run_backtest
from pipetrace.app.cli import main
from pipetrace.app.replay import ReplayError, run_replay
from pipetrace.store import Repository, TraceFilter, open_store

COUNT = 300
SEED = 11


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store of COUNT traces through the bundled pipelines."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    args = ["demo", "--traces", str(COUNT), "--seed", str(SEED), "--no-open", "--db", str(db)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return db


def candidate(tmp_path: Path, *edits: tuple[str, str, str]) -> Path:
    """A copy of the bundled set made by `pipelines init`, with (file, old, new) edits."""
    folder = tmp_path / "candidate"
    result = CliRunner().invoke(main, ["pipelines", "init", str(folder)])
    assert result.exit_code == 0, result.output
    for name, old, new in edits:
        path = folder / name
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
    return folder


DROP_YOPMAIL = ("disposable_email.lua", '["yopmail.com"] = true, ', "")
BLOCK_US = (
    "geo_rule.lua",
    "local BLOCKED = { KP = true }",
    "local BLOCKED = { KP = true, US = true }",
)


def one_by_one(repo: Repository, folder: Path) -> tuple[Counter[str], dict[str, str]]:
    """Each stored trace replayed on its own with run_replay: its class by trace id."""
    classes: dict[str, str] = {}
    page = repo.list_traces(TraceFilter(), limit=COUNT + 1)
    for row in page.rows:
        try:
            diff = run_replay(repo, row.id, folder).diff
        except ReplayError:
            continue
        before, after = diff.allowed_before, diff.allowed_after
        classes[row.id] = (
            "allowed-to-blocked"
            if (before, after) == (True, False)
            else "blocked-to-allowed"
            if (before, after) == (False, True)
            else "unchanged"
        )
    return Counter(classes.values()), classes


def test_flips_match_replaying_each_trace(demo_db: Path, tmp_path: Path) -> None:
    folder = candidate(tmp_path, DROP_YOPMAIL, BLOCK_US)
    repo = open_store(str(demo_db), create=False)
    try:
        report = run_backtest(repo, TraceFilter(), folder, workers=2, batch_size=40)
        expected, classes = one_by_one(repo, folder)
    finally:
        repo.close()

    assert not report.interrupted
    assert report.replayed == len(classes) == COUNT
    assert expected["allowed-to-blocked"] > 0 and expected["blocked-to-allowed"] > 0
    assert {k: report.decisions[k] for k in expected} == dict(expected)
    assert report.decisions["uncertain"] == 0
    for kind in ("allowed-to-blocked", "blocked-to-allowed"):
        assert report.samples[kind]
        assert all(classes[trace_id] == kind for trace_id in report.samples[kind])
    # geo_rule runs beside the other checks: some it now blocks were blocked already.
    geo = report.scripts["geo_rule"].status_changes
    assert geo[("success", "blocked")] >= expected["allowed-to-blocked"]


def test_unchanged_candidate_flips_nothing_and_cli_gates(demo_db: Path, tmp_path: Path) -> None:
    folder = candidate(tmp_path)
    base = ["backtest", "--pipelines", str(folder), "--db", str(demo_db), "--workers", "2"]

    same = CliRunner().invoke(main, [*base, "--json", "--fail-on", "allowed-to-blocked"])
    assert same.exit_code == 0, same.output
    data = json.loads(same.stdout)
    assert data["decisions"]["unchanged"] == data["replayed"] == COUNT
    assert data["status_changes"] == []

    edited = candidate(tmp_path / "edited", DROP_YOPMAIL)
    gate = ["backtest", "--pipelines", str(edited), "--db", str(demo_db), "--workers", "2"]
    allowed = CliRunner().invoke(main, [*gate, "--fail-on", "allowed-to-blocked"])
    assert allowed.exit_code == 0, allowed.output
    assert "blocked -> allowed" in allowed.stdout
    flipped = CliRunner().invoke(main, [*gate, "--fail-on", "blocked-to-allowed"])
    assert flipped.exit_code == 3, flipped.output


def test_filters_narrow_the_backtest(demo_db: Path, tmp_path: Path) -> None:
    folder = candidate(tmp_path, DROP_YOPMAIL)
    repo = open_store(str(demo_db), create=False)
    try:
        signin = run_backtest(repo, TraceFilter(triggers=("before_signin",)), folder, workers=1)
        matched = repo.count_traces(TraceFilter(triggers=("before_signin",)))
    finally:
        repo.close()
    assert signin.replayed == matched > 0
    assert set(signin.scripts) == {"signin_ip_denylist", "signin_velocity", "signin_risk"}
    assert signin.decisions["blocked-to-allowed"] == 0


def test_a_candidate_reading_a_redacted_field_is_uncertain(demo_db: Path, tmp_path: Path) -> None:
    reads_password = (
        "disposable_email.lua",
        "local email = context.email\n",
        "local email = context.email\nif context.password == nil then return {} end\n",
    )
    folder = candidate(tmp_path, DROP_YOPMAIL, reads_password)
    repo = open_store(str(demo_db), create=False)
    try:
        report = run_backtest(repo, TraceFilter(triggers=("before_signup",)), folder, workers=1)
    finally:
        repo.close()
    assert report.decisions["uncertain"] == report.replayed > 0
    assert report.decisions["blocked-to-allowed"] == 0
    assert report.uncertain_flips > 0


def test_cancel_stops_the_workers_with_a_partial_report(demo_db: Path, tmp_path: Path) -> None:
    folder = candidate(tmp_path)
    cancel = threading.Event()

    def stop_after_first_batch(done: int, total: int | None) -> None:
        if done:
            cancel.set()

    repo = open_store(str(demo_db), create=False)
    try:
        report = run_backtest(
            repo,
            TraceFilter(),
            folder,
            workers=1,
            batch_size=10,
            on_progress=stop_after_first_batch,
            cancel=cancel,
        )
    finally:
        repo.close()
    assert report.interrupted
    assert 0 < report.replayed < COUNT
    assert sum(report.decisions.values()) == report.replayed


def test_flip_class_of_an_uncertain_trace_is_uncertain() -> None:
    from pipetrace.app.backtest.messages import Compared

    flipped = Compared("a" * 32, "before_signup", True, False, "success", "blocked", (), True)
    assert flip_class(flipped) == "uncertain"
    assert flip_class(Compared("b" * 32, "t", True, False, "success", "blocked", (), False)) == (
        "allowed-to-blocked"
    )
