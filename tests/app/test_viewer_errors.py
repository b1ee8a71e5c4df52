"""A database that is unreachable at start or breaks while open: a message, a retry, no crash."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import SelectionList, Static
from textual.worker import WorkerFailed

from pipetrace.app.sample_store import SampleStore, build_sample_store
from pipetrace.app.settings import Settings
from pipetrace.app.tui import PipetraceApp, run_viewer
from pipetrace.app.tui.scenes import FIXED_NOW, press, settle
from pipetrace.app.tui.screens.bug import BugScreen
from pipetrace.app.tui.screens.error import ErrorScreen
from pipetrace.app.tui.screens.filter_dialogs import ChooseDialog
from pipetrace.store import Repository, TraceFilter, open_store
from pipetrace.store.sql import Statement


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_server_shows_a_message_and_retries(viewer) -> None:
    """An sqld URL nobody answers: the error dialog names the URL; retry tries again."""
    url = f"http://127.0.0.1:{_closed_port()}"

    app = viewer(url)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert url in str(app.screen.query_one("#error-message").render())
        await press(pilot, "r")
        assert isinstance(app.screen, ErrorScreen), "still failing, still explained"
        await press(pilot, "escape")
        assert "not connected" in str(app.list_screen.query_one("#status-line").render())


async def test_retry_succeeds_once_the_store_can_be_opened(tmp_path: Path, viewer) -> None:
    """A path that is a folder fails; once a store is there instead, Retry opens it."""
    target = tmp_path / "traces.db"
    target.mkdir()

    app = viewer(str(target))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        target.rmdir()
        open_store(str(target)).close()
        await press(pilot, "r")
        assert app.screen is app.list_screen
        assert app.list_screen.count == 0 and app.list_screen.problem is None


async def test_a_store_that_does_not_exist_is_not_created(tmp_path: Path, viewer) -> None:
    """A mistyped path: the dialog says there is no store there, and none is made."""
    typo = tmp_path / "typo" / "traces.db"

    app = viewer(str(typo))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert f"no store at {typo}" in str(app.screen.query_one("#error-message").render())

    assert not typo.parent.exists()


async def test_the_default_store_is_not_created_by_the_viewer(tmp_path: Path, viewer) -> None:
    """No store in the data folder yet: the dialog says how to make one, and none is made."""
    data = tmp_path / "data"
    default = data / "pipetrace" / "traces.db"
    app = viewer(Settings(default_store=default).store())
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        message = str(app.screen.query_one("#error-message").render())
        assert f"no store at {default}" in message
        assert "pipetrace demo" in message

    assert not data.exists()


async def test_store_breaking_while_open_keeps_rows_and_recovers(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """The traces table vanishes mid-session: rows stay, the dialog explains, retry recovers."""
    hide = Statement("ALTER TABLE pipeline_traces RENAME TO hidden_traces")
    restore = Statement("ALTER TABLE hidden_traces RENAME TO pipeline_traces")

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = [r.id for r in app.list_screen.rows]
        sample_repo.backend.write([hide])
        await press(pilot, "ctrl+r")
        assert isinstance(app.screen, ErrorScreen)
        assert "no such table" in str(app.screen.query_one("#error-message").render())
        assert [k.value for k in app.list_screen.table.rows] == shown
        sample_repo.backend.write([restore])
        await press(pilot, "r")
        assert app.screen is app.list_screen
        assert [r.id for r in app.list_screen.rows] == shown


async def test_viewer_works_on_libsql(sqld_url: str, viewer) -> None:
    """The same app on a real sqld server: list, count and a trace's waterfall."""
    from conftest import wipe_sqld

    wipe_sqld(sqld_url)
    info = build_sample_store(sqld_url, now_ns=FIXED_NOW)
    repo = open_store(sqld_url)
    try:
        expected = [r.id for r in repo.list_traces(limit=100).rows]
    finally:
        repo.close()

    app = viewer(sqld_url)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert [r.id for r in app.list_screen.rows] == expected
        traffic = [i for i in info.trace_ids if i != info.replay_id]  # replays are left out
        assert app.list_screen.count == len(traffic) + len(info.corrupt_ids)
        app.open_trace(info.error_id)
        await settle(pilot)
        await press(pilot, "e")
        tree = app.screen.span_tree
        assert tree is not None and tree.spans[app.screen.waterfall.current_node].status == "error"


class CrashingViewer(PipetraceApp):
    """The viewer with a bug that raises once it is on screen."""

    def on_ready(self) -> None:
        """Fail the way an unexpected exception in any handler does."""
        raise RuntimeError("a bug")


def test_a_crashed_viewer_exits_non_zero(sample: SampleStore) -> None:
    """After a crash the process ends with a failing status, so shells and scripts notice."""
    with pytest.raises(SystemExit) as exited:
        run_viewer(CrashingViewer("traces.db", clock=lambda: FIXED_NOW), headless=True)
    assert exited.value.code == 1


async def test_trigger_dialog_opened_before_the_store_fills_once_it_loads(
    sample: SampleStore, viewer
) -> None:
    """Pressing t before the triggers are known shows 'loading…', then the store's triggers."""
    sample_path = Path("traces.db")
    hidden = sample_path.rename("later.db")
    sample_path.mkdir()

    app = viewer(str(sample_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "escape", "t")
        dialog = app.screen
        assert isinstance(dialog, ChooseDialog)
        assert "loading" in str(dialog.query_one("#choose-note").render())
        await press(pilot, "enter")
        assert app.screen is dialog
        sample_path.rmdir()
        hidden.rename(sample_path)
        app.open_repository()
        await settle(pilot)
        options = dialog.query_one(SelectionList)
        listed = [options.get_option_at_index(i).value for i in range(options.option_count)]
        assert listed == open_store(str(sample_path)).distinct_triggers()
        assert not dialog.query_one("#choose-note").display
        await press(pilot, "space", "enter")
        assert app.list_screen.filters.triggers == (listed[0],)


async def _meet_a_bug(app: PipetraceApp, pilot: Pilot[None]) -> None:
    """Hand the list's page worker a filter the viewer never builds: the store's IP network
    check raises ValueError, which only a bug in the caller can reach; wait for its dialog."""
    screen = app.list_screen
    bad = TraceFilter(ip_network="172.16.0.0/12")
    worker = screen.load_page(app.repo, screen.generation, bad, None)
    with pytest.raises(WorkerFailed):
        await worker.wait()
    await settle(pilot)


async def test_a_worker_that_meets_a_bug_shows_it_as_a_bug(sample: SampleStore, viewer) -> None:
    """Not 'the store refused a value': the bug dialog names the exception, the app carries on."""
    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = [r.id for r in app.list_screen.rows]
        await _meet_a_bug(app, pilot)
        assert isinstance(app.screen, BugScreen)
        message = str(app.screen.query_one("#error-message").render())
        assert message.startswith("pipetrace hit a bug: ValueError: '172.16.0.0/12' is not")
        assert message.endswith("; run with PIPETRACE_DEBUG=1 for the traceback")
        assert "refused" not in message
        assert not app.screen.query("#bug-traceback")
        await press(pilot, "escape")
        assert app.screen is app.list_screen
        assert [r.id for r in app.list_screen.rows] == shown


async def test_with_debugging_the_bug_dialog_shows_the_traceback(
    sample: SampleStore, viewer
) -> None:
    app = viewer(show_tracebacks=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await _meet_a_bug(app, pilot)
        assert isinstance(app.screen, BugScreen)
        traceback = str(app.screen.query_one("#bug-traceback", Static).render())
        assert traceback.startswith("Traceback (most recent call last):")
        assert "in load_page" in traceback and "network_text" in traceback
