"""Live mode stays true: beside retention and new traces its count and rows are the store's."""

from __future__ import annotations

import asyncio
import itertools

from factories import BASE_NS, SEC, make_trace

from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.trace_list import TraceListScreen
from pipetrace.store import CleanupProgress, Repository
from pipetrace.store.sql import Statement

TRACES = 1200
PAGE = 50
HIDE = Statement("ALTER TABLE pipeline_traces RENAME TO hidden_traces")
RESTORE = Statement("ALTER TABLE hidden_traces RENAME TO pipeline_traces")


def fill(repo: Repository) -> None:
    """Traces 0 to TRACES - 1, a second apart, the last the newest."""
    repo.save_traces([make_trace(n, spans=1) for n in range(TRACES)])


async def clean_up_while_writing(repo: Repository, older_than: int) -> int:
    """Retention as another process runs it, in small batches, a new trace stored after each
    (as the engine goes on recording); returns how many were stored."""
    numbers = itertools.count(TRACES)
    written: list[int] = []

    def record(_: CleanupProgress) -> None:
        written.append(next(numbers))
        repo.save_traces([make_trace(written[-1], spans=1)])

    await asyncio.to_thread(
        repo.cleanup_old_traces, older_than, batch_size=100, on_progress=record, pause=0.02
    )
    return len(written)


async def polled(pilot, screen: TraceListScreen) -> None:
    """Let the polls under way end, then poll once more and let that end: one poll after the
    change settled."""
    await settle(pilot)
    screen.action_poll()
    await settle(pilot)


def shown(screen: TraceListScreen) -> list[str]:
    """The trace ids in the table, top to bottom."""
    return [str(key.value) for key in screen.table.rows]


async def test_live_mode_matches_the_store_after_cleanup_beside_it(
    store_url: str, repo: Repository, viewer
) -> None:
    """With retention deleting most traces and new ones arriving meanwhile, one poll after it
    ends the count and the rows are what `pipetrace traces` lists; the cursor stays on its
    trace and the new traces above it are counted."""
    fill(repo)
    app = viewer(store_url, page_size=PAGE, poll_interval=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        await press(pilot, "down", "down", "down", "l")
        held = screen.table.current_id
        added = await clean_up_while_writing(repo, BASE_NS + 900 * SEC)
        await polled(pilot, screen)
        assert added > 0
        assert screen.count == repo.count_traces() == TRACES - 900 + added
        listed = [r.id for r in repo.list_traces(limit=len(screen.rows)).rows]
        assert [r.id for r in screen.rows] == shown(screen) == listed
        assert len(listed) >= PAGE
        assert screen.table.current_id == held
        status = str(screen.query_one("#status-line").render())
        assert f"{screen.count:,} matching traces" in status and f"↑ {added} new" in status


async def test_deleted_rows_leave_a_window_deep_in_the_list(
    store_url: str, repo: Repository, viewer
) -> None:
    """Scrolled far down, where retention deletes: the rows left are the store's, consecutive,
    none deleted; scrolling back up reads the newer ones again, up to the newest."""
    fill(repo)
    app = viewer(store_url, page_size=PAGE, poll_interval=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        while screen.window.above is None or int(screen.rows[-1].id, 16) > 500:
            await press(pilot, "end")
        await press(pilot, "up", "up", "l")
        await clean_up_while_writing(repo, BASE_NS + 600 * SEC)
        await polled(pilot, screen)
        everything = [r.id for r in repo.list_traces(limit=TRACES * 2).rows]
        rows = shown(screen)
        assert rows and all(int(trace_id, 16) >= 600 for trace_id in rows)
        start = everything.index(rows[0])
        assert rows == everything[start : start + len(rows)]
        assert screen.count == len(everything)
        await press(pilot, "l", *["pageup"] * 40)
        assert shown(screen)[0] == everything[0]
        assert screen.window.above is None


async def test_a_window_whose_traces_all_went_shows_the_first_page(
    store_url: str, repo: Repository, viewer
) -> None:
    """At the end of the list when retention deletes all it holds: the first page, not nothing."""
    fill(repo)
    app = viewer(store_url, page_size=PAGE, poll_interval=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        while screen.window.below is not None:
            await press(pilot, "end")
        assert screen.window.above is not None
        await press(pilot, "l")
        await clean_up_while_writing(repo, BASE_NS + 1000 * SEC)
        await polled(pilot, screen)
        await polled(pilot, screen)
        assert screen.window.above is None and len(screen.rows) >= PAGE
        assert shown(screen) == [r.id for r in repo.list_traces(limit=len(screen.rows)).rows]
        assert screen.count == repo.count_traces()


async def test_a_poll_that_succeeds_clears_the_error(
    store_url: str, repo: Repository, viewer
) -> None:
    """A failed poll shows in the status line; the first that succeeds after it clears it."""
    fill(repo)
    app = viewer(store_url, page_size=PAGE, poll_interval=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        await press(pilot, "l")
        repo.backend.write([HIDE])
        await polled(pilot, screen)
        assert screen.problem is not None and "no such table" in screen.problem
        assert "no such table" in str(screen.query_one("#status-line").render())
        repo.backend.write([RESTORE])
        await polled(pilot, screen)
        assert screen.problem is None
        assert "no such table" not in str(screen.query_one("#status-line").render())
