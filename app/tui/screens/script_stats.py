"""Script stats: per trigger, script and version, how runs ended, how long they took and when
they failed, for the list's filters; Enter opens the list filtered to the row's runs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from pipetrace.store import Repository, StoreError
from pipetrace.store.duration_buckets import RELATIVE_ERROR
from pipetrace.store.stats_models import StatsReport, StatsRow

from ...stats_rows import (
    DEFAULT_SORT,
    ShownRow,
    bar_chart,
    ordered,
    rate_text,
    single_version,
    sparkline,
    window_text,
)
from ...timeparse import format_duration, format_ns
from ...untrusted import shown, shown_text
from ..app_data import app_data
from ..filter_state import FilterState
from ..lifetime import Bound, bound
from ..widgets.footer import KeyFooter
from ..worker_errors import ShowsWorkerBugs

CHART_COLUMNS = 30
VERSION_SHOWN = 8
"""Digits of a version beside a script's name (its own row shows twelve)."""
CHART_HEIGHT = 3
INDENT = "  "
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("trigger / script  version", "name", 30),
    ("runs", "runs", 6),
    ("errors", "failures", 12),
    ("blocked", "blocked", 12),
    ("skipped", "skipped", 12),
    ("limit hits", "limits", 11),
    ("p50", "p50", 6),
    ("p95", "p95", 6),
    ("p99", "p99", 6),
)
"""(heading, what it sorts by, width): a count and its share of the runs share a column; the
errors sparkline follows in the room left (the chart under the table shows it larger)."""
SORT_ORDER = (
    "failures",
    "error-rate",
    "blocked",
    "blocked-rate",
    "skipped",
    "skipped-rate",
    "limits",
    "limit-rate",
    "runs",
    "p50",
    "p95",
    "p99",
    "name",
)
STATUS_OF_SORT = {
    "blocked": "blocked",
    "blocked-rate": "blocked",
    "skipped": "skipped",
    "skipped-rate": "skipped",
}
"""The runs Enter lists when the table is sorted so; errors otherwise."""


class StatsTable(DataTable[Text | str], inherit_bindings=False):
    """The stats rows: the cursor keys move, and Enter is the screen's (list the row's runs),
    so the footer and help always show it."""

    BINDINGS = [
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]


class ScriptStatsScreen(ShowsWorkerBugs, Screen[None]):
    """Loads the stats in a worker; the highlighted row's errors are charted under the table."""

    HELP_TITLE = "script stats"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open_runs", "List these runs"),
        Binding("o", "sort(1)", "Sort by the next column"),
        Binding("O", "sort(-1)", "Sort by the previous column", show=False),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    @dataclass
    class Loaded(Message):
        """The stats for the screen's filters."""

        report: StatsReport

    @dataclass
    class LoadFailed(Message):
        """Loading failed; the app offers `retry`, which loads again."""

        error: StoreError
        retry: Bound[[], object]

    @dataclass
    class ListRequested(Message):
        """Close every screen over the trace list and show it with `filters`."""

        filters: FilterState

    def __init__(self, repo: Repository, filters: FilterState) -> None:
        super().__init__()
        self.repo = repo
        self.filters = filters
        self.sort = DEFAULT_SORT
        self.report: StatsReport | None = None
        self.lines: list[ShownRow] = []

    def compose(self) -> ComposeResult:
        """A header line, the table, the highlighted row's chart and the footer."""
        yield Static("loading the script stats…", id="stats-header")
        yield StatsTable(id="stats-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="stats-chart")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Lay out the columns and load."""
        table = self.table
        for heading, _sort, width in COLUMNS:
            table.add_column(heading, width=width, key=heading)
        table.add_column("errors over time", key="chart")
        table.focus()
        self.action_reload()

    @property
    def table(self) -> DataTable[Text | str]:
        """The rows."""
        return self.query_one("#stats-table", DataTable)

    def action_reload(self) -> None:
        """Read the stats again."""
        self.table.loading = True
        self.load(self.repo, self.filters)

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def load(self, repo: Repository, filters: FilterState) -> None:
        """The stats, off the UI thread."""
        try:
            report = repo.script_stats(filters.to_filter(app_data(self).clock()), CHART_COLUMNS)
        except StoreError as exc:
            self.post_message(self.LoadFailed(exc, bound(self, self.action_reload)))
            return
        self.post_message(self.Loaded(report))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.report = message.report
        self.table.loading = False
        self._fill()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        # The message goes on to the app, which shows the error dialog.
        self.table.loading = False
        self.query_one("#stats-header", Static).update(shown(message.error.message))

    def _fill(self) -> None:
        """The rows in the current order, the cursor kept on the same row where it can be."""
        report = self.report
        if report is None:
            return
        table = self.table
        kept = self.lines[table.cursor_row] if self.lines and table.row_count else None
        self.lines = ordered(report, self.sort)
        table.clear()
        for n, line in enumerate(self.lines):
            table.add_row(*_cells(line), key=str(n))
        if kept is not None:
            same = [n for n, line in enumerate(self.lines) if line.row is kept.row]
            if same:
                table.move_cursor(row=same[0])
        source = "rollups" if report.from_rollups else "script runs"
        header = (
            f"{window_text(report, local=self.local)} (whole hours) · by {self.sort} · "
            f"from the {source} · "
            f"durations ±{RELATIVE_ERROR:.0%}"
        )
        if not self.lines:
            header += " · no script runs match the filters"
        self.query_one("#stats-header", Static).update(header)
        self._chart()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._chart()

    def _chart(self) -> None:
        """The highlighted row's errors over the window, with its first and last times."""
        report, chart = self.report, self.query_one("#stats-chart", Static)
        if report is None or not self.lines or not report.column_edges:
            chart.update("")
            return
        line = self.lines[min(self.table.cursor_row, len(self.lines) - 1)]
        counts = line.row.failures_over_time
        width = max(1, (chart.size.width - 2) // max(1, len(counts)))
        bars = bar_chart(counts, CHART_HEIGHT, width=width)
        start, end = (format_ns(report.column_edges[i], local=self.local)[:16] for i in (0, -1))
        axis = f"{start}  {end.rjust(max(0, len(bars[0]) - len(start) - 2))}"
        text = Text(f"errors of {line.label}: {sum(counts):,} over the window\n")
        text.append("\n".join(bars), style="red")
        text.append("\n" + axis, style="dim")
        chart.update(text)

    @property
    def local(self) -> bool:
        """Whether times show in local time (the app's z)."""
        return app_data(self).local_time

    def show_times(self) -> None:
        """Show the window and the chart's times in the zone now chosen."""
        self._fill()

    def action_sort(self, step: int) -> None:
        """Sort by the next (or previous) column."""
        at = SORT_ORDER.index(self.sort) if self.sort in SORT_ORDER else 0
        self.sort = SORT_ORDER[(at + step) % len(SORT_ORDER)]
        self._fill()

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        sorts = {heading: sort for heading, sort, _width in COLUMNS}
        self.sort = sorts.get(str(event.column_key.value), "failures")
        self._fill()

    @on(DataTable.RowSelected)
    def _row_selected(self, _event: DataTable.RowSelected) -> None:
        """A click on a row lists its runs, as Enter does."""
        self.action_open_runs()

    def action_open_runs(self) -> None:
        """The list filtered to the highlighted row: a script's runs that ended as the table is
        sorted (errors unless by blocked or skipped), a version's runs, a trigger's traces."""
        if not self.lines:
            return
        line = self.lines[self.table.cursor_row]
        self.post_message(self.ListRequested(runs_filter(self.filters, line, self.sort)))

    def action_back(self) -> None:
        """Back to the screen below."""
        self.dismiss()


def runs_filter(filters: FilterState, line: ShownRow, sort: str) -> FilterState:
    """The list's filters narrowed to what a stats row counts."""
    row: StatsRow = line.row
    status = STATUS_OF_SORT.get(sort, "error")
    narrowed = replace(filters, triggers=(row.trigger,))
    if row.script is None:
        trace_status = "blocked" if status == "blocked" else "error"
        return replace(narrowed, statuses=(trace_status,))
    if line.depth == 2:
        versions = (row.version,) if row.version else ()
        return replace(
            narrowed, scripts=(row.script,), script_statuses=(), script_versions=versions
        )
    return replace(narrowed, scripts=(row.script,), script_statuses=(status,), script_versions=())


def _cells(line: ShownRow) -> list[Text | str]:
    """One table row: the name indented by depth (with its one version, short), each count with
    its share of the runs, the percentiles and the errors sparkline."""
    row, tally = line.row, line.row.tally
    name = shown_text(INDENT * line.depth + line.label, "bold" if line.depth == 0 else "")
    if row.script is None and line.depth == 0:
        name.append(" (traces)", style="dim")
    if line.depth < 2:
        name.append_text(shown_text(f" {single_version(row)[:VERSION_SHOWN]}", "dim"))
    errors = tally.failures
    return [
        name,
        f"{tally.runs:,}",
        _share(errors, tally.rate(errors), "red"),
        _share(tally.count("blocked"), tally.rate(tally.count("blocked")), "yellow"),
        _share(tally.count("skipped"), tally.skipped_rate, ""),
        _share(tally.limits, tally.rate(tally.limits), "red"),
        format_duration(row.percentile(0.5)),
        format_duration(row.percentile(0.95)),
        format_duration(row.percentile(0.99)),
        Text(sparkline(row.failures_over_time), style="red"),
    ]


def _share(count: int, rate: float | None, colour: str) -> Text:
    """A count and its share of the runs, coloured when there are any."""
    text = Text(f"{count:,}", style=colour if count else "")
    text.append(f" {rate_text(rate)}", style="dim")
    return text
