"""The viewer on an 80x24 terminal: dialogs keep their title and buttons, nothing is lost."""

from __future__ import annotations

import asyncio

import pytest
from screen_text import screen_lines
from textual.widget import Widget
from textual.widgets import Button, Input, Label

from app.sample_store import SampleStore
from app.tui.scenes import press, settle
from app.tui.screens.filter_dialogs import RangeDialog

SMALL = (80, 24)


def on_screen(widget: Widget) -> bool:
    """Whether all of `widget` is drawn: inside the terminal and every scrolled ancestor."""
    region = widget.region
    if region.area == 0:
        return False
    scrolled = [a for a in widget.ancestors if isinstance(a, Widget) and a.is_scrollable]
    if any(not a.content_region.contains_region(region) for a in scrolled):
        return False
    return widget.app.screen.region.contains_region(region)


@pytest.mark.parametrize("height", [24, 18])
def test_the_range_dialog_shows_its_title_and_buttons(
    height: int, sample: SampleStore, viewer
) -> None:
    """`r` at 80 columns: the title and Apply/Clear/Cancel show; the fields between them scroll,
    and each one tabbed to comes into view."""

    async def run() -> None:
        app = viewer()
        async with app.run_test(size=(80, height)) as pilot:
            await settle(pilot)
            await press(pilot, "r")
            dialog = app.screen
            assert isinstance(dialog, RangeDialog)
            title = dialog.query_one(".dialog-box").children[0]
            assert isinstance(title, Label)
            fixed = [title, *dialog.query(Button)]
            assert [w for w in fixed if not on_screen(w)] == []
            text = "\n".join(screen_lines(app))
            for word in ("Time range", "Apply", "Clear", "Cancel"):
                assert word in text
            for name in ("from", "to"):
                await press(pilot, "tab")
                field = dialog.query_one(f"#{name}", Input)
                assert app.focused is field and on_screen(field)
                assert [w for w in fixed if not on_screen(w)] == []

    asyncio.run(run())
