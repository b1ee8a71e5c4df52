"""Memory stays flat: traces opened and closed give their memory back, and a list paged through
holds a bounded window of rows, so a viewer can be left open for a whole shift."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from factories import make_trace
from textual.widgets._footer import FooterKey

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import press, settle
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.store import open_store

TRACES = 20
"""The traces opened in turn."""
WARM_UP = 50
"""Opens and closes before measuring. They fill bounded caches, most of all Textual's
StylesCache.get_inner_outer, which keeps the style caches of the last 1,024 widgets drawn
(about ten a trace): about 15 MB by the 50th trace, 10 MB more by the 100th, then nothing."""
OPENED = 100
OPENED_GROWTH_MB = 20.0
"""What 100 more opens and closes may add: the caches' last 10 MB and noise (each open cost
0.45 MB, never given back, before: 45 MB here)."""
PAGED = 50_000
PAGE = 1000
PAGED_GROWTH_MB = 60.0
"""What paging through 50,000 rows may add: its window of 5,000 rows at most (about 5 kB a row
before, all 50,000 of them kept: 250 MB)."""


def resident_mb() -> float:
    """This process's resident memory in MB, after a full garbage collection (Linux)."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def test_opening_and_closing_100_traces_gives_the_memory_back(
    sample: SampleStore, viewer
) -> None:
    """Open a trace, let its pane fill, close it; 100 times, after a warm-up. Resident memory
    grows by less than OPENED_GROWTH_MB, no closed screen keeps its spans, and the footers
    hold only the keys they show."""
    app = viewer()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        ids = [r.id for r in app.list_screen.rows[:TRACES]]

        async def open_and_close(n: int) -> None:
            app.open_trace(ids[n % len(ids)])
            await settle(pilot)
            assert isinstance(app.screen, TraceDetailScreen) and app.screen.span_tree
            app.pop_screen()
            await settle(pilot)

        for n in range(WARM_UP):
            await open_and_close(n)
        before = resident_mb()
        for n in range(OPENED):
            await open_and_close(n)
        growth = resident_mb() - before
        closed = [o for o in gc.get_objects() if isinstance(o, TraceDetailScreen)]
        assert all(screen.span_tree is None for screen in closed)
        assert sum(isinstance(o, FooterKey) for o in gc.get_objects()) < 60
        assert growth < OPENED_GROWTH_MB, f"{growth:.1f} MB more after {OPENED} traces"


async def test_paging_through_50000_rows_holds_a_window(tmp_path: Path, viewer) -> None:
    """End, again and again, down to the oldest of 50,000 traces: the list never holds more rows
    than its window, and resident memory grows by less than PAGED_GROWTH_MB."""
    db = str(tmp_path / "long.db")
    repo = open_store(db)
    try:
        for first in range(0, PAGED, 5000):
            repo.save_traces([make_trace(n, spans=1) for n in range(first, first + 5000)])
    finally:
        repo.close()

    app = viewer(db, page_size=PAGE)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        before = resident_mb()
        most = 0
        while screen.window.below is not None:
            await press(pilot, "end")
            most = max(most, screen.table.row_count, len(screen.rows))
        growth = resident_mb() - before
        assert screen.rows[-1].id == f"{0:032x}", "paged down to the oldest trace"
        assert most <= screen.window.limit == 5 * PAGE
        assert growth < PAGED_GROWTH_MB, f"{growth:.1f} MB more after {PAGED:,} rows"
