"""Live mode stays true: beside retention and new traces its count and rows are the store's."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys

from factories import BASE_NS, SEC, make_trace

from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.trace_list import TraceListScreen
from pipetrace.store import REPLAY_CHOICES, CleanupProgress, ReplayChoice, Repository, TraceFilter
from pipetrace.store.sql import Statement

TRACES = 1200
PAGE = 50
HIDE = Statement("ALTER TABLE pipeline_traces RENAME TO hidden_traces")
RESTORE = Statement("ALTER TABLE hidden_traces RENAME TO pipeline_traces")


def fill(repo: Repository) -> None:
    """Traces 0 to TRACES - 1, a second apart, the last the newest."""
    repo.save_traces([make_trace(n, spans=1) for n in range(TRACES)])


def fill_with_replays(repo: Repository) -> None:
    """The traces `fill` stores, every third of them a replay of the one before it."""
    items = [make_trace(n, spans=1) for n in range(TRACES)]
    for item in items[2::3]:
        item.trace.replay_of = f"{int(item.trace.id, 16) - 1:032x}"
    repo.save_traces(items)


async def clean_up_while_writing(repo: Repository, older_than: int, first: int = TRACES) -> int:
    """Retention as another process runs it, in small batches, a new trace (number `first`,
    then the next) stored after each (as the engine goes on recording); returns how many
    were stored."""
    numbers = itertools.count(first)
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


async def test_paging_and_live_mode_keep_the_replay_filter(
    store_url: str, repo: Repository, viewer
) -> None:
    """With replays left out (the default), brought in and shown alone (`p`, `p`): paging down
    past the window, a poll beside retention and paging back up to the newest show what the
    store lists with that filter, consecutive and none missing, and count what it counts."""
    fill_with_replays(repo)
    app = viewer(store_url, page_size=PAGE, poll_interval=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen

        def check(choice: ReplayChoice) -> None:
            f = TraceFilter(replays=choice)
            everything = [r.id for r in repo.list_traces(f, limit=TRACES * 2).rows]
            rows = shown(screen)
            assert rows and rows == [r.id for r in screen.rows], choice
            start = everything.index(rows[0])
            assert rows == everything[start : start + len(rows)], choice
            assert screen.count == repo.count_traces(f) == len(everything), choice

        for round_, choice in enumerate(REPLAY_CHOICES):
            assert screen.filters.replays == choice
            while screen.window.below is not None:
                await press(pilot, "end")
            assert screen.window.above is not None, choice
            check(choice)
            await press(pilot, "up", "l")
            older_than = BASE_NS + (200 + 100 * round_) * SEC
            await clean_up_while_writing(repo, older_than, first=TRACES + 1000 * round_)
            await polled(pilot, screen)
            check(choice)
            await press(pilot, "l")
            for _ in range(100):
                if screen.window.above is None and screen.table.cursor_row == 0:
                    break
                await press(pilot, "pageup")
            assert screen.window.above is None and screen.table.cursor_row == 0, choice
            check(choice)
            await press(pilot, "p")


ELSEWHERE = """\
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
columns = ("id", "trigger_event", "status", "started_at", "created_at", "span_count", "source")
values = (sys.argv[2], "before_signup", "success", int(sys.argv[3]), int(sys.argv[3]), 0, "engine")
marks = ", ".join("?" * len(columns))
db.execute(f"INSERT INTO pipeline_traces ({', '.join(columns)}) VALUES ({marks})", values)
db.commit()
"""


async def test_idle_polls_read_no_rows_and_a_commit_elsewhere_comes_on_top(
    sqlite_repo: Repository, viewer, monkeypatch
) -> None:
    """On SQLite a poll while nothing was committed reads no rows (the data version says so);
    a trace another process commits is the top row after the next poll, the count with it."""
    fill(sqlite_repo)
    path = sqlite_repo.backend.target.location
    app = viewer(path, page_size=PAGE, poll_interval=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        assert screen.repo is not None
        reads: list[object] = []
        real = screen.repo.list_traces

        def counted(*args, **kwargs):
            reads.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(screen.repo, "list_traces", counted)
        await press(pilot, "l")
        await polled(pilot, screen)
        first = len(reads)
        assert first >= 1
        for _ in range(5):
            await polled(pilot, screen)
        assert len(reads) == first
        new_id = "f" * 32
        started = BASE_NS + (TRACES + 10) * SEC
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", ELSEWHERE, path, new_id, str(started)],
            check=True,
        )
        await polled(pilot, screen)
        assert len(reads) > first
        assert shown(screen)[0] == new_id
        assert screen.count == TRACES + 1
