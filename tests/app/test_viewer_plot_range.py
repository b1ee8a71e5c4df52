"""The duration plot's time axis: the filter's window, or the bulk of the traces, so one very
old trace (an import from 2019) cannot squeeze a month of real traffic into two columns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from factories import make_trace, saved_with_starts

from pipetrace.app.tui.filter_state import FilterState
from pipetrace.app.tui.plot_range import bulk_bounds
from pipetrace.app.tui.scenes import FIXED_NOW, settle
from pipetrace.app.tui.screens.trace_list import PLOT_TITLE
from pipetrace.app.tui.widgets.duration_plot import LABEL_W, DurationPlot
from pipetrace.store import TraceWithSpans

SEC = 1_000_000_000
DAY = 86_400 * SEC
OLD_NS = int(datetime(2019, 5, 2, tzinfo=UTC).timestamp()) * SEC
MONTH = [
    make_trace(n, started_at=FIXED_NOW - 30 * DAY + n * 3 * 3600 * SEC, spans=1)
    for n in range(1, 240)
]
"""A month of traffic before the fixed clock, one trace every three hours."""
FIRST, LAST = MONTH[0].trace.started_at, MONTH[-1].trace.started_at


def _store(path: Path, items: list[TraceWithSpans], damage: dict[int, str] | None = None) -> str:
    """A SQLite file of `items`, trace n's started_at set to the SQL value damage[n]; its URL."""
    return saved_with_starts(path, items, damage or {})


async def _plot(url: str, viewer, filters: FilterState | None = None):
    """(title, window, dot columns used, first column used, count, time axis line) once the
    list has loaded."""
    app = viewer(url)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        if filters is not None:
            app.list_screen.set_filters(filters)
            await settle(pilot)
        plot = app.list_screen.query_one(DurationPlot)
        *rows, axis = str(plot.render()).splitlines()
        used = sorted(
            {c for row in rows for c, ch in enumerate(row[LABEL_W + 1 :]) if "⠁" <= ch <= "⣿"}
        )
        count = app.list_screen.count
        return str(plot.border_title), plot.window, len(used), used[0], count, axis.strip()


async def test_one_very_old_trace_is_drawn_at_the_edge_and_counted(tmp_path: Path, viewer) -> None:
    """A month of traces and one from 2019: the axis spans the month, the month's dots spread
    over most of the plot, and the 2019 trace sits at the left edge, named in the title."""
    url = _store(tmp_path / "old.db", [*MONTH, make_trace(9001, started_at=OLD_NS, spans=1)])

    title, window, used, first, count, axis = await _plot(url, viewer)

    assert count == len(MONTH) + 1
    assert window == (FIRST, LAST)
    assert title == f"{PLOT_TITLE} · 1 older trace off the left edge"
    assert used > 80 and first == 0
    assert axis.startswith("◂ 2026-02-12") and not axis.endswith("▸")


async def test_the_month_alone_spans_the_axis_with_no_note(tmp_path: Path, viewer) -> None:
    """Without the old trace nothing is off the edge: the same month, the plain title."""
    url = _store(tmp_path / "month.db", MONTH)

    title, window, used, _, count, axis = await _plot(url, viewer)

    assert (title, window, count) == (PLOT_TITLE, (FIRST, LAST), len(MONTH))
    assert used > 80
    assert axis.startswith("2026-02-12") and not axis.endswith("▸")


async def test_a_filter_window_is_the_axis(tmp_path: Path, viewer) -> None:
    """With a time filter the axis is its window (to the clock's now), whatever else is stored."""
    url = _store(tmp_path / "window.db", [*MONTH, make_trace(9001, started_at=OLD_NS, spans=1)])

    title, window, _, _, count, axis = await _plot(url, viewer, FilterState(range_preset="7d"))

    assert window == (FIXED_NOW - 7 * DAY, FIXED_NOW)
    assert title == PLOT_TITLE
    assert count == sum(1 for t in MONTH if t.trace.started_at >= FIXED_NOW - 7 * DAY)
    assert axis.startswith("2026-03-07 12:00:00") and axis.endswith("2026-03-14 12:00:00")


async def test_outliers_on_both_sides_and_damaged_rows_are_counted_apart(
    tmp_path: Path, viewer
) -> None:
    """Two 2019 traces, one from next year, and a start time stored as text: each is named once
    (the text one is damaged, not older, though the hourly counts file it under 1970)."""
    future = FIXED_NOW + 300 * DAY
    items = [
        *MONTH,
        make_trace(9001, started_at=OLD_NS, spans=1),
        make_trace(9002, started_at=OLD_NS + DAY, spans=1),
        make_trace(9003, started_at=future, spans=1),
        make_trace(9004, spans=1),
    ]
    url = _store(tmp_path / "both.db", items, {9004: "'soon'"})

    title, window, used, first, _, axis = await _plot(url, viewer)

    assert window == (FIRST, LAST)
    assert title == (
        f"{PLOT_TITLE} · 2 older traces off the left edge · 1 newer trace off the right edge"
        " · 1 damaged trace not plotted"
    )
    assert used > 80 and first == 0
    assert axis.startswith("◂ ") and axis.endswith(" ▸")


def test_bulk_bounds_fall_in_the_gaps_before_and_after_far_outliers() -> None:
    """Evenly spread times have no outliers; far ones on either side are cut off just inside
    their gap, a cluster of them as one; a few times say too little; a gap of three
    interquartile ranges is not yet far."""
    spread = list(range(1000, 2000, 10))
    assert bulk_bounds(spread) == (None, None)
    assert bulk_bounds([-(10**9), -(10**9) + 5, *spread, 10**9]) == (-(10**9) + 6, 10**9 - 1)
    assert bulk_bounds([-(10**9), *spread, 10**9], newer_too=False) == (-(10**9) + 1, None)
    assert bulk_bounds([5, 10**9, 7]) == (None, None)
    iqr = 1750 - 1250  # the quartiles of the 101 times
    assert bulk_bounds([*spread, 1990 + 3 * iqr]) == (None, None)
    assert bulk_bounds([*spread, 1990 + 3 * iqr + 1]) == (None, 1990 + 3 * iqr)


def test_times_that_mostly_coincide_keep_their_near_neighbours_on_the_axis() -> None:
    """Most traces in one second: the quartiles meet, yet a trace a second away is no outlier;
    one an hour later still is."""
    sec = 10**9
    assert bulk_bounds([0, sec, sec, sec, sec, sec, 2 * sec, 3 * sec]) == (None, None)
    assert bulk_bounds([0, sec, sec, sec, sec, sec, 2 * sec, 3600 * sec]) == (None, 3600 * sec - 1)
