"""The traces a backtest put in one flip class (the sample ids its report keeps); enter replays
one through the candidate and shows its diff, `o` opens the stored trace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from pipetrace.store import Repository, StoreError, TraceRow

from ...backtest.labels import DECISION_LABELS
from ...backtest.report import FlipClass
from ...short_ids import short_ids
from ...timeparse import format_ns
from ...untrusted import shown_text
from ..status_colours import status_text
from ..widgets.footer import KeyFooter
from ..worker_errors import ShowsWorkerBugs
from .replay_diff import ReplayDiffScreen


class FlipTracesScreen(ShowsWorkerBugs, Screen[None]):
    """Reads its traces in a worker; a trace deleted since the backtest is left out."""

    HELP_TITLE = "traces of a flip class"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "replay", "Replay diff through the candidate", show=False),
        Binding("o", "open_trace", "Open the stored trace"),
    ]

    @dataclass
    class Loaded(Message):
        """The stored rows of the class's traces, in the report's order."""

        rows: list[TraceRow]

    @dataclass
    class Failed(Message):
        """Reading them failed, in one line."""

        title: str
        message: str

    @dataclass
    class TraceChosen(Message):
        """Open this trace's detail over this list."""

        trace_id: str

    def __init__(
        self, repo: Repository, kind: FlipClass, trace_ids: list[str], total: int, folder: Path
    ) -> None:
        super().__init__()
        self.repo = repo
        self.kind = kind
        self.trace_ids = trace_ids
        self.total = total
        self.folder = folder
        self.rows: list[TraceRow] = []

    def compose(self) -> ComposeResult:
        """A title line, the traces, and the footer."""
        yield Static(id="flip-title")
        yield DataTable(id="flip-traces", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Say which class this is, then read its traces."""
        self.query_one("#flip-title", Static).update(
            Content.from_markup(
                "[b]$label[/b]: $shown of $total traces "
                "[grey62](the first the backtest met; enter shows a replay diff)[/]",
                label=DECISION_LABELS[self.kind],
                shown=len(self.trace_ids),
                total=f"{self.total:,}",
            )
        )
        table = self.query_one("#flip-traces", DataTable)
        table.add_columns("started (UTC)", "trace id", "trigger", "status", "user", "message")
        table.loading = True
        self.fetch(self.repo, self.trace_ids)

    @work(thread=True, exclusive=True, group="flip-traces", exit_on_error=False)
    def fetch(self, repo: Repository, trace_ids: list[str]) -> None:
        """Read the traces off the UI thread."""
        try:
            rows = repo.get_traces(trace_ids)
        except StoreError as exc:
            self.post_message(self.Failed(exc.title, exc.message))
            return
        self.post_message(self.Loaded(rows))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.rows = message.rows
        table = self.query_one("#flip-traces", DataTable)
        table.loading = False
        ids = short_ids(row.id for row in self.rows)
        for row in self.rows:
            table.add_row(
                Text(format_ns(row.started_at)),
                shown_text(ids[row.id], "cyan"),
                shown_text(row.trigger_event),
                status_text(row.status, row.problems),
                shown_text(row.user_id or "-"),
                shown_text(row.status_message or ""),
                key=row.id,
            )
        missing = len(self.trace_ids) - len(self.rows)
        if missing:
            self.notify(f"{missing} of these traces are no longer in the store", markup=False)
        table.focus()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.query_one("#flip-traces", DataTable).loading = False
        self.notify(message.message, title=message.title, severity="error", markup=False)

    def _current(self) -> TraceRow | None:
        row = self.query_one("#flip-traces", DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    @on(DataTable.RowSelected, "#flip-traces")
    def _row_selected(self) -> None:
        self.action_replay()

    def action_replay(self) -> None:
        """Replay the trace under the cursor through the candidate and show the diff."""
        row = self._current()
        if row is not None:
            self.app.push_screen(ReplayDiffScreen(row.id, self.repo, self.folder))

    def action_open_trace(self) -> None:
        """Open the stored trace under the cursor."""
        row = self._current()
        if row is not None:
            self.post_message(self.TraceChosen(row.id))

    def action_back(self) -> None:
        """Back to the report."""
        self.dismiss()
