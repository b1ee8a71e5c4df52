"""The list's window of rows: bounded, contiguous, and refreshed in place."""

from __future__ import annotations

from factories import make_trace

from pipetrace.app.tui.row_window import RowWindow, cursor_of
from pipetrace.store import Page, TraceRow

PAGE = 10


def rows(newest: int, count: int) -> list[TraceRow]:
    """Traces newest, newest - 1, ... as the list gives them, newest first."""
    return [make_trace(n, spans=1).trace for n in range(newest, newest - count, -1)]


def numbers(window: RowWindow) -> list[int]:
    return [int(r.id, 16) for r in window.rows]


def page(newest: int, count: int, more: bool = True) -> Page:
    """A page of the list from `newest` down, with a cursor below it when `more`."""
    found = rows(newest, count)
    return Page(found, cursor_of(found[-1]) if more else None)


def test_scrolling_down_keeps_at_most_the_limit_and_lets_the_top_go() -> None:
    window = RowWindow(limit=5 * PAGE, keep=2 * PAGE, margin=3)
    window.start(page(999, PAGE))
    newest = 999 - PAGE
    for _ in range(20):
        window.add_older(page(newest, PAGE), len(window.rows) - 1)
        newest -= PAGE
        assert len(window.rows) <= 5 * PAGE
        assert numbers(window) == list(range(numbers(window)[0], newest, -1))
    assert window.above is not None and window.above.trace_id == f"{numbers(window)[0] + 1:032x}"
    assert window.below == cursor_of(window.rows[-1])


def test_scrolling_back_up_reads_the_rows_let_go_up_to_the_newest() -> None:
    window = RowWindow(limit=5 * PAGE, keep=2 * PAGE, margin=3)
    window.start(page(999, PAGE))
    for newest in range(989, 889, -PAGE):
        window.add_older(page(newest, PAGE), len(window.rows) - 1)
    while window.above is not None:
        first = numbers(window)[0]
        reached = first + PAGE >= 999
        newer = rows(min(999, first + PAGE), min(PAGE, 999 - first))
        above = None if reached else cursor_of(rows(first + PAGE + 1, 1)[0])
        window.add_newer(Page(newer, above), 0)
        assert len(window.rows) <= 5 * PAGE
        assert numbers(window) == list(range(numbers(window)[0], numbers(window)[-1] - 1, -1))
    assert numbers(window)[0] == 999


def test_a_refresh_drops_deleted_rows_fills_from_below_and_counts_new_ones_on_top() -> None:
    """As far down as before (new rows on top push none out) and as many rows as before (rows
    from below take the place of deleted ones)."""
    window = RowWindow(limit=5 * PAGE, keep=2 * PAGE, margin=3)
    window.start(page(999, 2 * PAGE))
    reread = rows(1002, window.reread_limit(PAGE))
    deleted = {995, 990}
    fresh = window.refresh(Page([r for r in reread if int(r.id, 16) not in deleted], None), PAGE)
    assert fresh == 3
    assert numbers(window) == [n for n in range(1002, 979, -1) if n not in deleted]
    assert window.below == cursor_of(window.rows[-1])
    deleted |= set(range(985, 999))
    window.refresh(Page([r for r in reread if int(r.id, 16) not in deleted], None), PAGE)
    assert numbers(window) == [n for n in range(1002, 972, -1) if n not in deleted][:21]


def test_a_refresh_that_changes_nothing_keeps_the_version() -> None:
    window = RowWindow(limit=5 * PAGE, keep=2 * PAGE, margin=3)
    window.start(page(999, PAGE))
    version = window.version
    assert window.refresh(page(999, window.reread_limit(PAGE)), PAGE) == 0
    assert window.version == version
