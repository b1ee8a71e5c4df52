"""Every viewer screen shows stored text that would drive a terminal only as visible escapes: the
list with its chips, trigger dialog and status line, a trace's header, waterfall and span pane,
the replay diff, the link dialog, a toast, the command palette and the error dialog."""

from __future__ import annotations

from pathlib import Path

from factories import make_trace
from hostile_text import Hostile, hostile_classes, hostile_pipelines, record_hostile
from screen_text import screen_lines
from textual.pilot import Pilot
from textual.widget import Widget

from pipetrace.app.tui import PipetraceApp, make_app
from pipetrace.app.tui.scenes import open_trace, press, settle
from pipetrace.app.tui.screens.error import ErrorScreen
from pipetrace.app.tui.screens.replay_diff import ReplayDiffScreen
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.app.tui.widgets.span_pane import SpanPane
from pipetrace.store import TraceWithSpans, open_store

SIZE = (200, 50)
"""Wide enough for every line but the span pane's (44 cells) to hold its text whole."""


def on_screen(app: PipetraceApp) -> str:
    """The whole screen as text, dialogs and toasts over what they cover."""
    return "\n".join(screen_lines(app))


def inside(app: PipetraceApp, widget: Widget) -> str:
    """The text of one widget's region without spaces, its lines joined as one, so what the
    widget wrapped or folded at its edge reads whole again."""
    region = widget.content_region
    lines = screen_lines(app)[region.y : region.bottom]
    return "".join(line[region.x : region.right] for line in lines).replace(" ", "")


def foreign_traces(hostile: Hostile) -> list[TraceWithSpans]:
    """What a foreign writer may store: a trace replaying an id that is the hostile text, with a
    span whose id is the hostile text, a replay of that trace, and a trace (listed, since the
    list leaves replays out) whose status is that text."""
    item = make_trace(1, trigger=hostile.raw, status="error", message=hostile.raw, spans=2)
    item.trace.user_id = item.trace.request_ip = item.trace.replay_of = hostile.raw
    item.spans[1].id = hostile.raw
    replay = make_trace(2, trigger=hostile.raw, spans=1)
    replay.trace.replay_of = item.trace.id
    return [item, replay, make_trace(3, trigger=hostile.raw, status=hostile.raw, spans=1)]


def hostile_store(tmp_path: Path, hostile: Hostile) -> tuple[str, Path, str, TraceWithSpans]:
    """A store named with the hostile text holding a trace the engine recorded from the hostile
    pipelines, and the foreign traces: its URL, the pipelines, the recorded id, the foreign one."""
    pipelines = hostile_pipelines(tmp_path / "pipelines", hostile)
    db = str(tmp_path / f"traces{hostile.in_names}.db")
    repo = open_store(db)
    try:
        recorded = record_hostile(repo, pipelines, hostile)
        foreign = foreign_traces(hostile)
        repo.save_traces(foreign)
    finally:
        repo.close()
    return db, pipelines, recorded, foreign[0]


async def check_list(pilot: Pilot[None], hostile: Hostile) -> None:
    """The rows (cut to their columns), the status line's URL, the trigger dialog and chip."""
    app, shown = pilot.app, hostile.shown
    assert isinstance(app, PipetraceApp)
    hostile.check(
        on_screen(app),
        f"invalid email: {shown}",
        hostile.head(13),  # trigger
        hostile.head(12),  # user
        hostile.head(15),  # ip
        f"traces{hostile.names_shown}.db",
    )
    await press(pilot, "t")
    hostile.check(on_screen(app), shown)
    await press(pilot, "space", "enter")
    hostile.check(on_screen(app), f"trigger={shown}")
    await press(pilot, "x")


async def check_recorded(pilot: Pilot[None], hostile: Hostile, recorded: str) -> None:
    """The header and waterfall, the span pane of the root (input and result JSON), of the
    script that returned the input and of the one that failed with it, then the replay diff."""
    app, shown = pilot.app, hostile.shown
    assert isinstance(app, PipetraceApp)
    await open_trace(pilot, recorded)
    detail = app.screen
    assert isinstance(detail, TraceDetailScreen)
    pane = detail.query_one(SpanPane)
    hostile.check(
        on_screen(app),
        f"user {shown}",
        f"ip {shown}",
        f"invalid email: {shown}",
        f"check{shown}",
        f"enrich{shown}",
        f"crash{shown}",
    )
    hostile.check(inside(app, pane), f'"x":"{hostile.in_json}"', f'"{hostile.in_json}":"v"')
    await press(pilot, "down", "down")
    hostile.check(inside(app, pane), f"enrich{shown}", f'"k":"{hostile.in_json}"')
    await press(pilot, "down")
    hostile.check(inside(app, pane), f"crash{shown}", f"Luaerroratcrash{hostile.names_shown}.lua:")
    await press(pilot, "R")
    assert isinstance(app.screen, ReplayDiffScreen) and app.screen.diff is not None
    hostile.check(
        on_screen(app),
        f"Replay diff  {shown}  {recorded}",
        f"invalid email: {shown}",
        f"check{shown}",
        f"crash{hostile.names_shown}.lua:",
    )
    await press(pilot, "escape", "escape")


async def check_foreign(pilot: Pilot[None], hostile: Hostile, foreign: TraceWithSpans) -> None:
    """A hostile replay link in the header, the link dialog, the screen it opens and the file
    name its export suggests, a hostile span id in the pane and the toast that copies it, and
    the command palette over it all."""
    app, shown = pilot.app, hostile.shown
    assert isinstance(app, PipetraceApp)
    await open_trace(pilot, foreign.trace.id)
    hostile.check(on_screen(app), f"replay of {shown}", f"user {shown}")
    await press(pilot, "o")
    hostile.check(on_screen(app), shown)
    await press(pilot, "enter")  # the first link: the hostile id, which no trace has
    hostile.check(on_screen(app), f"trace {shown} is not in the store")
    await press(pilot, "x")
    hostile.check(on_screen(app), f"trace-{shown}.otlp.json")
    await press(pilot, "escape", "escape", "down")
    pane = app.screen.query_one(SpanPane)
    hostile.check(inside(app, pane), f"span{shown}")
    await press(pilot, "Y")
    hostile.check(on_screen(app), f"span id {shown} sent to the")
    await press(pilot, "ctrl+p")
    hostile.check(on_screen(app))
    await press(pilot, "escape")


@hostile_classes
async def test_every_screen_shows_hostile_text_as_escapes(tmp_path: Path, hostile: Hostile) -> None:
    db, pipelines, recorded, foreign = hostile_store(tmp_path, hostile)
    app = make_app(db, pipelines_dir=pipelines)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await check_list(pilot, hostile)
        await check_recorded(pilot, hostile, recorded)
        await check_foreign(pilot, hostile, foreign)


@hostile_classes
async def test_the_error_dialog_names_a_hostile_store_with_escapes(
    tmp_path: Path, hostile: Hostile
) -> None:
    app = make_app(str(tmp_path / f"missing{hostile.in_names}.db"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        hostile.check(on_screen(app), f"missing{hostile.names_shown}.db")
        message = app.screen.query_one("#error-message")
        hostile.check(inside(app, message), f"nostoreat{tmp_path}/missing{hostile.names_shown}.db")
