"""Replay from the trace detail, on the real store with the real engine: diff screen and links."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from factories import BLOCKED_SIGNUP as SIGNUP
from notices import record_notices
from rich.console import Console

from pipetrace.app.engine_sink import recording_engine
from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.replay_diff import ReplayDiffScreen
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.app.tui.widgets.replay_diff import diff_renderable
from pipetrace.engine import bundled_pipelines_dir
from pipetrace.store import Repository, TraceFilter


def record_blocked(repo: Repository, pipelines: Path | None = None) -> str:
    """A before_signup trace blocked by the disposable-email script, stored through the writer."""
    with recording_engine(repo, pipelines) as (engine, _):
        outcome = engine.execute_trigger(
            "before_signup", SIGNUP, {"user_id": "u-7", "request_ip": "1.2.3.4"}
        )
    assert outcome.allowed is False
    return outcome.trace_id


def diff_text(screen: ReplayDiffScreen) -> str:
    """What the diff screen shows, as plain text."""
    assert screen.diff is not None
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(diff_renderable(screen.diff))
    return str(screen.query_one("#replay-title").render()) + "\n" + console.export_text()


async def test_replay_key_shows_identical_diff_and_links_the_new_trace(sample, sample_repo, viewer):
    """R replays through the bundled engine; the diff says identical; k keeps it; o opens it."""
    original = record_blocked(sample_repo)

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(original)
        await settle(pilot)
        detail = app.screen
        await press(pilot, "R")
        screen = app.screen
        assert isinstance(screen, ReplayDiffScreen) and screen.diff is not None
        text = diff_text(screen)
        assert "identical" in text and "password" in text and "disposable_email" in text
        assert "not stored" in text
        assert sample_repo.get_trace(screen.diff.replay_id) is None
        await press(pilot, "o")
        assert app.screen is screen  # nothing to open before the replay is kept
        await press(pilot, "k")
        assert "o opens the replay" in diff_text(screen)
        await press(pilot, "o")
        assert isinstance(app.screen, TraceDetailScreen)
        assert app.screen.trace_id == screen.diff.replay_id
        assert "replay of" in str(app.screen.query_one("#trace-header").render())
        await press(pilot, "escape", "escape")
        assert app.screen is detail
        assert "replayed by" in str(detail.query_one("#trace-header").render())
        diff = screen.diff

    stored = sample_repo.get_trace_with_spans(diff.replay_id)
    assert stored is not None and stored.trace.replay_of == original
    assert diff.identical


async def test_replay_with_a_changed_script_shows_the_decision_change(
    sample, sample_repo, viewer, tmp_path: Path
):
    """A copied pipelines folder whose blocker no longer matches: blocked -> allowed is shown."""
    folder = tmp_path / "pipelines"
    shutil.copytree(bundled_pipelines_dir(), folder)
    original = record_blocked(sample_repo, folder)
    script = folder / "disposable_email.lua"
    script.write_text(script.read_text().replace("mailinator.com", "mailinator.invalid"))

    app = viewer(pipelines_dir=folder)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(original)
        await settle(pilot)
        await press(pilot, "R")
        screen = app.screen
        assert isinstance(screen, ReplayDiffScreen) and screen.diff is not None
        assert not screen.diff.identical
        text = diff_text(screen)

    assert "blocked -> allowed" in text
    assert "changed" in text and "identical" not in text


async def test_replay_without_readable_input_is_refused_in_one_line(sample, viewer):
    """A trace whose stored input is damaged cannot be replayed: a notification, no crash."""

    app = viewer()
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(sample.corrupt_ids[0])
        await settle(pilot)
        await press(pilot, "R")
        assert isinstance(app.screen, TraceDetailScreen)
        messages = [n.message for n in notices]

    assert any("no readable stored input" in m for m in messages), messages


async def test_a_replay_not_kept_leaves_the_store_unchanged(sample, sample_repo, viewer):
    """R then escape: the diff was shown, nothing was stored."""
    original = record_blocked(sample_repo)
    total = sample_repo.count_traces(TraceFilter(replays="include"))

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(original)
        await settle(pilot)
        await press(pilot, "R")
        screen = app.screen
        assert isinstance(screen, ReplayDiffScreen) and screen.diff is not None
        await press(pilot, "escape")
        assert isinstance(app.screen, TraceDetailScreen)

    assert sample_repo.count_traces(TraceFilter(replays="include")) == total
    assert sample_repo.replays_of(original) == []
