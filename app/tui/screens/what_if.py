"""What if…: the list's traces replayed through a candidate pipelines folder, as `pipetrace
backtest` does, in a worker with progress and a cancel that stops the worker processes; then the
report, whose flip classes open the traces that landed in them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, ProgressBar, Static

from pipetrace.errors import PipetraceError
from pipetrace.store import Repository, TraceFilter

from ...backtest.labels import DECISION_LABELS
from ...backtest.report import BacktestReport, FlipClass
from ...backtest.run import run_backtest
from ...untrusted import shown
from ..child_processes import start_resource_tracker
from ..widgets.backtest_report import decision_rows, report_details, summary_line
from ..widgets.footer import KeyFooter
from ..worker_errors import ShowsWorkerBugs
from .flip_traces import FlipTracesScreen


class WhatIfScreen(ShowsWorkerBugs, Screen[None]):
    """Runs the backtest when it opens (or shows a `report` already made); escape cancels a
    running one, keeping the partial report, and closes a finished one."""

    HELP_TITLE = "what if"

    BINDINGS = [
        Binding("escape", "back", "Cancel / back"),
        Binding("enter", "open_class", "Traces of this class", show=False),
    ]

    @dataclass
    class Progressed(Message):
        """Traces done so far, of how many matched; a newer one replaces any not yet shown."""

        done: int
        total: int | None

        def can_replace(self, message: Message) -> bool:
            """Only the latest count matters, so a slow screen never falls behind."""
            return isinstance(message, WhatIfScreen.Progressed)

    @dataclass
    class Finished(Message):
        """The backtest ended, whole or cancelled."""

        report: BacktestReport

    @dataclass
    class Failed(Message):
        """The backtest could not run: a title and one line saying why."""

        title: str
        message: str

    def __init__(
        self,
        repo: Repository,
        filters: TraceFilter,
        described: str,
        folder: Path,
        report: BacktestReport | None = None,
    ) -> None:
        super().__init__()
        self.repo = repo
        self.filters = filters
        self.described = described
        self.folder = folder
        self.report = report
        self.cancel = threading.Event()
        self.classes_shown: list[FlipClass] = []

    def compose(self) -> ComposeResult:
        """Title, progress, the flip classes, the rest of the report, and the footer."""
        yield Static(id="whatif-title")
        yield ProgressBar(id="whatif-progress", show_eta=False)
        yield Static(id="whatif-status")
        yield DataTable(id="flip-classes", cursor_type="row", zebra_stripes=False)
        with VerticalScroll(id="whatif-body"):
            yield Static(id="whatif-details")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show a given report at once, or start the backtest."""
        self.query_one("#whatif-title", Static).update(
            Content.from_markup(
                "[b]What if[/b] [cyan]$folder[/] had run on [b]$traces[/b]",
                folder=shown(self.folder),
                traces=shown(self.described),
            )
        )
        table = self.query_one("#flip-classes", DataTable)
        table.add_columns("decision", "traces", "e.g. (enter opens them)")
        if self.report is not None:
            self._show(self.report)
            return
        self._status("starting the workers…")
        self.backtest(self.repo, self.filters, self.folder)

    @work(thread=True, exclusive=True, group="what-if", exit_on_error=False)
    def backtest(self, repo: Repository, filters: TraceFilter, folder: Path) -> None:
        """Run the backtest off the UI thread; every failure a user can act on is a message."""
        start_resource_tracker()
        try:
            report = run_backtest(
                repo,
                filters,
                folder,
                on_progress=self._report_progress,
                cancel=self.cancel,
            )
        except PipetraceError as exc:
            self.post_message(self.Failed(exc.title, (exc.message.splitlines() or [""])[0]))
            return
        self.post_message(self.Finished(report))

    def _report_progress(self, done: int, total: int | None) -> None:
        """From the worker thread: post the count (posting is thread-safe)."""
        self.post_message(self.Progressed(done, total))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        if self.cancel.is_set():
            return
        self.query_one(ProgressBar).update(total=message.total, progress=message.done)
        total = "?" if message.total is None else f"{message.total:,}"
        self._status(f"replaying: {message.done:,} of {total} traces · escape cancels")

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self._show(message.report)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.app.notify(
            message.message, title=message.title, severity="error", timeout=10, markup=False
        )
        self.dismiss()

    def _status(self, text: str) -> None:
        self.query_one("#whatif-status", Static).update(Content(text))

    def _show(self, report: BacktestReport) -> None:
        self.report = report
        self.query_one(ProgressBar).display = False
        self.query_one("#whatif-status", Static).update(summary_line(report))
        table = self.query_one("#flip-classes", DataTable)
        table.clear()
        self.classes_shown = []
        for kind, cells in decision_rows(report):
            table.add_row(*cells, key=kind)
            self.classes_shown.append(kind)
        self.query_one("#whatif-details", Static).update(report_details(report))
        table.focus()

    @on(DataTable.RowSelected, "#flip-classes")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.cursor_row)

    def action_open_class(self) -> None:
        """Open the traces of the flip class under the cursor."""
        self._open(self.query_one("#flip-classes", DataTable).cursor_row)

    def _open(self, row: int) -> None:
        if self.report is None or not 0 <= row < len(self.classes_shown):
            return
        kind = self.classes_shown[row]
        samples = self.report.samples.get(kind, [])
        if not samples:
            why = (
                "no trace landed here"
                if not self.report.decisions[kind]
                else "the report keeps the ids of flips and uncertain traces only"
            )
            self.notify(f"{DECISION_LABELS[kind]}: {why}", markup=False)
            return
        self.app.push_screen(
            FlipTracesScreen(self.repo, kind, samples, self.report.decisions[kind], self.folder)
        )

    def on_unmount(self) -> None:
        """A viewer closing mid-run stops the workers too."""
        self.cancel.set()

    def action_back(self) -> None:
        """Cancel a running backtest (the report so far stays), or close a finished one."""
        if self.report is None and not self.cancel.is_set():
            self.cancel.set()
            self._status("cancelling: the workers finish the batch they hold, then stop…")
            return
        if self.report is not None:
            self.dismiss()
