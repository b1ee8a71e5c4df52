"""A tired operator on every screen: random keys, pauses and resizes from a fixed seed, for a
bounded time, and nothing may raise."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.screen import Screen

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.filter_state import FilterState
from pipetrace.app.tui.scenes import open_trace, press, settle
from pipetrace.app.tui.screens.cleanup_dialog import CleanupDialog
from pipetrace.app.tui.screens.error import ErrorScreen
from pipetrace.app.tui.screens.filter_dialogs import (
    ChooseDialog,
    DurationDialog,
    PickDialog,
    RangeDialog,
    SearchDialog,
)
from pipetrace.app.tui.screens.help import HelpScreen
from pipetrace.app.tui.screens.path_dialog import PathDialog
from pipetrace.app.tui.screens.replay_diff import ReplayDiffScreen
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.app.tui.screens.trace_list import TraceListScreen
from pipetrace.store import Repository
from pipetrace.store.sql import Statement

SEED = 20_260_314
KEYS_PER_SCREEN = 80
SECONDS_PER_SCREEN = 2.5
"""Each screen gets this many keys, or fewer when they take longer than this (a busy machine)."""
KEYS = (
    *("up", "down", "up", "down", "pageup", "pagedown", "home", "end", "left", "right"),
    *("enter", "enter", "escape", "escape", "tab", "space", "backspace", "minus", "plus"),
    *("ctrl+r", "ctrl+r", "u", "i", "e", "E", "n", "N", "o", "y", "Y", "x", "R", "l"),
    *("t", "s", "r", "d", "slash", "C", "p", "w", "v", "question_mark", "a", "1", "5", "h", "k"),
)
"""Every key some screen binds (but q, which quits), the keys that move and close, and a few
that type."""
PAUSES = (0.0, 0.0, 0.0, 0.005, 0.01, 0.05, 0.2)
SIZES = ((120, 36), (80, 24), (60, 15), (200, 50), (100, 30))
HIDE = Statement("ALTER TABLE pipeline_traces RENAME TO hidden_traces")
RESTORE = Statement("ALTER TABLE hidden_traces RENAME TO pipeline_traces")

Start = Callable[[Pilot[None], SampleStore, Repository], Awaitable[None]]


async def _list(pilot: Pilot[None], store: SampleStore, repo: Repository) -> None:
    await settle(pilot)


def _keys(*keys: str) -> Start:
    async def start(pilot: Pilot[None], store: SampleStore, repo: Repository) -> None:
        await press(pilot, *keys)

    return start


def _in_trace(trace: str, *keys: str) -> Start:
    async def start(pilot: Pilot[None], store: SampleStore, repo: Repository) -> None:
        await open_trace(pilot, getattr(store, trace))
        await press(pilot, *keys)

    return start


async def _broken_store(pilot: Pilot[None], store: SampleStore, repo: Repository) -> None:
    repo.backend.write([HIDE])
    await press(pilot, "ctrl+r")


STARTS: list[tuple[str, Start, type[Screen[object]]]] = [
    ("trace list", _list, TraceListScreen),
    ("trace detail", _in_trace("blocked_id"), TraceDetailScreen),
    ("2,000-span trace", _in_trace("large_id"), TraceDetailScreen),
    ("replay diff", _in_trace("blocked_id", "R"), ReplayDiffScreen),
    ("linked traces", _in_trace("blocked_id", "R", "k", "escape", "o"), PickDialog),
    ("export", _in_trace("blocked_id", "x"), PathDialog),
    ("help", _keys("question_mark"), HelpScreen),
    ("triggers", _keys("t"), ChooseDialog),
    ("statuses", _keys("s"), ChooseDialog),
    ("time range", _keys("r"), RangeDialog),
    ("duration", _keys("d"), DurationDialog),
    ("search", _keys("slash"), SearchDialog),
    ("cleanup", _keys("C"), CleanupDialog),
    ("import", _keys("i"), PathDialog),
    ("what if", _keys("w"), PathDialog),
    ("store error", _broken_store, ErrorScreen),
]


async def test_random_keys_on_every_screen_raise_nothing(
    sample: SampleStore,
    sample_repo: Repository,
    viewer,
    worker_errors: Callable[[], list[BaseException]],
) -> None:
    """From each screen in turn, keys chosen at random (with pauses from none to 0.2 s, and now
    and then a new terminal size) run without an exception; the app never exits and never
    shows the bug dialog."""
    rng = random.Random(SEED)
    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for name, start, screen_type in STARTS:
            await start(pilot, sample, sample_repo)
            assert isinstance(app.screen, screen_type), f"{name}: on {app.screen!r}"
            ends = time.monotonic() + SECONDS_PER_SCREEN
            for _ in range(KEYS_PER_SCREEN):
                if rng.random() < 0.03:
                    await pilot.resize_terminal(*rng.choice(SIZES))
                else:
                    await pilot.press(rng.choice(KEYS))
                await pilot.pause(rng.choice(PAUSES))
                if app.return_code is not None or time.monotonic() > ends:
                    break
            assert app.return_code is None, f"{name}: the app exited"
            assert not worker_errors(), f"{name}: {worker_errors()!r}"
            await settle(pilot)
            if name == "store error":
                sample_repo.backend.write([RESTORE])
            await pilot.resize_terminal(120, 36)
            app.show_list(FilterState())
            if app.list_screen.live:
                app.list_screen.action_toggle_live()
            await settle(pilot)
    assert not app.return_code
