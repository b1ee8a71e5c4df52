"""The duration plot's title says why it shows fewer dots than traces: a sample, damaged rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from factories import BASE_NS, SEC, make_trace, saved_with_starts

from pipetrace.app.tui.scenes import settle
from pipetrace.app.tui.screens.trace_list import PLOT_TITLE
from pipetrace.app.tui.widgets.duration_plot import DurationPlot
from pipetrace.store import TraceWithSpans

MS = 1_000_000


def _store(path: Path, items: list[TraceWithSpans], damage: dict[int, str]) -> None:
    """A SQLite file of `items` with damaged starts, and trace 1's duration stored as text."""
    saved_with_starts(path, items, damage)
    with sqlite3.connect(path) as db:
        # A duration that is no number is plotted (as a bad-row dot at the bottom), not left out.
        db.execute("UPDATE pipeline_traces SET duration_ms = 'slow' WHERE id = ?", (f"{1:032x}",))
    db.close()


async def _plot(path: Path, viewer) -> tuple[str, int, int]:
    """(plot title, dots, matching traces) once the list has loaded."""
    app = viewer(str(path))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        plot = app.list_screen.query_one(DurationPlot)
        return str(plot.border_title), len(plot.points), app.list_screen.count


async def test_damaged_rows_left_out_are_named_not_called_a_sample(tmp_path: Path, viewer) -> None:
    """Eight traces, three with start times no clock can show: five dots, and no 'sample'."""
    path = tmp_path / "damaged.db"
    items = [make_trace(n, spans=1) for n in range(1, 9)]
    _store(path, items, {2: "'soon'", 3: "x'00ff'", 4: "1.5e30"})

    title, dots, count = await _plot(path, viewer)

    assert (dots, count) == (5, 8)
    assert title == f"{PLOT_TITLE} · 3 damaged traces not plotted"


async def test_a_sampled_plot_says_so_and_names_damaged_rows_too(tmp_path: Path, viewer) -> None:
    """Sixty traces in one millisecond-wide burst, then one an hour for a day: the burst is
    sampled. (The hourly traces make the day the bulk of the plot: one lone trace a day after
    the burst would be a far outlier, drawn at the edge and the burst spread over the axis.)"""
    path = tmp_path / "sampled.db"
    burst = [make_trace(n, started_at=BASE_NS + n * MS // 100, spans=1) for n in range(1, 61)]
    later = [make_trace(60 + h, started_at=BASE_NS + h * 3600 * SEC, spans=1) for h in range(1, 25)]
    _store(path, [*burst, *later], {60: "'soon'"})

    title, dots, count = await _plot(path, viewer)

    assert count == 84 and 24 < dots < 83
    assert title == (
        f"{PLOT_TITLE} · a sample of {dots} spread evenly over the time range"
        " · 1 damaged trace not plotted"
    )


async def test_every_trace_plotted_has_no_note(tmp_path: Path, viewer) -> None:
    """Five whole traces, five dots: the title adds nothing."""
    path = tmp_path / "whole.db"
    _store(path, [make_trace(n, spans=1) for n in range(1, 6)], {})

    title, dots, count = await _plot(path, viewer)

    assert (title, dots, count) == (PLOT_TITLE, 5, 5)
