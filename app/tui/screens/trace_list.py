"""The trace list: filters, the duration plot, keyset-paged rows, live mode and a status line."""

from __future__ import annotations

from collections.abc import Callable
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
from textual.widgets import DataTable, Footer, Static

from pipetrace.store import Cursor, Repository, StoreError, TraceFilter, TraceRow
from pipetrace.store.interop import ImportReport, InteropError, import_file

from ...import_report import import_summary
from ...untrusted import shown
from ...wording import count_figure, plural
from ..app_data import app_data
from ..filter_state import NEXT_REPLAYS, STATUSES, FilterState
from ..plot_range import PlotData, plot_data
from ..widgets.duration_plot import DurationPlot
from ..widgets.trace_table import TraceTable
from ..worker_errors import ShowsWorkerBugs
from .cleanup_dialog import CleanupDialog
from .filter_dialogs import ChooseDialog, DurationDialog, RangeDialog, SearchDialog, choose
from .path_dialog import PathDialog
from .what_if import WhatIfScreen

PREFETCH_ROWS = 30
SHORT_ROWS, TINY_ROWS = 30, 20
"""Below these terminal heights the plot shrinks, then hides, leaving the rows to traces."""
PLOT_POINTS = 4000
STATUS_PADDING = 2
"""The status line's padding, one cell either side."""
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
        Binding("x", "clear_filters", "Clear filters"),
        Binding("p", "toggle_replays", "Replays: left out, included, only", show=False),
        Binding("l", "toggle_live", "Live"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("C", "cleanup", "Clean up old traces…", show=False),
        Binding("i", "import_file", "Import OTLP/Jaeger/Zipkin file…", show=False),
        Binding("w", "what_if", "What if… (backtest a pipelines folder)", show=False),
    ]

    @dataclass
    class PageLoaded(Message):
        """A page of rows for generation `generation`; `append` for the next page."""

        generation: int
        rows: list[TraceRow]
        next_cursor: Cursor | None
        append: bool

    @dataclass
    class SummaryLoaded(Message):
        """The count, plot points and trigger names for the current filters."""

        generation: int
        count: int
        plot: PlotData
        triggers: list[str]

    @dataclass
    class NewerLoaded(Message):
        """Traces that arrived since the top row (live mode)."""

        generation: int
        rows: list[TraceRow]

    @dataclass
    class LoadFailed(Message):
        """A query failed; the app offers `retry`, which repeats it (None: live mode's poll,
        which repeats by itself, is only reported in the status line)."""

        error: StoreError
        retry: Callable[[], object] | None

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
    class ImportFailed(Message):
        """The file was refused (nothing of it stored), in one line."""

        title: str
        message: str

    def __init__(self, store_url: str) -> None:
        super().__init__()
        self.store_url = store_url
        self.repo: Repository | None = None
        self.filters = FilterState()
        self.rows: list[TraceRow] = []
        self.next_cursor: Cursor | None = None
        self.count: int | None = None
        self.triggers: list[str] | None = None
        """Every trigger in the store; None until the first summary arrives."""
        self.generation = 0
        self.live = False
        self.loading_more = False
        self.unseen = 0
        """Live traces put on top while the cursor was further down, not yet scrolled to."""
        self.problem: str | None = None
        self._live_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """Filters on top, then the plot, the rows, the status line and the footer."""
        yield Static(id="filter-bar")
        plot = DurationPlot(id="plot")
        plot.border_title = PLOT_TITLE
        yield plot
        yield TraceTable(id="traces", cursor_type="row", zebra_stripes=True)
        yield Static(id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        """Show the shell at once; rows follow when the store is open."""
        self.table.loading = True
        self._show_filters()
        self._show_status()

    def on_resize(self, event: events.Resize) -> None:
        """Give short terminals' rows to the traces rather than the plot, and fit the status."""
        self.set_class(TINY_ROWS <= event.size.height < SHORT_ROWS, "short")
        self.set_class(event.size.height < TINY_ROWS, "tiny")
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
        self.reload()

    def reload(self) -> None:
        """Query again with the current filters; rows on screen stay until new ones arrive."""
        if self.repo is None:
            return
        self.generation += 1
        self.table.loading = True
        filters = self.filters.to_filter(self.now)
        self.load_page(self.repo, self.generation, filters, None, False)
        slices = self.query_one(DurationPlot).dot_columns
        self.load_summary(self.repo, self.generation, filters, slices)

    # -- workers ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="list-page", exit_on_error=False)
    def load_page(
        self,
        repo: Repository,
        generation: int,
        filters: TraceFilter,
        cursor: Cursor | None,
        append: bool,
    ) -> None:
        """One keyset page, off the UI thread."""
        try:
            page = repo.list_traces(filters, limit=app_data(self).page_size, cursor=cursor)
        except StoreError as exc:
            retry = self.action_load_more if append else self.action_reload
            self.post_message(self.LoadFailed(exc, retry))
            return
        self.post_message(self.PageLoaded(generation, page.rows, page.next_cursor, append))

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
            self.post_message(self.LoadFailed(exc, self.action_reload))
            return
        self.post_message(self.SummaryLoaded(generation, count, plot, triggers))

    @work(thread=True, exclusive=True, group="list-live", exit_on_error=False)
    def load_newer(
        self, repo: Repository, generation: int, filters: TraceFilter, top: Cursor
    ) -> None:
        """Traces newer than the top row, for live mode."""
        try:
            rows = repo.list_newer(filters, top)
        except StoreError as exc:
            self.post_message(self.LoadFailed(exc, None))
            return
        self.post_message(self.NewerLoaded(generation, rows))

    # -- results ----------------------------------------------------------------------------

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        self.problem = None
        self.table.loading = False
        self.next_cursor = message.next_cursor
        self.loading_more = False
        if message.append:
            self.rows += message.rows
            self.table.append_rows(message.rows)
        else:
            self.rows = list(message.rows)
            self.unseen = 0
            self.table.show_rows(self.rows)
        self._show_status()

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

    @on(NewerLoaded)
    def _newer_loaded(self, message: NewerLoaded) -> None:
        if message.generation != self.generation or not message.rows:
            return
        known = {r.id for r in self.rows}
        fresh = [r for r in message.rows if r.id not in known]
        if not fresh:
            return
        follow = self.table.cursor_row == 0
        self.rows = fresh + self.rows
        if self.count is not None:
            self.count += len(fresh)
        self.table.replace_rows(self.rows)
        if follow:
            self.table.move_cursor(row=0)
            self.table.scroll_home(animate=False, immediate=True)
        else:
            self.unseen += len(fresh)
        self._show_status()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        # The message goes on to the app, which shows the error dialog.
        self.table.loading = False
        self.loading_more = False
        self.problem = message.error.message
        self._show_status()

    # -- paging -----------------------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The table's own cursor, not the event's: replacing rows posts a stale highlight of row 0.
        if self.table.cursor_row < self.unseen:
            self.unseen = self.table.cursor_row
            self._show_status()
        if event.cursor_row >= len(self.rows) - PREFETCH_ROWS:
            self.action_load_more()

    def action_load_more(self) -> None:
        """Fetch the next page after the last loaded row, if there is one."""
        if self.repo is None or self.next_cursor is None or self.loading_more:
            return
        self.loading_more = True
        filters = self.filters.to_filter(self.now)
        self.load_page(self.repo, self.generation, filters, self.next_cursor, True)

    # -- live mode --------------------------------------------------------------------------

    def action_toggle_live(self) -> None:
        """Poll for new traces: from the first row the view follows them, else they are counted."""
        self.live = not self.live
        if self.live:
            interval = app_data(self).poll_interval
            self._live_timer = self.set_interval(interval, self.action_poll)
        elif self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        self._show_status()

    def action_poll(self) -> None:
        """Ask for traces newer than the top row once."""
        if self.repo is None or self.table.loading:
            return
        filters = self.filters.to_filter(self.now)
        top = self.repo.cursor_of(self.rows[0]) if self.rows else Cursor(-1, "")
        self.load_newer(self.repo, self.generation, filters, top)

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
        self.app.push_screen(RangeDialog(self.filters, self.now), self._apply_dialog)

    def action_filter_duration(self) -> None:
        """Set a minimum and maximum duration."""
        self.app.push_screen(DurationDialog(self.filters), self._apply_dialog)

    def action_filter_text(self) -> None:
        """Search trace id, user, IP, message and input."""
        self.app.push_screen(SearchDialog(self.filters), self._apply_dialog)

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
        self.app.push_screen(CleanupDialog(self.repo, self.now), lambda _: self.reload())

    def action_import_file(self) -> None:
        """Ask for a trace file and import it into the store."""
        if self.repo is None:
            self.notify("not connected to a store yet", severity="warning")
            return
        dialog = PathDialog(
            "Import OTLP/Jaeger/Zipkin file",
            "OTLP JSON (a document or JSON lines), Jaeger JSON or Zipkin v2 JSON; "
            "spans of stored traces are merged into them",
            ok="Import",
        )
        repo = self.repo

        def chosen(path: str | None) -> None:
            if path:
                self.import_path(repo, path)

        self.app.push_screen(dialog, chosen)

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

    @on(ImportFailed)
    def _import_failed(self, message: ImportFailed) -> None:
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

        self.app.push_screen(dialog, chosen)

    # -- display ----------------------------------------------------------------------------

    def _show_filters(self) -> None:
        chips = self.filters.chips()
        if not chips:
            text = "[dim]no filters · t trigger · s status · r time · d duration · / search[/]"
        else:
            text = (
                "  ".join(
                    f"[reverse] $chip{n} [@click=screen.clear_filter('{field}')]✕[/] [/]"
                    for n, (field, _) in enumerate(chips)
                )
                + "  [dim]x clears all[/]"
            )
        labels = {f"chip{n}": shown(label) for n, (_, label) in enumerate(chips)}
        self.query_one("#filter-bar", Static).update(Content.from_markup(text, **labels))

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
