"""The list answers about many traces: the script that blocked each, chips that wrap instead of
vanishing, a typed user and IP network, and going to a typed time or the oldest trace by keyset."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from screen_text import screen_lines
from textual.widgets import Input

from pipetrace.app.deciders import deciders
from pipetrace.app.sample_store import SampleStore
from pipetrace.app.timeparse import format_ns, parse_time
from pipetrace.app.tui.filter_state import FilterState
from pipetrace.app.tui.scenes import FIXED_NOW, press, settle, type_text
from pipetrace.app.tui.screens.filter_dialogs import ScriptDialog, WhoDialog
from pipetrace.app.tui.screens.goto_dialog import GoToDialog
from pipetrace.app.tui.screens.path_dialog import PathDialog
from pipetrace.app.tui.screens.replay_diff import ReplayDiffScreen
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.store import Cursor, Repository, TraceFilter


async def test_the_by_column_names_the_script_that_blocked(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    blocked = sample_repo.list_traces(TraceFilter(statuses=("blocked",)), limit=20).rows
    expected = deciders(sample_repo, [row.id for row in blocked])
    app = viewer()
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "s", "down", "space", "enter")
        lines = screen_lines(app)
        for row in blocked[:5]:
            line = next(line for line in lines if row.id[:12] in line)  # the trace id column
            assert expected[row.id].blocked_by in line


async def test_chips_wrap_and_none_is_left_out(sample: SampleStore, viewer) -> None:
    filters = FilterState(
        triggers=("after_signup", "before_signin"),
        statuses=("blocked", "error"),
        range_preset="7d",
        min_ms=0.5,
        text="example",
    )
    app = viewer()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.list_screen.set_filters(filters)
        await settle(pilot)
        shown = " ".join(screen_lines(app)[:4])
        for _field, label in filters.chips():
            assert label in shown
        assert "x clears all" in shown


async def test_a_typed_user_and_network_filter_the_list(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    user = sample_repo.get_trace(sample.blocked_id).user_id
    wanted = TraceFilter(user_id=user, ip_network="192.0.2.0/24")
    app = viewer(page_size=500)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "u")
        assert isinstance(app.screen, WhoDialog)
        await type_text(pilot, user)
        await press(pilot, "tab")
        await type_text(pilot, "192.0.2.0/12")
        await press(pilot, "enter")
        assert isinstance(app.screen, WhoDialog), "a network the store cannot read is refused"
        assert "not one range of stored IP text" in str(
            app.screen.query_one("#dialog-error").render()
        )
        for _ in range(2):
            await press(pilot, "backspace")
        await type_text(pilot, "24")
        await press(pilot, "enter")
        shown = app.list_screen
        assert app.screen is shown
        assert shown.filters == FilterState(user_id=user, ip_network="192.0.2.0/24")
        assert [r.id for r in shown.rows] == [
            r.id for r in sample_repo.list_traces(wanted, limit=500).rows
        ]
        assert shown.count == sample_repo.count_traces(wanted)


async def test_go_to_a_typed_time_and_to_the_oldest(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    at = parse_time("2026-03-12T08:00", FIXED_NOW)
    first = sample_repo.list_traces(limit=1, cursor=Cursor(at + 1, "")).rows[0]
    oldest = sample_repo.list_newer(None, Cursor(-(2**63), ""), limit=1)[0]
    app = viewer(page_size=20)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "g")
        assert isinstance(app.screen, GoToDialog)
        await type_text(pilot, "yesterday")
        await press(pilot, "enter")
        assert isinstance(app.screen, GoToDialog)
        assert "bad time" in str(app.screen.query_one("#dialog-error").render())
        for _ in "yesterday":
            await press(pilot, "backspace")
        await type_text(pilot, "2026-03-12T08:00")
        await press(pilot, "enter")
        table = app.list_screen.table
        assert table.current_id == first.id
        assert format_ns(first.started_at) in "".join(screen_lines(app)), "it is on screen"
        await press(pilot, "G")
        assert table.current_id == oldest.id
        assert app.list_screen.window.below is None
        await press(pilot, "up")
        assert table.current_id != oldest.id


async def test_e_exports_the_filtered_list(
    sample_repo: Repository, sample: SampleStore, viewer, tmp_path: Path
) -> None:
    blocked = TraceFilter(statuses=("blocked",))
    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "s", "down", "space", "enter", "E")
        assert isinstance(app.screen, PathDialog)
        field = app.screen.query_one("#path", Input)
        field.value = str(tmp_path / "blocked.jsonl")
        await press(pilot, "enter")
        await settle(pilot)
    lines = (tmp_path / "blocked.jsonl").read_text().splitlines()
    ids = {
        span["traceId"]
        for line in lines
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    }
    expected = {row.id for row in sample_repo.list_traces(blocked, limit=1000).rows}
    assert ids == expected and len(expected) == sample_repo.count_traces(blocked)


async def test_the_footer_keeps_help_and_quit_at_80x24(sample: SampleStore, viewer) -> None:
    app = viewer()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for keys in ((), ("S",), ("escape", "enter")):
            await press(pilot, *keys)
            footer = screen_lines(app)[-1]
            assert "? Help" in footer and "q Quit" in footer, (keys, footer)


async def test_z_shows_times_in_local_time_and_back(
    sample_repo: Repository, sample: SampleStore, viewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        newest = sample_repo.list_traces(limit=1).rows[0]
        app = viewer()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            utc = format_ns(newest.started_at)
            shown = " ".join(screen_lines(app))
            assert "started (UTC)" in shown and utc in shown
            await press(pilot, "z")
            shown = " ".join(screen_lines(app))
            assert "started (CET)" in shown
            assert format_ns(newest.started_at, local=True) in shown and utc not in shown
            await press(pilot, "enter")
            assert "+0100" in " ".join(screen_lines(app)), "the detail's start names its offset"
            await press(pilot, "escape", "z")
            assert "started (UTC)" in " ".join(screen_lines(app))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


async def test_the_palette_offers_every_screens_actions(sample: SampleStore, viewer) -> None:
    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = app.list_screen
        under_cursor = shown.table.current_id
        await press(pilot, "ctrl+p")
        await type_text(pilot, "replay this trace")
        await press(pilot, "enter")
        assert isinstance(app.screen, ReplayDiffScreen)
        assert app.screen.trace_id == under_cursor
        await press(pilot, "escape", "escape")
        assert app.screen is shown
        await press(pilot, "enter")
        assert isinstance(app.screen, TraceDetailScreen)
        await press(pilot, "ctrl+p")
        await type_text(pilot, "live")
        await press(pilot, "enter")
        assert app.screen is shown and shown.live, "the list's live mode, run from a detail"


async def test_o_lists_oldest_first_and_pages_by_keyset(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    newest_first = sample_repo.list_traces(limit=1000).rows
    oldest_first = [row.id for row in reversed(newest_first)]
    app = viewer(page_size=20)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = app.list_screen
        await press(pilot, "o")
        assert [row.id for row in shown.rows] == oldest_first[: len(shown.rows)]
        assert "oldest first" in " ".join(screen_lines(app))
        for _ in range(60):
            await pilot.press("down")
        await settle(pilot)
        assert shown.table.current_id == oldest_first[60]
        first = oldest_first.index(shown.rows[0].id)
        assert [row.id for row in shown.rows] == oldest_first[first : first + len(shown.rows)]
        await press(pilot, "g")
        await type_text(pilot, "newest")
        await press(pilot, "enter")
        assert shown.table.current_id == oldest_first[-1]
        await press(pilot, "G")
        assert shown.table.current_id == oldest_first[0]
        await press(pilot, "l")
        assert shown.live and not shown.oldest_first, "live mode lists newest first"
        assert shown.rows[0].id == newest_first[0].id


async def test_k_filters_by_a_scripts_status(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    wanted = TraceFilter(scripts=("risk_scorer",), script_statuses=("blocked", "error"))
    app = viewer(page_size=500)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "k", "tab")
        await type_text(pilot, "error")
        await press(pilot, "enter")
        assert isinstance(app.screen, ScriptDialog), "a status without its script is refused"
        await press(pilot, "shift+tab")
        await type_text(pilot, "risk_scorer")
        await press(pilot, "tab")  # a focused field's text is selected: typing replaces it
        await type_text(pilot, "error,blocked")
        await press(pilot, "enter")
        shown = app.list_screen
        assert app.screen is shown
        assert shown.filters.scripts == ("risk_scorer",), shown.filters
        assert set(shown.filters.script_statuses) == {"blocked", "error"}, shown.filters
        expected = sample_repo.list_traces(wanted, limit=500).rows
        assert expected and [r.id for r in shown.rows] == [r.id for r in expected]
        assert shown.count == len(expected)
