"""The cleanup dialog on the sample store: preview, delete, cancel and a bad age."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.filesize import decimal
from store_checks import orphan_spans
from textual.widgets import Button, Label, Static

from pipetrace.app.sample_store import DAY
from pipetrace.app.tui.scenes import FIXED_NOW, press, settle, type_text
from pipetrace.app.tui.screens.cleanup_dialog import CleanupDialog
from pipetrace.app.tui.shots import STORE_FILE
from pipetrace.app.wording import counted


async def open_dialog(pilot, age: str) -> CleanupDialog:
    """Press C and replace the default age with `age`."""
    await settle(pilot)
    await press(pilot, "C", "backspace", "backspace", "backspace")
    await type_text(pilot, age)
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, CleanupDialog)
    return dialog


async def test_preview_then_delete_removes_exactly_the_counted_traces(sample, sample_repo, viewer):
    """The preview matches count_older_than; Delete removes those; the list count refreshes."""
    expected = sample_repo.count_older_than(FIXED_NOW - 2 * DAY)
    total = sample_repo.count_traces()
    assert 0 < expected[0] < total

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await open_dialog(pilot, "2d")
        preview = str(dialog.query_one("#cleanup-preview", Static).render())
        await pilot.click("#delete")
        await settle(pilot)
        report = str(dialog.query_one("#cleanup-report", Static).render())
        await pilot.click("#close")
        await settle(pilot)
        count, result = app.list_screen.count, dialog.result

    assert f"{expected[0]} traces and {expected[1]} spans older than 2d" in preview
    assert f"deleted {expected[0]} traces and {expected[1]} spans" in report
    assert result is not None and result.space is not None and result.freed_bytes > 0
    assert Path(STORE_FILE).stat().st_size == result.space.size_bytes
    assert (
        f"the file shrank by {decimal(result.freed_bytes)} to {decimal(result.space.size_bytes)}"
    ) in report
    assert count == total - expected[0] == sample_repo.count_traces()
    assert sample_repo.count_older_than(FIXED_NOW - 2 * DAY) == (0, 0)
    assert orphan_spans(sample_repo) == 0


async def test_cancel_stops_between_batches_and_leaves_no_orphans(sample, sample_repo, viewer):
    """Cancel during a one-trace-per-batch delete: the report says so and the store is whole."""
    total = sample_repo.count_traces()

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await open_dialog(pilot, "1d")
        dialog.batch_size = 1
        dialog.query_one("#delete", Button).press()
        for _ in range(1000):
            if dialog.deleted:
                break
            await asyncio.sleep(0.005)
        dialog.query_one("#cancel", Button).press()
        await settle(pilot)
        assert dialog.result is not None
        report = str(dialog.query_one("#cleanup-report", Static).render())
        result = dialog.result
        traces, spans, cancelled = result.traces, result.spans, result.cancelled

    deleted = f"{counted(traces, 'trace')} and {counted(spans, 'span')}"
    assert cancelled and f"cancelled after deleting {deleted}" in report
    assert traces > 0 and sample_repo.count_older_than(FIXED_NOW - DAY)[0] > 0, "stopped early"
    assert sample_repo.count_traces() == total - traces
    assert orphan_spans(sample_repo) == 0


async def test_a_bad_age_is_explained_inline_and_nothing_can_be_deleted(sample, viewer):
    """An age the parser refuses shows its one-line reason; Delete stays disabled."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await open_dialog(pilot, "soon")
        error = str(dialog.query_one("#dialog-error", Label).render())
        disabled = dialog.query_one("#delete", Button).disabled

    assert error.startswith("age: ") and "soon" in error
    assert disabled


async def test_an_age_beyond_the_store_is_refused_inline(sample, viewer):
    """An age over the parser's 100 years is refused in one line while typing; none counted."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "C", "ctrl+u")
        await type_text(pilot, "99999999d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CleanupDialog)
        error = str(dialog.query_one("#dialog-error", Label).render())
        disabled = dialog.query_one("#delete", Button).disabled

    assert error.startswith("age: ") and "'99999999d' is too large" in error
    assert disabled


async def test_enter_goes_to_delete_and_only_delete_deletes(sample, sample_repo, viewer):
    """Enter in the age field focuses Delete once counted; nothing goes before Delete is pressed."""
    total = sample_repo.count_traces()
    expected = sample_repo.count_older_than(FIXED_NOW - 2 * DAY)[0]

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await open_dialog(pilot, "2d")
        await press(pilot, "enter")
        assert app.focused is dialog.query_one("#delete", Button)
        assert sample_repo.count_traces() == total
        await press(pilot, "enter")
        assert sample_repo.count_traces() == total - expected


async def test_dialogs_fit_a_small_terminal(sample, viewer):
    """At 60x15 every field and button of the cleanup and filter dialogs can be reached in view."""

    app = viewer()
    async with app.run_test(size=(60, 15)) as pilot:
        await settle(pilot)
        for key in ("C", "r", "d", "slash"):
            await press(pilot, key)
            dialog = app.screen
            box = dialog.query_one(".dialog-box")
            assert dialog.region.contains_region(box.region), key
            for _ in range(8):
                await press(pilot, "tab")
                focused = app.focused
                assert focused is not None and box.region.contains_region(focused.region), (
                    key,
                    focused,
                )
            await press(pilot, "escape")
