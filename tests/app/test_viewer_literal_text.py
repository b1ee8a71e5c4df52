"""Stored and typed text that looks like markup is shown as it is, never parsed or fatal."""

from __future__ import annotations

from pathlib import Path

from factories import BASE_NS, make_trace
from textual.pilot import Pilot

from pipetrace.app.tui.scenes import press, settle, type_text
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.app.tui.widgets.waterfall import Waterfall
from pipetrace.store import open_store

TRICKY = ("[/]", "[bold]x", "zz[(%", "[REDACTED]")


def _tricky_store(path: Path) -> str:
    """One trace whose user, message, span name, attributes and input hold markup-like text."""
    item = make_trace(1, status="blocked", started_at=BASE_NS, user_id="[/]", message="[bold]x")
    item.trace.request_ip = "zz[(%"
    item.trace.context_snapshot = {"[/]": "[bold]x"}
    item.spans[1].name = "[/] [bold]x"
    item.spans[1].status_message = "[/]"
    item.spans[1].attributes = {"note": "[/]", "[bold]x": "[REDACTED]"}
    item.trace.replay_of = "[/]"
    repo = open_store(str(path))
    try:
        repo.save_traces([item])
    finally:
        repo.close()
    return item.trace.id


async def test_markup_like_text_is_shown_literally(tmp_path: Path, viewer) -> None:
    """List, detail header, span pane, find, search chip and a dialog error all show `[/]`."""
    trace_id = _tricky_store(tmp_path / "tricky.db")

    app = viewer(str(tmp_path / "tricky.db"))
    # wide enough for the list's IP column (at 120 it gives way to the deciding script's)
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "p")  # the trace names a replay_of, so only a list with replays has it
        listed = app.export_screenshot()
        assert "[/]" in listed and "[bold]x" in listed and "zz[(%" in listed
        await press(pilot, "enter")
        screen = app.screen
        assert isinstance(screen, TraceDetailScreen) and screen.trace_id == trace_id
        header = str(screen.query_one("#trace-header").render())
        assert "user [/]" in header and "ip zz[(%" in header and "[bold]x" in header
        await press(pilot, "o")
        await settle(pilot)
        linked = app.screen
        assert isinstance(linked, TraceDetailScreen) and linked.trace_id == "[/]"
        linked_header = str(linked.query_one("#trace-header").render())
        assert "trace [/] is not in the store" in linked_header
        await press(pilot, "escape")
        assert app.screen is screen
        await press(pilot, "down")
        await settle(pilot)
        shown = app.export_screenshot()
        assert "[/]&#160;[bold]x" in shown and "[REDACTED]" in shown, "span name, attribute"
        await press(pilot, "slash")
        await type_text(pilot, "[/]")
        await press(pilot, "enter")
        waterfall = screen.query_one(Waterfall)
        assert waterfall.current_node == 1
        assert str(screen.query_one("#find-status").render()).startswith("find [/]: 1/1")
        for query in ("zz[(%", "[REDACTED]"):
            await press(pilot, "slash", *["backspace"] * 5)
            await type_text(pilot, query)
            await press(pilot, "enter")
            assert str(screen.query_one("#find-status").render()).startswith(f"find {query}: ")
        await press(pilot, "escape", "slash")
        await type_text(pilot, "[/]")
        await press(pilot, "enter")
        assert "[/]" in str(app.list_screen.query_one("#filter-bar").render())
        await press(pilot, "d")
        await type_text(pilot, "[/]")
        await press(pilot, "enter")
        assert "'[/]' is not a number" in str(app.screen.query_one("#dialog-error").render())


QUOTED = 'it\'s "x" [b]'
"""A stored id with both quote characters and markup-like text (imports may store any text)."""


def _linked_store(path: Path) -> tuple[str, str]:
    """A trace replaying the missing id QUOTED, and its replay whose own id holds quotes."""
    original = make_trace(1, started_at=BASE_NS)
    original.trace.replay_of = QUOTED
    replay = make_trace(2, started_at=BASE_NS + 1)
    replay.trace.id = "r'\"[b]" + replay.trace.id
    for span in replay.spans:
        span.trace_id = replay.trace.id
    replay.trace.replay_of = original.trace.id
    repo = open_store(str(path))
    try:
        repo.save_traces([original, replay])
    finally:
        repo.close()
    return original.trace.id, replay.trace.id


async def _click_link(pilot: Pilot[None], after: str) -> None:
    """Click the header's first link that follows the text `after`."""
    header = pilot.app.screen.query_one("#trace-header")
    lines = str(header.render()).splitlines()
    row = next(n for n, line in enumerate(lines) if after in line)
    column = lines[row].index(after) + len(after)
    region = header.content_region
    await pilot.click(offset=(region.x + column, region.y + row))
    await settle(pilot)


async def test_header_links_open_the_exact_id_whatever_it_holds(tmp_path: Path, viewer) -> None:
    """Ids holding ' and " and `[b]` are shown literally and their links open exactly them."""
    original_id, replay_id = _linked_store(tmp_path / "linked.db")

    app = viewer(str(tmp_path / "linked.db"))
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        app.open_trace(original_id)
        await settle(pilot)
        first = app.screen
        header = str(first.query_one("#trace-header").render())
        assert f"replay of {QUOTED}" in header
        assert f"replayed by {replay_id[:12]}…" in header
        await _click_link(pilot, "replay of ")
        missing = app.screen
        assert isinstance(missing, TraceDetailScreen) and missing is not first
        assert missing.trace_id == QUOTED
        assert f"trace {QUOTED} is not in the store" in str(
            missing.query_one("#trace-header").render()
        )
        await press(pilot, "escape")
        assert app.screen is first
        await _click_link(pilot, "replayed by ")
        opened = app.screen
        assert isinstance(opened, TraceDetailScreen) and opened is not first
        assert opened.trace_id == replay_id
        assert f"replay of {original_id}" in str(opened.query_one("#trace-header").render())
