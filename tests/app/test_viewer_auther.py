"""The viewer on an auther database: the list and a detail with a custom span under its
script's span, a skipped span and the "auther store" status line, as accepted pictures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from auther_db import AutherWriter, SpanSpec, file_digest, migrate, sqlite_runner
from auther_samples import fill
from textual.pilot import Pilot

from pipetrace.app.tui.scenes import FIXED_NOW, press, settle
from pipetrace.store import open_store

AUTHER_FILE = "auther.db"
SIZE = (120, 32)


@pytest.fixture
def auther_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An auther database as ./auther.db (a fixed URL in the pictures), dated from the
    viewer's fixed clock."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / AUTHER_FILE
    run = sqlite_runner(path)
    migrate(run)
    fill(AutherWriter(run), now_ms=FIXED_NOW // 1_000_000)
    return path


@pytest.mark.parametrize("keys", [(), ("enter",)], ids=["list", "detail"])
def test_auther_store_pictures(
    keys: tuple[str, ...],
    auther_file: Path,
    viewer: Callable[..., object],
    snap_compare: Callable[..., bool],
) -> None:
    digest = file_digest(auther_file)

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await press(pilot, *keys)
        await settle(pilot)

    assert snap_compare(viewer(AUTHER_FILE), terminal_size=SIZE, run_before=run)
    assert file_digest(auther_file) == digest


async def test_the_window_pages_in_the_auther_order_both_ways(auther_file: Path, viewer) -> None:
    """An auther store lists traces by when each was written, not when it started: paging
    down past the window and back up to the newest shows its rows in that order, consecutive
    and none missing."""
    writer = AutherWriter(sqlite_runner(auther_file), seed=2)
    for n in range(150):
        started = FIXED_NOW // 1_000_000 - 3_600_000 + n * 1000
        step = [[SpanSpec("Enrich", output={"n": n})]]
        writer.trace("before_signup", started, step, created_delay_ms=(n % 7) * 2500)
    repo = open_store(AUTHER_FILE, migrate=False, create=False)
    try:
        everything = [r.id for r in repo.list_traces(limit=1000).rows]
    finally:
        repo.close()

    app = viewer(AUTHER_FILE, page_size=10)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.list_screen

        def check() -> None:
            assert all(w.is_finished for w in app.workers), "the list never stops reading"
            ids = [str(k.value) for k in screen.table.rows]
            assert ids and len(ids) <= screen.window.limit
            start = everything.index(ids[0])
            assert ids == everything[start : start + len(ids)]

        await settle(pilot)
        check()
        for _ in range(30):
            if screen.window.below is None:
                break
            await press(pilot, "end")
            check()
        assert screen.window.below is None and screen.window.above is not None
        for _ in range(40):
            if screen.window.above is None and screen.table.cursor_row == 0:
                break
            await press(pilot, "pageup")
            check()
        assert screen.window.above is None and screen.table.current_id == everything[0]
