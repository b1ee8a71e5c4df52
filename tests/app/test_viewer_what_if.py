"""What if… from a filtered list, on a real demo store with real worker processes: the report is
the one `pipetrace backtest` gives for the same filters, a flip class opens its traces, Enter
shows a trace's replay diff through the candidate (with its script's diff), and cancel stops the
workers with a partial report."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from backtest.test_backtest import DROP_YOPMAIL, candidate
from click.testing import CliRunner
from notices import record_notices
from textual.pilot import Pilot

from pipetrace.app.cli import main
from pipetrace.app.tui.filter_state import FilterState
from pipetrace.app.tui.scenes import press, settle, type_text
from pipetrace.app.tui.screens.flip_traces import FlipTracesScreen
from pipetrace.app.tui.screens.replay_diff import ReplayDiffScreen
from pipetrace.app.tui.screens.what_if import WhatIfScreen

COUNT = 300
WAIT_SECONDS = 180
SLOW_LOOP = "local x = 0 for i = 1, 200000 do x = x + i * 2 end\n"
"""Put before every script of a candidate: about 10 ms a script, so a batch takes seconds."""


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store through the bundled pipelines (its sources kept by the recorder process)."""
    db = tmp_path_factory.mktemp("what-if") / "demo.db"
    args = ["demo", "--traces", str(COUNT), "--seed", "11", "--no-open", "--db", str(db)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return db


async def _until(pilot: Pilot[None], done: Callable[[], object], what: str) -> None:
    """Let the app run until `done()` holds (a backtest takes seconds on a busy machine),
    without waiting for its workers as `settle` does."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)


async def _what_if(pilot: Pilot[None], folder: Path) -> WhatIfScreen:
    """Start a what-if through `folder` without waiting for it (`press` waits for workers)."""
    await press(pilot, "w")
    await type_text(pilot, str(folder))
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, WhatIfScreen)
    return screen


async def test_what_if_reports_as_backtest_does_and_opens_a_flip_class(
    demo_db: Path, tmp_path: Path, viewer
) -> None:
    folder = candidate(tmp_path, DROP_YOPMAIL)
    app = viewer(str(demo_db))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.list_screen.set_filters(FilterState(triggers=("before_signup",)))
        await settle(pilot)
        screen = await _what_if(pilot, folder)
        await _until(pilot, lambda: screen.report is not None, "the report")
        report = screen.report
        assert report is not None and not report.interrupted
        assert "trigger=before_signup" in str(screen.query_one("#whatif-title").render())

        row = screen.classes_shown.index("blocked-to-allowed")
        screen.query_one("#flip-classes").move_cursor(row=row)
        await press(pilot, "enter")
        flips = app.screen
        assert isinstance(flips, FlipTracesScreen)
        await _until(pilot, lambda: flips.rows, "the flipped traces")
        assert [r.id for r in flips.rows] == report.samples["blocked-to-allowed"]
        await press(pilot, "enter")
        diff_screen = app.screen
        assert isinstance(diff_screen, ReplayDiffScreen)
        await _until(pilot, lambda: diff_screen.diff is not None, "the replay diff")
        diff = diff_screen.diff
        assert diff is not None

    args = ["backtest", "--pipelines", str(folder), "--trigger", "before_signup"]
    cli = CliRunner().invoke(main, [*args, "--db", str(demo_db), "--json"])
    expected = json.loads(cli.stdout)
    got = report.to_json()
    for key in ("matched", "replayed", "skipped", "decisions", "samples", "status_changes"):
        assert got[key] == expected[key], key
    assert report.decisions["blocked-to-allowed"] > 0
    assert diff.original_id == report.samples["blocked-to-allowed"][0]
    assert (diff.allowed_before, diff.allowed_after) == (False, True)
    (script,) = diff.scripts
    assert script.script_id == "disposable_email" and script.missing is None
    assert any(line.startswith("-") and "yopmail" in line for line in script.lines)


async def test_cancel_stops_the_workers_and_keeps_the_partial_report(
    demo_db: Path, tmp_path: Path, viewer
) -> None:
    folder = candidate(tmp_path)
    for script in folder.glob("*.lua"):
        script.write_text(SLOW_LOOP + script.read_text())
    app = viewer(str(demo_db))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = await _what_if(pilot, folder)
        status = screen.query_one("#whatif-status")
        await _until(pilot, lambda: "replaying:" in str(status.render()), "the first progress")
        await pilot.press("escape")
        assert app.screen is screen
        await _until(pilot, lambda: screen.report is not None, "the partial report")
        report = screen.report
        assert report is not None
        assert "cancelled" in str(status.render())
        await asyncio.sleep(0)
        assert multiprocessing.active_children() == []
        await press(pilot, "escape")
        assert app.screen is not screen

    assert report.interrupted
    assert report.replayed < (report.matched or 0)


async def test_a_folder_that_is_no_pipelines_folder_is_refused_in_one_line(
    demo_db: Path, tmp_path: Path, viewer
) -> None:
    app = viewer(str(demo_db))
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "w")
        await type_text(pilot, str(tmp_path / "nowhere"))
        await press(pilot, "enter")
        assert app.screen is app.list_screen

    (notice,) = [n for n in notices if n.severity == "error"]
    assert notice.message == f"pipelines.toml: not found in {tmp_path / 'nowhere'}"
