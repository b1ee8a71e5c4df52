"""`v` in a trace's detail: the span pane shows the script's source as it ran (the version the
store kept, not the file on disk now), the failing line marked, stored text never obeyed; `v`
again goes back; a trace whose version is not kept says why."""

from __future__ import annotations

import io
from pathlib import Path

from notices import record_notices
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from pipetrace.app.engine_sink import recording_engine
from pipetrace.app.script_source import NOT_KEPT
from pipetrace.app.tui import PipetraceApp
from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.app.tui.widgets.span_pane import SpanPane
from pipetrace.app.tui.widgets.waterfall import Waterfall
from pipetrace.store import open_store
from pipetrace.store.sql import Statement

MANIFEST = """\
[triggers.check]
mode = "blocking"

[[scripts]]
id = "fails"
trigger = "check"
file = "fails.lua"
"""
FAILS = """\
-- note: \x1b[2J is an escape a terminal would obey
local limits = { a = 1 }
local total = 0
total = total + limits[context.key] * 2
return { data = { total = total } }
"""


def _record(tmp_path: Path) -> tuple[str, str, Path]:
    """A trace of `check` whose script fails at line 4, stored with its source: (db, id, file)."""
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "pipelines.toml").write_text(MANIFEST)
    (folder / "fails.lua").write_text(FAILS)
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    try:
        with recording_engine(repo, folder) as (engine, _):
            outcome = engine.execute_trigger("check", {"key": "b"}, {})
    finally:
        repo.close()
    return db, outcome.trace_id, folder / "fails.lua"


def _pane(screen: TraceDetailScreen) -> str:
    console = Console(width=60, file=io.StringIO(), record=True)
    console.print(screen.query_one("#span-body", Static).content)
    return console.export_text()


async def _open_failure(app: PipetraceApp, pilot: Pilot[None], trace_id: str) -> TraceDetailScreen:
    """The trace's detail with its failing script's span selected."""
    await settle(pilot)
    app.open_trace(trace_id)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TraceDetailScreen)
    waterfall = screen.query_one(Waterfall)
    tree = waterfall.span_tree
    waterfall.select_node(next(i for i, s in enumerate(tree.spans) if s.script_id == "fails"))
    await settle(pilot)
    return screen


async def test_v_shows_the_version_that_ran_with_its_failing_line_marked(
    tmp_path: Path, viewer
) -> None:
    db, trace_id, script = _record(tmp_path)
    script.write_text(FAILS.replace("limits[context.key]", "(limits[context.key] or 0)"))
    app = viewer(db)
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_failure(app, pilot, trace_id)
        details = _pane(screen)
        await press(pilot, "v")
        assert screen.query_one(SpanPane).source_shown
        source = _pane(screen)
        await press(pilot, "v")
        back = _pane(screen)
        screen.query_one(Waterfall).select_node(0)
        await settle(pilot)
        await press(pilot, "v")

    assert "source of fails.lua" in source and "line 4 marked" in source
    assert "4 total = total + limits[context.key] * 2" in source
    assert "or 0" not in source
    assert "\\x1b[2J" in source and "\x1b" not in source
    assert back == details
    assert any("pick a script's own span" in n.message for n in notices)


async def test_a_version_the_store_did_not_keep_says_why(tmp_path: Path, viewer) -> None:
    db, trace_id, _script = _record(tmp_path)
    repo = open_store(db)
    try:
        repo.backend.write([Statement("DELETE FROM pipeline_script_sources")])
    finally:
        repo.close()
    app = viewer(db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_failure(app, pilot, trace_id)
        await press(pilot, "v")
        source = _pane(screen)

    assert "not shown: " + NOT_KEPT[:40] in " ".join(source.split())
