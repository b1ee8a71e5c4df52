"""Workers read the store themselves, a range each, on SQLite and on sqld (where each worker
opens its own libSQL connection): the ranges cover every matching trace once, the merged report
is the one a single worker reading everything in one range makes, and a worker that cannot open
the store stops the backtest with one line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_trace

from pipetrace.app.backtest.errors import BacktestError
from pipetrace.app.backtest.ranges import key_ranges
from pipetrace.app.backtest.report import BacktestReport
from pipetrace.app.backtest.run import run_backtest
from pipetrace.app.cli import main
from pipetrace.store import Repository, TraceFilter, TraceWithSpans, open_store

COUNT = 120
SEED = 5
SIZE = 7
DROP_YOPMAIL = ("disposable_email.lua", '["yopmail.com"] = true, ', "")


@pytest.fixture
def filled(store_url: str) -> str:
    """Demo traffic on each backend, plus a trace of another system and one of a trigger the
    candidate no longer has."""
    args = ["demo", "--traces", str(COUNT), "--seed", str(SEED), "--no-open", "--db", store_url]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    imported = make_trace(1)
    retired = make_trace(2, trigger="retired_trigger")
    repo = open_store(store_url)
    try:
        repo.save_traces(
            [TraceWithSpans(replace(imported.trace, source="otlp"), imported.spans), retired]
        )
    finally:
        repo.close()
    return store_url


def candidate(tmp_path: Path) -> Path:
    """The bundled set with yopmail.com no longer disposable."""
    folder = tmp_path / "candidate"
    result = CliRunner().invoke(main, ["pipelines", "init", str(folder)])
    assert result.exit_code == 0, result.output
    name, old, new = DROP_YOPMAIL
    script = folder / name
    script.write_text(script.read_text().replace(old, new))
    return folder


def figures(report: BacktestReport) -> dict[str, object]:
    """What a report says, durations aside (they are measured again by each replay)."""
    return {
        "replayed": report.replayed,
        "skipped": dict(report.skipped),
        "decisions": dict(report.decisions),
        "samples": report.samples,
        "status_changes": dict(report.status_changes),
        "scripts": {
            name: (dict(s.status_changes), s.new_errors, dict(s.new_limits), s.before.count)
            for name, s in report.scripts.items()
        },
    }


def test_ranges_cover_every_matching_trace_once(filled: str) -> None:
    repo = open_store(filled, migrate=False, create=False)
    try:
        everything = [row.id for row in repo.list_traces(TraceFilter(), limit=COUNT + 10).rows]
        read = [
            trace.trace.id
            for key_range in key_ranges(repo, TraceFilter(), SIZE)
            for trace in repo.traces_with_runs(
                TraceFilter(), key_range.newest, key_range.older_than
            )
        ]
    finally:
        repo.close()
    assert len(everything) == COUNT + 2
    assert read == everything


def test_workers_reading_ranges_report_as_one_reader(filled: str, tmp_path: Path) -> None:
    folder = candidate(tmp_path)
    repo: Repository = open_store(filled, migrate=False, create=False)
    try:
        ranges = run_backtest(repo, TraceFilter(), folder, workers=2, batch_size=SIZE)
        whole = run_backtest(repo, TraceFilter(), folder, workers=1, batch_size=COUNT * 2)
    finally:
        repo.close()

    assert not ranges.interrupted
    assert ranges.matched == COUNT + 2
    assert ranges.replayed + sum(ranges.skipped.values()) == ranges.matched
    assert ranges.skipped == {
        "imported (no stored input)": 1,
        "trigger not in the candidate pipelines": 1,
    }
    assert ranges.decisions["blocked-to-allowed"] > 0
    assert figures(ranges) == figures(whole)


def test_a_worker_that_cannot_open_the_store_stops_it_in_one_line(
    filled: str, tmp_path: Path
) -> None:
    folder = candidate(tmp_path)
    repo = open_store(filled, migrate=False, create=False)
    missing = tmp_path / "gone.db"
    repo.backend.target = replace(repo.backend.target, location=str(missing), kind="sqlite")
    try:
        with pytest.raises(BacktestError) as raised:
            run_backtest(repo, TraceFilter(), folder, workers=1, batch_size=SIZE)
    finally:
        repo.close()
    assert str(missing) in raised.value.message
    assert "\n" not in raised.value.message
