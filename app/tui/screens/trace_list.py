"""The trace list: filters, the duration plot, keyset-paged rows, live mode and a status line."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rich.cells import cell_len
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Static
from textual.worker import Worker

from pipetrace.store import Cursor, Page, Repository, StoreError, TraceFilter, TraceRow
from pipetrace.store.interop import (
    ExportReport,
    ImportReport,
    InteropError,
    import_file,
    write_export,
)

from ...deciders import Decider, deciders
from ...import_report import import_summary
from ...untrusted import shown
from ...wording import count_figure, counted, plural
from ..app_data import app_data
from ..export_path import suggested_export_path
from ..filter_state import NEXT_REPLAYS, STATUSES, FilterState
from ..lifetime import Bound, bound
from ..list_order import first_page, page_above, page_at, page_below
from ..plot_range import PlotData, plot_data
from ..row_window import RowWindow
from ..widgets.duration_plot import DurationPlot
from ..widgets.footer import KeyFooter
from ..widgets.trace_table import TraceTable
from ..worker_errors import ShowsWorkerBugs
from .cleanup_dialog import CleanupDialog
from .filter_dialogs import (
    ChooseDialog,
    DurationDialog,
    RangeDialog,
    ScriptDialog,
    SearchDialog,
    WhoDialog,
    choose,
)
from .goto_dialog import GoTo, GoToDialog
from .path_dialog import PathDialog
from .what_if import WhatIfScreen

PREFETCH_ROWS = 30
WINDOW_PAGES, KEPT_PAGES = 5, 2
"""The most rows the list holds, in pages, and how many of them it keeps when a page read
while scrolling makes them more: it drops the far end, and reads it again when scrolled back
to, so a list left open for days holds no more than this. Either is at least enough rows for
the cursor to be near one end only (with small pages)."""
SHORT_ROWS, TINY_ROWS = 30, 20
"""Below these terminal heights the plot shrinks, then hides, leaving the rows to traces."""
PLOT_POINTS = 4000
STATUS_PADDING = 2
"""The status line's padding, one cell either side (the filter bar's too)."""
CHIP_GAP = 2
"""Cells between two filter chips."""
MIN_URL = 16
"""The status line gives the store's URL at least this many cells, cutting what follows."""
PLOT_TITLE = "durations over time (log scale)"


def shorten_left(text: str, width: int) -> str:
    """`text` in `width` cells, cut from the left with an ellipsis: a path keeps its file name."""
    if cell_len(text) <= width:
        return text
    kept = text
    while kept and cell_len(kept) > width - 1:
        kept = kept[1:]
    return "…" + kept


def wrapped(pieces: list[tuple[str, int]], width: int) -> list[list[tuple[str, int]]]:
    """Pieces (text, cells) laid into lines of `width` cells, two cells between pieces on a
    line; a piece wider than a line gets a line of its own."""
    lines: list[list[tuple[str, int]]] = []
    used = width
    for piece in pieces:
        if lines and used + CHIP_GAP + piece[1] <= width:
            lines[-1].append(piece)
            used += CHIP_GAP + piece[1]
        else:
            lines.append([piece])
            used = piece[1]
    return lines


def plot_title(data: PlotData) -> str:
    """The plot's title: how many traces lie beyond the ends of its time axis (drawn at the
    edge), then why it may show fewer dots than matching traces."""
    plot = data.plot
    title = PLOT_TITLE
    if data.older:
        title += f" · {data.older:,} older {plural(data.older, 'trace')} off the left edge"
    if data.newer:
        title += f" · {data.newer:,} newer {plural(data.newer, 'trace')} off the right edge"
    if plot.sampled:
        title += f" · a sample of {len(plot.points):,} spread evenly over the time range"
    if plot.unplaceable:
        title += f" · {plot.unplaceable:,} damaged {plural(plot.unplaceable, 'trace')} not plotted"
    return title


class TraceListScreen(ShowsWorkerBugs, Screen[None]):
    """Newest traces first; every query runs in a worker and comes back as a message."""

    BINDINGS = [
        Binding("t", "filter_trigger", "Trigger"),
        Binding("s", "filter_status", "Status"),
        Binding("r", "filter_range", "Time"),
        Binding("d", "filter_duration", "Duration"),
        Binding("slash", "filter_text", "Search"),
        Binding("u", "filter_who", "User or IP…", show=False),
        Binding("k", "filter_script", "Script, its status and version…", show=False),
        Binding("g", "go_to", "Go to a time…", show=False),
        Binding("G", "go_oldest", "Oldest trace", show=False),
        Binding("o", "toggle_order", "Order: newest or oldest first", show=False),
        Binding("x", "clear_filters", "Clear filters"),
        Binding("p", "toggle_replays", "Replays: left out, included, only", show=False),
        Binding("l", "toggle_live", "Live"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("C", "cleanup", "Clean up old traces…", show=False),
        Binding("i", "import_file", "Import OTLP/Jaeger/Zipkin file…", show=False),
        Binding("E", "export_list", "Export the filtered list as OTLP JSON…", show=False),
        Binding("w", "what_if", "What if… (backtest a pipelines folder)", show=False),
    ]

    @dataclass
    class PageLoaded(Message):
        """A page of rows for generation `generation`, read from the keyset position `after`:
        the first page (`after` None), the page below `after` (`older`) or the one above it;
        `page.next_cursor` goes on the same way (None: that end of the list is reached)."""

        generation: int
        after: Cursor | None
        older: bool
        page: Page
        deciders: dict[str, Decider]
        """The script that blocked (or failed in) each of the page's traces that has one."""

    @dataclass
    class Jumped(Message):
        """The rows at a typed time or at the oldest end, read in place of the loaded ones, with
        a position above them when newer traces lie there and the next page below."""

        generation: int
        rows: list[TraceRow]
        above: Cursor | None
        below: Cursor | None
        deciders: dict[str, Decider]
        at_end: bool
        """The rows are the far end of the list (the oldest traces newest first, the newest
        oldest first): the cursor goes to the last row."""

    @dataclass
    class SummaryLoaded(Message):
        """The count, plot points and trigger names for the current filters."""

        generation: int
        count: int
        plot: PlotData
        triggers: list[str]

    @dataclass
    class Polled(Message):
        """Live mode's fresh look at the loaded rows' place in the list (`page`, read again from
        where window `version` began, with room for new traces when it began at the top, and
        its rows' deciders) and the count, for `filters`, as the store was at `data_version` or
        later."""

        generation: int
        version: int
        count: int
        page: Page
        deciders: dict[str, Decider]
        filters: TraceFilter
        data_version: int | None

    @dataclass
    class LoadFailed(Message):
        """A query failed; the app offers `retry`, which repeats it (None: live mode's poll,
        which repeats by itself, is only reported in the status line)."""

        error: StoreError
        retry: Bound[[], object] | None

    @dataclass
    class TraceChosen(Message):
        """Open this trace's detail over the list."""

        trace_id: str

    @dataclass
    class ReconnectRequested(Message):
        """Try to open the store again (it failed to open)."""

    @dataclass
    class Imported(Message):
        """A file was imported."""

        report: ImportReport

    @dataclass
    class Exported(Message):
        """The filtered list was written to `path`."""

        path: str
        report: ExportReport

    @dataclass
    class ImportFailed(Message):
        """The file was refused (nothing of it stored), in one line."""

        title: str
        message: str

    @dataclass
    class ExportFailed(Message):
        """The export could not be written (an existing file is left as it was), in one line."""

        title: str
        message: str

    def __init__(self, store_url: str) -> None:
        super().__init__()
        self.store_url = store_url
        self.repo: Repository | None = None
        self.filters = FilterState()
        self.window = RowWindow(limit=0, keep=0, margin=PREFETCH_ROWS)
        """The loaded rows; its limit follows the app's page size, known once mounted."""
        self.count: int | None = None
        self.triggers: list[str] | None = None
        """Every trigger in the store; None until the first summary arrives."""
        self.generation = 0
        self.live = False
        self.oldest_first = False
        """The rows run oldest first (o toggles; live mode lists newest first)."""
        self.paging = False
        """A page above or below the loaded rows is being read."""
        self.unseen = 0
        """Live traces put on top while the cursor was further down, not yet scrolled to."""
        self.problem: str | None = None
        self._live_timer: Timer | None = None
        self._poll: Worker[None] | None = None
        self._last_read: tuple[int, TraceFilter] | None = None
        """The store's data version and the filters of the last poll that read rows: a poll
        with the same filters while the version stays skips its reads."""

    def compose(self) -> ComposeResult:
        """Filters on top, then the plot, the rows, the status line and the footer."""
        yield Static(id="filter-bar")
        plot = DurationPlot(id="plot")
        plot.border_title = PLOT_TITLE
        yield plot
        yield TraceTable(id="traces", cursor_type="row", zebra_stripes=True)
        yield Static(id="status-line")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show the shell at once; rows follow when the store is open."""
        page_size = app_data(self).page_size
        self.window.limit = max(WINDOW_PAGES * page_size, 2 * (PREFETCH_ROWS + page_size))
        self.window.keep = max(KEPT_PAGES * page_size, 2 * PREFETCH_ROWS)
        self.table.loading = True
        self._show_filters()
        self._show_status()

    def on_resize(self, event: events.Resize) -> None:
        """Give short terminals' rows to the traces rather than the plot, and fit the chips and
        the status."""
        self.set_class(TINY_ROWS <= event.size.height < SHORT_ROWS, "short")
        self.set_class(event.size.height < TINY_ROWS, "tiny")
        self._show_filters()
        self._show_status()

    @property
    def table(self) -> TraceTable:
        """The rows."""
        return self.query_one(TraceTable)

    @property
    def now(self) -> int:
        """The app's clock, so relative ranges and ages are testable."""
        return app_data(self).clock()

    # -- connection -------------------------------------------------------------------------

    def connect(self, repo: Repository) -> None:
        """The store is open: load the first page."""
        self.repo = repo
        self.store_url = repo.url
        self.window.position = repo.cursor_of
        self.reload()

    def reload(self) -> None:
        """Query again with the current filters; rows on screen stay until new ones arrive."""
        if self.repo is None:
            return
        self.generation += 1
        self.paging = False
        self.table.loading = True
        filters = self.filters.to_filter(self.now)
        self.load_page(self.repo, self.generation, filters, None)
        slices = self.query_one(DurationPlot).dot_columns
        self.load_summary(self.repo, self.generation, filters, slices)

    @property
    def rows(self) -> list[TraceRow]:
        """The loaded rows, newest first."""
        return self.window.rows

    # -- workers ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="list-page", exit_on_error=False)
    def load_page(
        self, repo: Repository, generation: int, filters: TraceFilter, after: Cursor | None
    ) -> None:
        """The first keyset page, or the one below `after`, off the UI thread."""
        size, oldest = app_data(self).page_size, self.oldest_first
        try:
            if after is None:
                page = first_page(repo, filters, size, oldest)
            else:
                page = page_below(repo, filters, after, size, oldest)
            found = deciders(repo, [row.id for row in page.rows])
        except StoreError as exc:
            retry = self.action_reload if after is None else self.action_load_more
            self.post_message(self.LoadFailed(exc, bound(self, retry)))
            return
        self.post_message(self.PageLoaded(generation, after, True, page, found))

    @work(thread=True, exclusive=True, group="list-page", exit_on_error=False)
    def load_newer_page(
        self, repo: Repository, generation: int, filters: TraceFilter, before: Cursor
    ) -> None:
        """The keyset page above `before` (newer traces, or older ones oldest first), off the UI
        thread; one trace more is read to learn whether more lie beyond it."""
        size = app_data(self).page_size
        try:
            page = page_above(repo, filters, before, size, self.oldest_first)
            found = deciders(repo, [row.id for row in page.rows])
        except StoreError as exc:
            self.post_message(self.LoadFailed(exc, bound(self, self.action_load_newer)))
            return
        self.post_message(self.PageLoaded(generation, before, False, page, found))

    @work(thread=True, exclusive=True, group="list-summary", exit_on_error=False)
    def load_summary(
        self, repo: Repository, generation: int, filters: TraceFilter, slices: int
    ) -> None:
        """The count, the plot (sampled per time slice if needed) and the triggers."""
        try:
            plot = plot_data(repo, filters, self.now, PLOT_POINTS, slices)
            count = repo.count_traces(filters)
            triggers = repo.distinct_triggers()
        except StoreError as exc:
            self.post_message(self.LoadFailed(exc, bound(self, self.action_reload)))
            return
        self.post_message(self.SummaryLoaded(generation, count, plot, triggers))

    @work(thread=True, exclusive=True, group="list-live", exit_on_error=False)
    def load_poll(
        self,
        repo: Repository,
        generation: int,
        version: int,
        filters: TraceFilter,
        above: Cursor | None,
        limit: int,
        since: int | None,
    ) -> None:
        """The count, and `limit` rows from where the loaded ones begin (live mode); nothing
        when the store's data version is still `since` (no commit since the last poll read)."""
        try:
            data_version = repo.data_version()
            if data_version is not None and data_version == since:
                return
            count = repo.count_traces(filters)
            page = repo.list_traces(filters, limit=limit, cursor=above)
            found = deciders(repo, [row.id for row in page.rows])
        except StoreError as exc:
            self.post_message(self.LoadFailed(exc, None))
            return
        self.post_message(
            self.Polled(generation, version, count, page, found, filters, data_version)
        )

    # -- results ----------------------------------------------------------------------------

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        self.paging = False
        self.problem = None
        window, page = self.window, message.page
        self.table.know_deciders(message.deciders)
        if message.after is None:
            self.table.loading = False
            self.unseen = 0
            window.start(page)
            self.table.show_rows(window.rows)
        elif message.older and message.after == window.below:
            if window.add_older(page, self.table.cursor_row):
                self.table.replace_rows(window.rows)
            else:
                self.table.append_rows(page.rows)
        elif not message.older and window.rows and message.after == window.position(window.rows[0]):
            window.add_newer(page, self.table.cursor_row)
            self.table.replace_rows(window.rows)
        self.table.newer_above = window.above is not None
        self._show_status()
        self._prefetch()

    @on(SummaryLoaded)
    def _summary_loaded(self, message: SummaryLoaded) -> None:
        if message.generation != self.generation:
            return
        self.count = message.count
        self.triggers = message.triggers
        for screen in self.app.screen_stack:
            if isinstance(screen, ChooseDialog) and screen.values is None:
                screen.fill(self.triggers)
        plot = self.query_one(DurationPlot)
        data = message.plot
        plot.show(data.plot.points, data.window, (data.older > 0, data.newer > 0))
        plot.border_title = plot_title(data)
        self._show_status()

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        window = self.window
        if message.generation != self.generation or message.version != window.version:
            return
        self.problem = None
        self.count = message.count
        self.table.know_deciders(message.deciders)
        if message.data_version is not None:
            self._last_read = (message.data_version, message.filters)
        follow = window.above is None and self.table.cursor_row == 0
        fresh = window.refresh(message.page, app_data(self).page_size)
        if window.version != message.version:
            self.table.replace_rows(window.rows)
            if follow:
                self.table.move_cursor(row=0)
                self.table.scroll_home(animate=False, immediate=True)
            else:
                self.unseen += fresh
        if not window.rows and window.above is not None:
            self.load_first_page()  # every row from there on was deleted
        self._show_status()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        # The message goes on to the app, which shows the error dialog.
        self.table.loading = False
        self.paging = False
        self.problem = message.error.message
        self._show_status()

    # -- paging -----------------------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The table's own cursor, not the event's: replacing rows posts a stale highlight of row 0.
        if self.window.above is None and self.table.cursor_row < self.unseen:
            self.unseen = self.table.cursor_row
            self._show_status()
        self._prefetch()

    def _prefetch(self) -> None:
        """Read the next page, or the one above, when the cursor nears that end of the rows."""
        if self.table.cursor_row >= len(self.rows) - PREFETCH_ROWS:
            self.action_load_more()
        if self.table.cursor_row < PREFETCH_ROWS:
            self.action_load_newer()

    def action_load_more(self) -> None:
        """Fetch the next page after the last loaded row, if there is one."""
        below = self.window.below
        if self.repo is None or below is None or self.paging:
            return
        self.paging = True
        self.load_page(self.repo, self.generation, self.filters.to_filter(self.now), below)

    def action_load_newer(self) -> None:
        """Fetch the page above the first loaded row, if newer traces were left out."""
        window = self.window
        if self.repo is None or window.above is None or not window.rows or self.paging:
            return
        self.paging = True
        first = window.position(window.rows[0])
        self.load_newer_page(self.repo, self.generation, self.filters.to_filter(self.now), first)

    @on(TraceTable.NewestWanted)
    def load_first_page(self) -> None:
        """Read the first page again, in place of the rows (home, with newer traces left out
        above them)."""
        if self.repo is None:
            return
        self.paging = True
        self.load_page(self.repo, self.generation, self.filters.to_filter(self.now), None)

    def action_toggle_order(self) -> None:
        """List the oldest traces first, or the newest again; live mode, which follows new
        traces on top, ends with the oldest-first order."""
        self.oldest_first = not self.oldest_first
        if self.oldest_first and self.live:
            self.action_toggle_live()
        self.reload()

    def action_go_to(self) -> None:
        """Ask for a time (or an end of the list) and show the traces started then."""
        self.app.push_screen(GoToDialog(self.now), bound(self, self.go_to))

    def action_go_oldest(self) -> None:
        """Show the oldest traces (one keyset read, not every page in between)."""
        if self.oldest_first:
            self.load_first_page()
        else:
            self.go_to(GoTo(end="oldest"))

    def go_to(self, where: GoTo | None) -> None:
        """Read the rows at a typed time or at an end of the list, in place of these (the end
        the list starts with is its first page; the other is read at once, not page by
        page)."""
        if where is None or self.repo is None:
            return
        if where.end == ("oldest" if self.oldest_first else "newest"):
            self.load_first_page()
            return
        self.paging = True
        filters = self.filters.to_filter(self.now)
        self.load_jump(self.repo, self.generation, filters, where.at)

    @work(thread=True, exclusive=True, group="list-page", exit_on_error=False)
    def load_jump(
        self, repo: Repository, generation: int, filters: TraceFilter, at: int | None
    ) -> None:
        """The page at `at` in the list's order (None: the oldest end) and whether traces lie
        above it, off the UI thread; the oldest end when none started then."""
        size = app_data(self).page_size
        try:
            rows, above, below, at_end = page_at(repo, filters, at, size, self.oldest_first)
            found = deciders(repo, [row.id for row in rows])
        except StoreError as exc:
            self.post_message(self.LoadFailed(exc, bound(self, self.action_reload)))
            return
        self.post_message(self.Jumped(generation, rows, above, below, found, at_end))

    @on(Jumped)
    def _jumped(self, message: Jumped) -> None:
        if message.generation != self.generation:
            return
        self.paging = False
        self.problem = None
        self.unseen = 0
        self.table.know_deciders(message.deciders)
        self.window.jump(message.rows, message.above, message.below)
        self.table.show_rows(self.window.rows)
        if message.at_end and self.window.rows:
            self.table.move_cursor(row=len(self.window.rows) - 1)
        self.table.newer_above = self.window.above is not None
        self._show_status()

    # -- live mode --------------------------------------------------------------------------

    def action_toggle_live(self) -> None:
        """Poll for changes: new traces on top (followed from the first row, else counted),
        deleted ones gone, and the count as the store has it; the list goes back to newest
        first."""
        self.live = not self.live
        if self.live and self.oldest_first:
            self.oldest_first = False
            self.reload()
        if self.live:
            interval = app_data(self).poll_interval
            self._live_timer = self.set_interval(interval, bound(self, self.action_poll))
        elif self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        self._show_status()

    def action_poll(self) -> None:
        """Read the count and the loaded rows' place in the list again, once; from the top,
        with room for a page of new traces. Where the store tells (SQLite), a poll reads
        nothing more while no commit happened since the last one that read, its filters the
        same (a relative time range moves, so it reads every time) and no error shown."""
        busy = self._poll is not None and not self._poll.is_finished
        if self.repo is None or self.table.loading or self.paging or busy:
            return
        window = self.window
        limit = window.reread_limit(app_data(self).page_size)
        filters = self.filters.to_filter(self.now)
        last = self._last_read
        since = last[0] if last is not None and last[1] == filters and not self.problem else None
        self._poll = self.load_poll(
            self.repo, self.generation, window.version, filters, window.above, limit, since
        )

    # -- filters ----------------------------------------------------------------------------

    def set_filters(self, filters: FilterState) -> None:
        """Apply new filters and reload."""
        if filters != self.filters:
            self.filters = filters
            self._show_filters()
            self.reload()

    def action_clear_filter(self, field: str) -> None:
        """Drop one filter (the chips in the filter bar link here)."""
        self.set_filters(self.filters.cleared(field))

    def action_clear_filters(self) -> None:
        """Drop every filter."""
        self.set_filters(FilterState())

    def action_toggle_replays(self) -> None:
        """Replays are left out; bring them in, then show only them, then leave them out."""
        self.set_filters(replace(self.filters, replays=NEXT_REPLAYS[self.filters.replays]))

    def action_filter_trigger(self) -> None:
        """Choose any of the triggers in the store (the dialog fills once they are loaded)."""
        choose(
            self,
            "Triggers",
            self.triggers,
            self.filters.triggers,
            lambda values: self.set_filters(replace(self.filters, triggers=values)),
        )

    def action_filter_status(self) -> None:
        """Choose any of the statuses (blocked and error together: every failure)."""
        choose(
            self,
            "Statuses",
            list(STATUSES),
            self.filters.statuses,
            lambda values: self.set_filters(replace(self.filters, statuses=values)),
        )

    def action_filter_range(self) -> None:
        """Choose a time range: a preset or a custom from/to."""
        self.app.push_screen(RangeDialog(self.filters, self.now), bound(self, self._apply_dialog))

    def action_filter_duration(self) -> None:
        """Set a minimum and maximum duration."""
        self.app.push_screen(DurationDialog(self.filters), bound(self, self._apply_dialog))

    def action_filter_text(self) -> None:
        """Search trace id, user, IP, message and input."""
        self.app.push_screen(SearchDialog(self.filters), bound(self, self._apply_dialog))

    def action_filter_script(self) -> None:
        """Traces where a script ran, ended so, or ran a version (span-level filters)."""
        self.app.push_screen(ScriptDialog(self.filters), bound(self, self._apply_dialog))

    def action_filter_who(self) -> None:
        """Type an exact user id and an IP address or IPv4 network."""
        self.app.push_screen(WhoDialog(self.filters), bound(self, self._apply_dialog))

    def _apply_dialog(self, result: FilterState | None) -> None:
        if result is not None:
            self.set_filters(result)

    # -- navigation -------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_trace(str(event.row_key.value))

    def open_trace(self, trace_id: str) -> None:
        """Show one trace's detail; Escape comes back to this list unchanged."""
        self.post_message(self.TraceChosen(trace_id))

    def action_reload(self) -> None:
        """Reload the first page, count and plot (or try to open the store again)."""
        if self.repo is None:
            self.post_message(self.ReconnectRequested())
        else:
            self.reload()

    # -- cleanup and import -----------------------------------------------------------------

    def action_cleanup(self) -> None:
        """Delete traces older than an age, after a preview; the list reloads afterwards."""
        if self.repo is None:
            self.notify("not connected to a store yet", severity="warning")
            return
        dialog = CleanupDialog(self.repo, self.now)
        self.app.push_screen(dialog, bound(self, lambda _: self.reload()))

    def action_import_file(self) -> None:
        """Ask for a trace file and import it into the store."""
        if self.repo is None:
            self.notify("not connected to a store yet", severity="warning")
            return
        dialog = PathDialog(
            "Import OTLP/Jaeger/Zipkin file",
            "OTLP JSON (a document or JSON lines), Jaeger JSON or Zipkin JSON (v2 or v1); "
            "spans of stored traces are merged into them",
            ok="Import",
        )
        repo = self.repo

        def chosen(path: str | None) -> None:
            if path:
                self.import_path(repo, path)

        self.app.push_screen(dialog, bound(self, chosen))

    @work(thread=True, exclusive=True, group="list-import", exit_on_error=False)
    def import_path(self, repo: Repository, path: str) -> None:
        """Read and store the file off the UI thread (one transaction), once the store has the
        additive revisions imports need (the viewer opened it as it was)."""
        try:
            repo.apply_additive_revisions()
            report = import_file(repo, path)
        except (InteropError, StoreError) as exc:
            self.post_message(self.ImportFailed(exc.title, str(exc)))
            return
        self.post_message(self.Imported(report))

    @on(Imported)
    def _imported(self, message: Imported) -> None:
        report = message.report
        self.notify(f"{report.path} ({report.format}): {import_summary(report)}", markup=False)
        self.reload()

    def action_export_list(self) -> None:
        """Ask for a file name and write every trace the filters match there as OTLP JSON."""
        if self.repo is None:
            self.notify("not connected to a store yet", severity="warning")
            return
        repo, filters = self.repo, self.filters.to_filter(self.now)
        dialog = PathDialog(
            "Export the filtered list as OTLP JSON",
            f"every trace the filters match ({self._matching()}); one TracesData object per "
            "line; asks before replacing a file",
            suggested_export_path(None),
            ok="Export",
            confirm_overwrite=True,
        )

        def chosen(path: str | None) -> None:
            if path:
                self.export_list(repo, filters, path)

        self.app.push_screen(dialog, bound(self, chosen))

    def _matching(self) -> str:
        """How many traces match, as the status line counts them."""
        if self.count is None or self.repo is None:
            return "counting"
        return f"{count_figure(self.count, self.repo.count_cap, grouped=True)} now"

    @work(thread=True, exclusive=True, group="list-export", exit_on_error=False)
    def export_list(self, repo: Repository, filters: TraceFilter, path: str) -> None:
        """Write the file off the UI thread, a page of traces at a time."""
        try:
            report = write_export(repo, filters, path)
        except (InteropError, StoreError) as exc:
            self.post_message(self.ExportFailed(exc.title, exc.message))
            return
        self.post_message(self.Exported(path, report))

    @on(Exported)
    def _exported(self, message: Exported) -> None:
        report = message.report
        self.notify(
            f"wrote {counted(report.traces, 'trace')}, {counted(report.spans, 'span')} "
            f"to {message.path}",
            markup=False,
        )

    @on(ImportFailed)
    @on(ExportFailed)
    def _file_failed(self, message: ImportFailed | ExportFailed) -> None:
        self.notify(
            message.message, title=message.title, severity="error", timeout=10, markup=False
        )

    # -- what if ----------------------------------------------------------------------------

    def action_what_if(self) -> None:
        """Ask for a candidate pipelines folder and replay the traces these filters match
        through it, as `pipetrace backtest` does; nothing is stored."""
        if self.repo is None:
            self.notify("not connected to a store yet", severity="warning")
            return
        pipelines = app_data(self).pipelines_dir
        dialog = PathDialog(
            "What if…",
            "a candidate pipelines folder (pipetrace pipelines init DIR copies the bundled "
            "set): the traces this list's filters match are replayed through it, storing "
            "nothing",
            str(pipelines) if pipelines else "",
            ok="Backtest",
            placeholder="path to a pipelines folder",
        )
        repo, filters = self.repo, self.filters
        described = " · ".join(label for _, label in filters.chips()) or "every trace"

        def chosen(path: str | None) -> None:
            if path:
                screen = WhatIfScreen(
                    repo, filters.to_filter(self.now), described, Path(path).expanduser()
                )
                self.app.push_screen(screen)

        self.app.push_screen(dialog, bound(self, chosen))

    # -- display ----------------------------------------------------------------------------

    def show_times(self) -> None:
        """Show the rows', the plot's and the chips' times in the zone now chosen."""
        self.table.show_times()
        self.query_one(DurationPlot).refresh()
        self._show_filters()

    def _show_filters(self) -> None:
        """The filter chips, wrapped onto as many lines as they need (a chip is never split
        or left out), then "x clears all"."""
        chips = self.filters.chips(local=app_data(self).local_time)
        if not chips:
            text = "[dim]no filters · t trigger · s status · r time · d duration · / search[/]"
        else:
            labels = [shown(label) for _, label in chips]
            pieces = [
                (f"[reverse] $chip{n} [@click=screen.clear_filter('{field}')]✕[/] [/]",
                 cell_len(labels[n]) + 4)
                for n, (field, _) in enumerate(chips)
            ]  # fmt: skip
            pieces.append(("[dim]x clears all[/]", 12))
            text = "\n".join(
                "  ".join(markup for markup, _ in line)
                for line in wrapped(pieces, self.app.size.width - STATUS_PADDING)
            )
        values = {f"chip{n}": shown(label) for n, (_, label) in enumerate(chips)}
        self.query_one("#filter-bar", Static).update(Content.from_markup(text, **values))

    def _show_status(self) -> None:
        parts = []
        if self.repo is None:
            parts.append("not connected" if self.problem else "connecting…")
        elif self.count is None:
            parts.append("counting…")
        else:
            matching = plural(self.count, "matching trace")
            figure = count_figure(self.count, self.repo.count_cap, grouped=True)
            parts.append(f"[b]{figure}[/b] {matching} · {len(self.rows):,} loaded")
        parts.append("$url")
        stats = app_data(self).writer_stats_text()
        if stats:
            parts.append(f"[yellow]{stats}[/]")
        if self.oldest_first:
            parts.append("[b]↑ oldest first[/] [dim](o)[/]")
        if self.live:
            parts.append("[b green]● LIVE[/]")
        if self.unseen:
            parts.append(f"[b yellow]↑ {self.unseen:,} new[/] [dim](home)[/]")
        # The URL is fitted beside the other parts; a problem comes last and is cut if need be.
        others = Content.from_markup(" · ".join(parts), url="").cell_length
        room = self.app.size.width - STATUS_PADDING - others
        url = shorten_left(shown(self.store_url), max(MIN_URL, room))
        if self.problem:
            parts.append("[b red]$problem[/] [dim](ctrl+r retries)[/]")
        line = Content.from_markup(" · ".join(parts), url=url, problem=shown(self.problem))
        self.query_one("#status-line", Static).update(line)

    def refresh_status(self) -> None:
        """Redraw the status line (the app calls this when writer counters change)."""
        self._show_status()
