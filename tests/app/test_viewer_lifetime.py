"""No callback outlives its screen: quick keys while a screen is taken down end in no crash."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.lifetime import bound, is_live
from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.error import ErrorScreen
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.app.tui.widgets.span_pane import SpanPane
from pipetrace.store import StoreError

ROUNDS = 10
"""Fresh viewers the crash is tried in: it needed a screen slow to take down, as a first one
is; it came in about half of them, each second key a little later than the last."""


@pytest.mark.parametrize("second", ["u", "i"])
async def test_reload_then_u_or_i_while_the_trace_loads_does_not_crash(
    sample: SampleStore, viewer, second: str, worker_errors: Callable[[], list[BaseException]]
) -> None:
    """The tracker's crash: Enter opens a trace, ctrl+r reloads it and u (or i) follows within
    milliseconds; the reloaded trace put the span pane's delayed fill in motion just before
    the screen was closed, the fill met the screen half taken down (NoMatches: '#span-body'
    on SpanPane) and the app exited with status 1. A worker's bug is now reported by its
    screen, which is gone by then, so the workers' own errors are looked at. The keys'
    actions are called as their bindings call them, `second`'s a few milliseconds after
    ctrl+r's."""
    field = "user" if second == "u" else "ip"
    for n in range(ROUNDS):
        app = viewer()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await pilot.pause(0.5)
            screen = app.screen
            assert isinstance(screen, TraceDetailScreen)
            screen.action_reload()
            await asyncio.sleep(0.002 * n)
            screen.action_traces_of(field)
            await pilot.pause(0.5)
            await settle(pilot)
            assert app.screen is app.list_screen, f"round {n}"
        assert not app.return_code, f"round {n}"
        assert not worker_errors(), f"round {n}: {worker_errors()!r}"


async def test_a_bound_callback_does_nothing_once_its_screen_goes(
    sample: SampleStore, viewer
) -> None:
    """While the detail screen is taken down (its loop ended, its widgets going) and after,
    a callback bound to its span pane neither runs nor raises."""
    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(sample.blocked_id)
        await settle(pilot)
        screen = app.screen
        pane = screen.query_one(SpanPane)
        filled: list[object] = []
        fill = bound(pane, lambda: filled.append(pane.query_one("#span-body")))
        fill()
        assert len(filled) == 1 and fill.live
        app.pop_screen()
        seen_going = False
        while screen.is_attached:
            if not screen.is_running:
                seen_going = True
                assert not is_live(pane)
                fill()
            await asyncio.sleep(0)
        fill()
        assert len(filled) == 1 and not fill.live
        assert seen_going, "the screen was taken down between two looks"


async def test_a_failed_load_of_a_closed_screen_opens_no_dialog(
    sample: SampleStore, viewer
) -> None:
    """A trace's load that fails after its screen was closed is not offered for Retry."""
    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(sample.blocked_id)
        await settle(pilot)
        closed = app.screen
        assert isinstance(closed, TraceDetailScreen)
        await press(pilot, "escape")
        failed = TraceDetailScreen.LoadFailed(StoreError("gone"), bound(closed, closed.load))
        app.post_message(failed)
        await settle(pilot)
        assert not isinstance(app.screen, ErrorScreen)
        assert app.screen is app.list_screen
