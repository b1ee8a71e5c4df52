"""A failed load carries what repeats it: Retry loads the next page, or the trace, again."""

from __future__ import annotations

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.error import ErrorScreen
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.store import Repository
from pipetrace.store.sql import Statement

HIDE = Statement("ALTER TABLE pipeline_traces RENAME TO hidden_traces")
RESTORE = Statement("ALTER TABLE hidden_traces RENAME TO pipeline_traces")


async def test_retry_after_a_failed_next_page_loads_that_page(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """Retry repeats the page that failed, not the first page: the rows grow, none are lost."""

    app = viewer(page_size=40)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        sample_repo.backend.write([HIDE])
        screen.action_load_more()
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert len(screen.rows) == 40
        sample_repo.backend.write([RESTORE])
        await press(pilot, "r")
        assert app.screen is screen
        everything = sample_repo.list_traces(limit=1000).rows
        assert [r.id for r in screen.rows] == [r.id for r in everything[:80]]


async def test_retry_after_a_failed_trace_load_shows_the_trace(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """A trace opened while its table is gone says so; Retry, once it is back, loads it."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        sample_repo.backend.write([HIDE])
        app.open_trace(sample.blocked_id)
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        sample_repo.backend.write([RESTORE])
        await press(pilot, "r")
        detail = app.screen
        assert isinstance(detail, TraceDetailScreen)
        assert detail.span_tree is not None
        assert detail.span_tree.trace.id == sample.blocked_id


async def test_a_failed_live_poll_is_only_reported_in_the_status_line(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """Live mode polls again by itself, so a failed poll opens no dialog."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        sample_repo.backend.write([HIDE])
        screen.action_poll()
        await settle(pilot)
        assert app.screen is screen
        assert screen.problem is not None and "no such table" in screen.problem
