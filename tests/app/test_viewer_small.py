"""The viewer on an 80x24 terminal: dialogs keep their title and buttons, nothing is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rich.cells import cell_len
from screen_text import screen_lines
from textual.widget import Widget
from textual.widgets import Button, Input, Label

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import open_trace, press, scene_named, settle
from pipetrace.app.tui.screens.cleanup_dialog import CleanupDialog
from pipetrace.app.tui.screens.filter_dialogs import RangeDialog
from pipetrace.app.tui.screens.trace_list import shorten_left
from pipetrace.app.tui.shots import STORE_FILE
from pipetrace.app.tui.widgets.span_pane import SpanPane
from pipetrace.app.tui.widgets.trace_header import TraceHeader
from pipetrace.app.tui.widgets.waterfall import Waterfall

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
async def test_the_range_dialog_shows_its_title_and_buttons(
    height: int, sample: SampleStore, viewer
) -> None:
    """`r` at 80 columns: the title and Apply/Clear/Cancel show; the fields between them scroll,
    and each one tabbed to comes into view."""

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


@pytest.mark.parametrize("height", [24, 18])
async def test_the_cleanup_report_keeps_its_title_and_close_in_view(
    height: int, sample: SampleStore, viewer
) -> None:
    """After a cleanup at 80 columns the report (with its disk-space line) grows the dialog: the
    title and the focused Close button still show, and the report scrolls between them."""

    app = viewer()
    async with app.run_test(size=(80, height)) as pilot:
        await settle(pilot)
        await scene_named("cleanup_done").script(pilot, sample)
        dialog = app.screen
        assert isinstance(dialog, CleanupDialog)
        close = dialog.query_one("#close", Button)
        title = dialog.query_one(".dialog-box").children[0]
        assert app.focused is close
        assert on_screen(title) and on_screen(close)
        assert "file shrank" in str(dialog.query_one("#cleanup-report").render())


async def test_the_status_line_shortens_a_long_store_path_from_the_left(
    sample: SampleStore, tmp_path: Path, viewer
) -> None:
    """A store deep in folders: the status line keeps the counts and ends with the file name,
    the path cut from the left with an ellipsis, at 80 columns and after a resize."""
    folder = tmp_path / "a-rather-long-folder-name" / "holding-the-pipeline-traces-of-2026"
    folder.mkdir(parents=True)
    store = folder / "traces.db"
    shutil.copyfile(STORE_FILE, store)

    app = viewer(str(store))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        counts = " 145 matching traces · 100 loaded · "
        whole = len(counts + str(store)) + 1
        for width in (80, whole - 1, whole):
            await pilot.resize_terminal(width, 24)
            await settle(pilot)
            line = screen_lines(app)[-2].rstrip()
            assert line.startswith(counts) and line.endswith("/traces.db")
            assert len(line) <= width - 1
            url = line.removeprefix(counts)
            if width < whole:
                assert url.startswith("…") and str(store).endswith(url[1:])
                assert len(line) == width - 1
            else:
                assert url == str(store)


def test_shortening_counts_cells_not_characters() -> None:
    """Wide characters take two cells each: the shortened text still fits its cells."""
    text = "/srv/数据/追踪/traces.db"
    shown = shorten_left(text, 14)
    assert shown.startswith("…") and text.endswith(shown[1:])
    assert cell_len(shown) <= 14 and cell_len(shown) >= 13
    assert shorten_left(text, 40) == text


async def test_the_detail_header_keeps_each_label_with_its_value(
    sample: SampleStore, viewer
) -> None:
    """At every width from 60 to 120 columns, user, ip, trace and spans sit on the same line
    as their values, and the header's first line keeps the trigger and status together."""

    app = viewer()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await open_trace(pilot, sample.blocked_id)
        assert app.repo is not None
        trace = app.repo.get_trace(sample.blocked_id)
        assert trace is not None
        pairs = [
            f"user {trace.user_id}",
            f"ip {trace.request_ip}",
            f"trace {trace.id}",
            f"spans {trace.span_count}",
            f"{trace.trigger_event}  {trace.status}",
        ]
        for width in range(60, 121):
            await pilot.resize_terminal(width, 24)
            await settle(pilot)
            region = app.screen.query_one(TraceHeader).region
            lines = screen_lines(app)[region.y : region.bottom]
            missing = [p for p in pairs if not any(p in line for line in lines)]
            assert missing == [], width


@pytest.mark.parametrize("size", [SMALL, (100, 30), (120, 36)])
@pytest.mark.parametrize("which", ["blocked_id", "large_id"])
async def test_every_span_row_has_its_name_and_a_bar(
    size: tuple[int, int], which: str, sample: SampleStore, viewer
) -> None:
    """Below 100 columns the span pane goes under the waterfall; at every size each span row
    shows at least one cell of bar, however short the span (the 2,000-span trace has spans of
    a few µs in 23 ms), and its name: whole at 80 and 120 columns, at 100 (beside the pane,
    the bars keeping a third of the width) perhaps cut with an ellipsis."""

    app = viewer()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await open_trace(pilot, getattr(sample, which))
        waterfall = app.screen.query_one(Waterfall)
        pane = app.screen.query_one(SpanPane)
        if size[0] < 100:
            assert waterfall.region.width == size[0]
            assert pane.region.y >= waterfall.region.bottom
        else:
            assert pane.region.x >= waterfall.region.right
        tree = waterfall.span_tree
        assert tree is not None
        region = waterfall.region
        lines = screen_lines(app)[region.y + 1 : region.bottom]
        rows = [line[region.x : region.right] for line in lines]
        names = [tree.spans[node].name for node in tree.visible[: len(rows)]]
        assert len(names) >= 5
        for name, row in zip(names, rows, strict=False):
            assert "█" in row, row
            if which == "blocked_id" and size[0] != 100:
                assert name in row, row
            else:
                assert name in row or (name[:12] in row and "…" in row), row
