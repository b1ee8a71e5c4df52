"""Help lists only keys that do something visible, and those keys do what it says."""

from __future__ import annotations

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import open_trace, press, settle
from pipetrace.app.tui.widgets.trace_table import TraceTable

SIDEWAYS = {"Cursor left", "Cursor right", "Home", "End", "Page Left", "Page Right"}


async def test_list_help_is_truthful_and_home_end_move_the_cursor(
    sample: SampleStore, viewer
) -> None:
    """No sideways-scroll keys in help; end goes to the last loaded row, home to the first."""

    app = viewer(page_size=500)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.list_screen.query_one(TraceTable)
        await press(pilot, "end")
        assert table.row_count > 100 and table.cursor_row == table.row_count - 1
        await press(pilot, "home")
        assert table.cursor_row == 0
        await press(pilot, "question_mark")
        keys = dict((description, key) for key, description in app.screen.keys)
        assert not SIDEWAYS & set(keys)
        assert keys["Newest trace"] == "home ^home" and keys["Last loaded row"] == "end ^end"


async def test_detail_help_lists_no_sideways_paging(sample: SampleStore, viewer) -> None:
    """The waterfall fits the width: help offers no Page Left / Page Right; ctrl+end jumps."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_trace(pilot, sample.blocked_id)
        await press(pilot, "ctrl+end")
        waterfall = app.screen.query_one("#waterfall")
        assert waterfall.cursor == len(waterfall.span_tree.visible) - 1
        await press(pilot, "question_mark")
        keys = dict((description, key) for key, description in app.screen.keys)
        assert not SIDEWAYS & set(keys)
        assert keys["First span"] == "home ^home" and keys["Last span"] == "end ^end"
