"""Live mode in the viewer shows traces as the receiver takes them: they are committed like any
other, so the viewer's poll finds them with no change of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

from receiver.receiving import receiving, run_program

from pipetrace.app.tui import make_app
from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.trace_list import TraceListScreen
from pipetrace.store import open_store


async def test_live_mode_shows_received_traces(tmp_path: Path) -> None:
    store = tmp_path / "received.db"
    open_store(str(store)).close()
    with receiving(tmp_path, str(store)) as rx:
        app = make_app(str(store), poll_interval=0.05)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            screen: TraceListScreen = app.list_screen
            assert screen.rows == []
            await press(pilot, "l")
            status, _, sent = await asyncio.to_thread(
                run_program, rx.url, tmp_path / "sent.json", "--traces", "1"
            )
            assert status == 0
            for _ in range(200):
                await pilot.pause(0.05)
                if screen.rows:
                    break
            assert [row.id for row in screen.rows] == [sent[0]["trace_id"]]
            assert screen.rows[0].trigger_event == "POST /checkout"
