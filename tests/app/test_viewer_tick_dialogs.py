"""The t and s tick dialogs apply every Space that precedes Enter, however the keys arrive: in
one read (fast typing, a paste, keys coalesced over SSH) as well as one at a time."""

from __future__ import annotations

from textual import events

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import press, settle


def _burst(app: object, *keys: tuple[str, str]) -> None:
    """Keys queued together, as one read of the terminal delivers them."""
    for key, char in keys:
        app.post_message(events.Key(key, char))  # type: ignore[attr-defined]


async def test_space_and_enter_in_one_read_tick_then_apply(sample: SampleStore, viewer) -> None:
    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "s", "down")
        _burst(app, ("space", " "), ("enter", "\r"))
        await settle(pilot)
        assert app.screen is app.list_screen
        assert app.list_screen.filters.statuses == ("blocked",)

        await press(pilot, "t")
        _burst(app, ("space", " "), ("down", None), ("space", " "), ("enter", "\r"))
        await settle(pilot)
        assert app.screen is app.list_screen
        assert len(app.list_screen.filters.triggers) == 2
        assert app.list_screen.filters.statuses == ("blocked",)
