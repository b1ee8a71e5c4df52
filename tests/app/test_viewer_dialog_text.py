"""Dialog text wraps inside its box, so every word can be read on a small terminal."""

from __future__ import annotations

import pytest
from screen_text import screen_lines
from textual.widgets import Label

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.path_dialog import PathDialog


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_import_hint_is_shown_whole(
    size: tuple[int, int], sample: SampleStore, viewer
) -> None:
    """The import dialog's explanation of the formats reads to its last word on screen."""

    app = viewer()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await press(pilot, "i")
        dialog = app.screen
        assert isinstance(dialog, PathDialog)
        region = dialog.query_one("#path-hint", Label).region
        assert region.bottom <= size[1] and region.right <= size[0]
        lines = screen_lines(app)[region.y : region.bottom]
        shown = " ".join(line[region.x : region.right] for line in lines)
        assert " ".join(shown.split()) == dialog.hint
        assert dialog.hint.endswith("spans of stored traces are merged into them")
