"""The script stats screen: S (or the palette) opens it for the list's filters; its rows are the
store's stats; o sorts; Enter lists the highlighted row's runs; Escape goes back."""

from __future__ import annotations

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.stats_rows import ordered
from pipetrace.app.tui.filter_state import FilterState
from pipetrace.app.tui.scenes import FIXED_NOW, press, settle, type_text
from pipetrace.app.tui.screens.script_stats import ScriptStatsScreen
from pipetrace.store import Repository, TraceFilter


async def test_stats_rows_are_the_stores_and_enter_lists_a_scripts_errors(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    app = viewer(page_size=500)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.list_screen.set_filters(FilterState(range_preset="7d"))
        await press(pilot, "S")
        screen = app.screen
        assert isinstance(screen, ScriptStatsScreen)
        week = FilterState(range_preset="7d").to_filter(FIXED_NOW)
        expected = ordered(sample_repo.script_stats(week, columns=30))
        assert [(s.depth, s.label) for s in screen.lines] == [(s.depth, s.label) for s in expected]
        assert [s.row.tally.runs for s in screen.lines] == [s.row.tally.runs for s in expected]

        await press(pilot, "o")
        assert screen.sort == "error-rate"
        assert "by error-rate" in str(screen.query_one("#stats-header").render())
        await press(pilot, "O")
        assert screen.sort == "failures"

        script_row = next(n for n, line in enumerate(screen.lines) if line.depth == 1)
        line = screen.lines[script_row]
        screen.table.move_cursor(row=script_row)
        await press(pilot, "enter")
        assert app.screen is app.list_screen
        shown = app.list_screen
        assert shown.filters.scripts == (line.row.script,)
        assert shown.filters.script_statuses == ("error",)
        assert shown.filters.range_preset == "7d"
        wanted = TraceFilter(
            triggers=(line.row.trigger,),
            started_from=week.started_from,
            scripts=(line.row.script,),
            script_statuses=("error",),
        )
        assert shown.count == sample_repo.count_traces(wanted) == line.row.tally.failures
        assert "script=" in str(shown.query_one("#filter-bar").render())

        await press(pilot, "S", "escape")
        assert app.screen is app.list_screen


async def test_the_palette_offers_the_stats_from_the_list(sample: SampleStore, viewer) -> None:
    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "ctrl+p")
        await type_text(pilot, "script stats")
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(app.screen, ScriptStatsScreen)
