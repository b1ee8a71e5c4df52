"""The trace detail: waterfall tree, folding, find, errors, copy and replay links."""

from __future__ import annotations

import io
from pathlib import Path

from notices import record_notices
from rich.console import Console
from textual.widgets import Static

from pipetrace.app.engine_sink import recording_engine
from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import press, settle, type_text
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.app.tui.widgets.span_pane import span_details
from pipetrace.app.tui.widgets.waterfall import Waterfall
from pipetrace.store import open_store

LONG_EMAIL = "a.rather.long.local.part.that.needs.wrapping." * 2 + "ana@example.com"


async def test_waterfall_folds_finds_and_jumps_to_errors(sample: SampleStore, viewer) -> None:
    """Folding changes the visible rows; find and next-error land on the right spans."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(sample.large_id)
        await settle(pilot)
        screen: TraceDetailScreen = app.screen  # type: ignore[assignment]
        waterfall = screen.query_one(Waterfall)
        tree = waterfall.span_tree
        assert tree is not None and len(tree.visible) == 2000
        assert len(list(screen.query("*"))) < 60, "no widget per span"
        await press(pilot, "down", "space")
        assert len(tree.visible) == 2000 - 49
        await press(pilot, "minus")
        assert tree.visible == [0]
        await press(pilot, "plus")
        assert len(tree.visible) == 2000
        await press(pilot, "slash")
        await type_text(pilot, "tenant_042")
        await press(pilot, "enter")
        assert [tree.spans[n].name for n in screen.matches] == ["claim: tenant_042.role"] * 2
        assert waterfall.current_node == screen.matches[0]
        await press(pilot, "n")
        assert waterfall.current_node == screen.matches[1]
        await press(pilot, "N")
        assert waterfall.current_node == screen.matches[0]
        await press(pilot, "minus", "e")
        node = waterfall.current_node
        assert tree.spans[node].status == "error"
        assert tree.visible[waterfall.cursor] == node, "the error was revealed"
        console = Console(width=60, file=io.StringIO(), record=True)
        console.print(span_details(tree.spans[node]))
        assert "Lua error at" in console.export_text()


async def test_copy_ids_and_follow_replay_links(sample: SampleStore, viewer) -> None:
    """y and Y copy ids; o opens the replayed trace, and escape comes back."""

    app = viewer()
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(sample.replay_id)
        await settle(pilot)
        first = app.screen
        await press(pilot, "y")
        assert app.clipboard == sample.replay_id
        toast = notices[-1].message
        assert toast == f"trace id {sample.replay_id} sent to the clipboard (OSC 52)"
        await press(pilot, "down", "Y")
        waterfall = first.query_one(Waterfall)
        assert app.clipboard == waterfall.span_tree.spans[waterfall.current_node].id
        assert "replay of" in str(first.query_one("#trace-header").render())
        await press(pilot, "o")
        assert isinstance(app.screen, TraceDetailScreen)
        assert app.screen.trace_id == sample.blocked_id
        assert "replayed by" in str(app.screen.query_one("#trace-header").render())
        await press(pilot, "escape")
        assert app.screen is first


async def test_blocked_trace_shows_decision_and_blocking_span(sample: SampleStore, viewer) -> None:
    """The header says denied and why; the blocking script is coloured as blocked."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(sample.blocked_id)
        await settle(pilot)
        header = str(app.screen.query_one("#trace-header").render())
        assert "denied" in header and "blocked" in header
        tree = app.screen.query_one(Waterfall).span_tree
        assert [s.status for s in tree.spans].count("blocked") == 2


async def test_next_failure_stops_at_the_blocking_span(sample: SampleStore, viewer) -> None:
    """On a blocked trace without errors, e goes to the span that blocked, then around."""

    app = viewer()
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(sample.blocked_id)
        await settle(pilot)
        waterfall = app.screen.query_one(Waterfall)
        tree = waterfall.span_tree
        assert not any(s.status == "error" for s in tree.spans)
        await press(pilot, "e")
        span = tree.spans[waterfall.current_node]
        assert span.status == "blocked" and span.parent_span_id is not None
        await press(pilot, "e")
        assert waterfall.current_node == 0, "wraps around to the blocked root"
        assert not notices, "no 'nothing found' toast"


def pane_text(screen: TraceDetailScreen, width: int = 40) -> str:
    """What the span pane shows, as plain text at a narrow width."""
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(screen.query_one("#span-body", Static).content)
    return console.export_text()


async def test_root_shows_trigger_input_and_result_and_scripts_their_output(
    tmp_path: Path, viewer
) -> None:
    """On an engine-made trace: the root span shows the redacted input and the result data, a
    script span its output data, as whole JSON values wrapped to the pane, never cut."""
    repo = open_store(str(tmp_path / "engine.db"))
    signup = {"email": LONG_EMAIL, "password": "hunter2", "ip": "81.2.69.160", "country": "DE"}
    try:
        with recording_engine(repo) as (engine, _):
            outcome = engine.execute_trigger("before_signup", signup, {"user_id": "u-1"})
        found = repo.get_trace_with_spans(outcome.trace_id)
    finally:
        repo.close()
    ip_hash = found.trace.result_data["ip_hash"]

    app = viewer(str(tmp_path / "engine.db"))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(outcome.trace_id)
        await settle(pilot)
        await settle(pilot)
        screen: TraceDetailScreen = app.screen  # type: ignore[assignment]
        root = pane_text(screen)
        assert "trigger input (secrets redacted)" in root and "result data" in root
        squashed = "".join(root.split())
        assert f'"email":"{LONG_EMAIL}"' in squashed and '"password":"[REDACTED]"' in squashed
        assert f'"ip_hash":"{ip_hash}"' in squashed and "…" not in root
        waterfall = screen.query_one(Waterfall)
        tree = waterfall.span_tree
        waterfall.select_node(next(i for i, s in enumerate(tree.spans) if s.name == "ip_denylist"))
        await settle(pilot)
        script = pane_text(screen)
        assert "output data" in script and "trigger input" not in script
        assert f'"ip_hash":"{ip_hash}"' in "".join(script.split())
