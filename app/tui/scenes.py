"""Every screen state worth a picture, as pilot scripts shared by `screenshots` and the tests."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from ..replay import diff_traces
from ..sample_store import SampleStore, synthetic_trace
from .app import PipetraceApp
from .sample_what_if import (
    CANDIDATE_SHA,
    LOOSENED,
    SAMPLE_CANDIDATE,
    SAMPLE_FILTERS,
    sample_report,
    sample_script_diff,
)
from .screens.replay_diff import ReplayDiffScreen
from .screens.what_if import WhatIfScreen

FIXED_NOW = 1_773_489_600_000_000_000
"""2026-03-14 12:00:00 UTC: the clock of every screenshot and snapshot."""
OLD_TRACE_NS = 1_556_755_200_000_000_000
"""2019-05-02 00:00:00 UTC: an imported trace far older than the sample store's week."""
SIZE = (120, 36)
SMALL = (80, 24)
WIDE = (160, 36)
"""Wide enough for the list's trace id column."""
"""The smallest terminal the viewer is laid out for."""


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker runs and every message they posted has been handled (a worker
    cancelled meanwhile, as a closed screen's are, is no failure)."""
    quiet = 0
    for _ in range(200):
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        busy = any(not w.is_finished for w in pilot.app.workers)
        quiet = 0 if busy else quiet + 1
        if quiet == 3:
            return


async def press(pilot: Pilot[None], *keys: str) -> None:
    """Press keys, letting workers finish after each one."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type into the focused input."""
    await pilot.press(*list(text))


def viewer_app(pilot: Pilot[None]) -> PipetraceApp:
    """The viewer the pilot drives (every scene runs in one)."""
    assert isinstance(pilot.app, PipetraceApp)
    return pilot.app


async def open_trace(pilot: Pilot[None], trace_id: str) -> None:
    """Open a trace's detail as if chosen from the list."""
    app = viewer_app(pilot)
    await settle(pilot)
    app.open_trace(trace_id)
    await settle(pilot)


Script = Callable[[Pilot[None], SampleStore], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Scene:
    """One named screen state: the store it needs and how to get there."""

    name: str
    description: str
    script: Script
    store: str = "sample"
    """"sample", "empty" or "unreachable"."""
    size: tuple[int, int] = SIZE
    """The terminal's columns and rows."""


async def _nothing(pilot: Pilot[None], _: SampleStore) -> None:
    await settle(pilot)


async def _filter_trigger(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "t", "down", "down", "space", "enter")


async def _filter_status(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "s", "down", "space", "enter")


async def _choose_failures(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "s", "down", "space", "down", "space")


async def _filter_failures(pilot: Pilot[None], store: SampleStore) -> None:
    await _choose_failures(pilot, store)
    await press(pilot, "enter")


async def _range_dialog(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "r")


async def _import_dialog(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "i")


async def _old_trace(pilot: Pilot[None], _: SampleStore) -> None:
    """One trace from 2019 added (as an import would), then the list paged to its end."""
    app = viewer_app(pilot)
    assert app.repo is not None
    app.repo.save_traces([synthetic_trace("2019" + "0" * 27 + "1", 3, OLD_TRACE_NS)])
    await press(pilot, "ctrl+r", "end", "end")


async def _filter_range(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "r", "down", "enter")


async def _filter_custom_range_error(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "r", "tab")
    await type_text(pilot, "yesterday")
    await press(pilot, "enter")


async def _filter_duration(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "d")
    await type_text(pilot, "5")
    await press(pilot, "enter")


async def _filter_text(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "slash")
    await type_text(pilot, "mailinator")
    await press(pilot, "enter")


async def _filter_user(pilot: Pilot[None], store: SampleStore) -> None:
    await open_trace(pilot, store.blocked_id)
    await press(pilot, "u")


async def _blocked(pilot: Pilot[None], store: SampleStore) -> None:
    await open_trace(pilot, store.blocked_id)
    await press(pilot, "down", "down", "down", "down")


async def _root_data(pilot: Pilot[None], store: SampleStore) -> None:
    await open_trace(pilot, store.blocked_id)


async def _errored_span(pilot: Pilot[None], store: SampleStore) -> None:
    await open_trace(pilot, store.error_id)
    await press(pilot, "e")


async def _collapsed(pilot: Pilot[None], store: SampleStore) -> None:
    await open_trace(pilot, store.large_id)
    await press(pilot, "down", "space", "down", "space")


async def _find(pilot: Pilot[None], store: SampleStore) -> None:
    await open_trace(pilot, store.large_id)
    await press(pilot, "slash")
    await type_text(pilot, "tenant_042")
    await press(pilot, "enter", "n")


async def _corrupt(pilot: Pilot[None], store: SampleStore) -> None:
    await open_trace(pilot, store.corrupt_ids[0])
    await press(pilot, "down")


async def _blocked_by(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "s", "down", "space", "enter")


async def _many_filters(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "t", "space", "down", "space", "enter", "s", "down", "space", "down")
    await press(pilot, "space", "enter", "r", "down", "down", "down", "enter", "d")
    await type_text(pilot, "0.5")
    await press(pilot, "enter", "slash")
    await type_text(pilot, "example")
    await press(pilot, "enter")


async def _who_dialog(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "u")
    await type_text(pilot, "bob@corp.test")
    await press(pilot, "tab")
    await type_text(pilot, "203.0.113.0/24")


async def _who_filtered(pilot: Pilot[None], store: SampleStore) -> None:
    await _who_dialog(pilot, store)
    await press(pilot, "enter")


async def _goto_dialog(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "g")
    await type_text(pilot, "2026-03-12T08:00")


async def _went_to(pilot: Pilot[None], store: SampleStore) -> None:
    await _goto_dialog(pilot, store)
    await press(pilot, "enter")


async def _stats(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "S")


async def _stats_listed(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "S", "down", "down", "enter")


async def _help(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "question_mark")


async def _detail_help(pilot: Pilot[None], store: SampleStore) -> None:
    await open_trace(pilot, store.blocked_id)
    await press(pilot, "question_mark")


async def _replays_only(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "p", "p")


async def _live(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "down", "down", "l")


async def _replay_diff(pilot: Pilot[None], store: SampleStore) -> None:
    """The stored sample replay against its original (a live replay's ids and times vary)."""
    app = viewer_app(pilot)
    await open_trace(pilot, store.blocked_id)
    assert app.repo is not None
    original = app.repo.get_trace_with_spans(store.blocked_id)
    replay = app.repo.get_trace_with_spans(store.replay_id)
    assert original is not None and replay is not None
    # As after a fix: the script that blocked has new source, the others are as they ran.
    scripts = {s.script_id: s for s in original.spans if s.script_id}
    current = {script_id: s.attributes.get("script.sha256", "") for script_id, s in scripts.items()}
    current[next(script_id for script_id, s in scripts.items() if s.status == "blocked")] = "0" * 64
    diff = diff_traces(original, replay, current)
    await app.push_screen(ReplayDiffScreen(store.blocked_id, app.repo, diff=diff))
    await settle(pilot)


async def _source_view(pilot: Pilot[None], store: SampleStore) -> None:
    """The errored script's source as it ran, in the span pane, its failing line marked."""
    await open_trace(pilot, store.error_id)
    await press(pilot, "e", "v")


async def _replay_script_diff(pilot: Pilot[None], store: SampleStore) -> None:
    """The stored sample replay against its original, with the changed script's diff: the
    sample candidate raised the blocking script's threshold."""
    app = viewer_app(pilot)
    await open_trace(pilot, store.blocked_id)
    assert app.repo is not None
    original = app.repo.get_trace_with_spans(store.blocked_id)
    replay = app.repo.get_trace_with_spans(store.replay_id)
    assert original is not None and replay is not None
    current = {
        str(s.script_id): s.attributes.get("script.sha256", "")
        for s in original.spans
        if s.script_id
    }
    current[LOOSENED] = CANDIDATE_SHA
    scripts = sample_script_diff(app.repo, store.blocked_id)
    diff = diff_traces(original, replay, current, scripts=scripts)
    screen = ReplayDiffScreen(store.blocked_id, app.repo, diff=diff)
    await app.push_screen(screen)
    await settle(pilot)
    screen.query_one("#replay-body").scroll_end(animate=False)


async def _what_if_report(pilot: Pilot[None], _: SampleStore) -> None:
    """The what-if report of the sample candidate over the sample's sign-ins."""
    app = viewer_app(pilot)
    await settle(pilot)
    assert app.repo is not None
    screen = WhatIfScreen(
        app.repo,
        SAMPLE_FILTERS,
        "trigger=before_signin",
        Path(SAMPLE_CANDIDATE),
        report=sample_report(app.repo),
    )
    await app.push_screen(screen)
    await settle(pilot)


async def _what_if_flips(pilot: Pilot[None], store: SampleStore) -> None:
    """The traces of one flip class, opened from the report."""
    await _what_if_report(pilot, store)
    await press(pilot, "down", "enter")


async def _cleanup_preview(pilot: Pilot[None], _: SampleStore) -> None:
    await press(pilot, "C", "backspace", "backspace", "backspace")
    await type_text(pilot, "2d")
    await settle(pilot)


async def _cleanup_done(pilot: Pilot[None], store: SampleStore) -> None:
    await _cleanup_preview(pilot, store)
    await pilot.click("#delete")
    await settle(pilot)


SCENES: list[Scene] = [
    Scene("list", "the trace list, newest first, with the duration plot", _nothing),
    Scene("filter_trigger", "filtered to one trigger", _filter_trigger),
    Scene("filter_status", "filtered to blocked traces", _filter_status),
    Scene("choose_statuses", "ticking blocked and error in the status filter", _choose_failures),
    Scene("filter_failures", "every failure: blocked and errored traces", _filter_failures),
    Scene("filter_range", "the last hour only", _filter_range),
    Scene("filter_range_error", "a custom range with a bad time", _filter_custom_range_error),
    Scene("filter_duration", "traces slower than 5 ms", _filter_duration),
    Scene("filter_text", "a text search", _filter_text),
    Scene("filter_user", "every trace of a blocked trace's user (u in its detail)", _filter_user),
    Scene("live", "live mode on", _live),
    Scene("replays_only", "the replay toggle: replays only, marked, with its chip", _replays_only),
    Scene("detail_blocked", "a blocked trace: header, waterfall, span pane", _blocked),
    Scene("detail_input", "a trace's root span: the trigger's input and result data", _root_data),
    Scene("detail_error_span", "jumped to the errored span", _errored_span),
    Scene("detail_collapsed", "a 2,000-span trace with subtrees collapsed", _collapsed),
    Scene("detail_find", "find with matches highlighted", _find),
    Scene("detail_corrupt", "a damaged row, marked and explained", _corrupt),
    Scene("blocked_by", "blocked traces: the blocking script, trace ids", _blocked_by, size=WIDE),
    Scene("small_chips", "five filters at 80x24: the chips wrap", _many_filters, size=SMALL),
    Scene("filter_who", "typing a user and an IPv4 network", _who_dialog),
    Scene("filter_who_applied", "one user's traces from one network", _who_filtered),
    Scene("goto_dialog", "go to a typed time", _goto_dialog),
    Scene("goto_time", "the traces started at a typed time", _went_to),
    Scene("stats", "script stats: runs, errors, blocks, percentiles per script", _stats),
    Scene("stats_listed", "Enter on a script's stats: the list of its errors", _stats_listed),
    Scene("small_stats", "script stats on an 80x24 terminal", _stats, size=SMALL),
    Scene("help", "the help screen", _help),
    Scene("detail_help", "the help screen of the trace detail", _detail_help),
    Scene("replay_diff", "a replay compared with its original, script by script", _replay_diff),
    Scene(
        "replay_script_diff",
        "a replay diff with the unified diff of the script that changed",
        _replay_script_diff,
    ),
    Scene("detail_source", "an errored script's source as it ran, its line marked", _source_view),
    Scene("what_if_report", "what if: a candidate folder over the listed traces", _what_if_report),
    Scene("what_if_flips", "what if: the traces of one flip class", _what_if_flips),
    Scene("cleanup_preview", "cleanup: how much is older than 2 days", _cleanup_preview),
    Scene("cleanup_done", "cleanup: the report after deleting", _cleanup_done),
    Scene("empty", "an empty store", _nothing, store="empty"),
    Scene("db_error", "the database cannot be reached", _nothing, store="unreachable"),
    Scene("small_list", "the trace list on an 80x24 terminal", _nothing, size=SMALL),
    Scene(
        "small_detail",
        "a blocked trace on an 80x24 terminal: the pane under the bars",
        _blocked,
        size=SMALL,
    ),
    Scene("small_range", "the time range dialog on an 80x24 terminal", _range_dialog, size=SMALL),
    Scene("small_import", "the import dialog on an 80x24 terminal", _import_dialog, size=SMALL),
    Scene(
        "small_cleanup_done",
        "the cleanup report on an 80x24 terminal, Close in view",
        _cleanup_done,
        size=SMALL,
    ),
    Scene(
        "small_old_trace",
        "a 2019 trace among this week's: dated rows, and drawn at the plot's left edge",
        _old_trace,
        size=SMALL,
    ),
]


def scene_named(name: str) -> Scene:
    """Look a scene up by name."""
    return next(s for s in SCENES if s.name == name)


def unreachable_url() -> str:
    """A libSQL URL on a loopback port nobody listens on (the discard port)."""
    return "http://127.0.0.1:9"
