"""The cleanup dialog: age, a counted preview, then a batched delete with progress and cancel."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Static

from pipetrace.store import CleanupProgress, CleanupResult, Repository, StoreError

from ...disk_space import space_line
from ...retention import DEFAULT_AGE, DEFAULT_BATCH_SIZE, PAUSE_SECONDS, cutoff_for
from ...timeparse import TimeFormatError, format_ns
from ...untrusted import shown
from ...wording import counted, plural
from ..worker_errors import ShowsWorkerBugs
from .cramped import KeepsButtonsInView


class CleanupDialog(ShowsWorkerBugs, KeepsButtonsInView[bool], ModalScreen[bool]):
    """Dismisses with True when traces were deleted, so the list knows to reload."""

    BINDINGS = [Binding("escape", "close", "Close")]

    deleted = reactive(0)
    """Traces deleted so far; drives the progress bar."""

    @dataclass
    class Counted(Message):
        """How much is older than `age` (the preview)."""

        age: str
        cutoff: int
        traces: int
        spans: int

    @dataclass
    class Progress(Message):
        """Running totals after a batch; a newer one replaces any not yet shown."""

        progress: CleanupProgress

        def can_replace(self, message: Message) -> bool:
            """Only the latest totals matter, so a slow screen never falls behind."""
            return isinstance(message, CleanupDialog.Progress)

    @dataclass
    class Finished(Message):
        """The delete ended (completely, or cancelled between batches)."""

        result: CleanupResult

    @dataclass
    class Failed(Message):
        """Counting or deleting failed, in one line."""

        title: str
        message: str

    def __init__(self, repo: Repository, now_ns: int, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        super().__init__(classes="dialog")
        self.repo = repo
        self.now_ns = now_ns
        self.batch_size = batch_size
        self.cancel = threading.Event()
        self.preview: CleanupDialog.Counted | None = None
        self.result: CleanupResult | None = None
        self.running = False
        self.submitted = False
        """Enter was pressed in the age field: focus Delete as soon as there is a preview."""

    def compose(self) -> ComposeResult:
        """Age input, preview, progress bar, report and the buttons."""
        with Vertical(classes="dialog-box", id="cleanup-box"):
            yield Label("[b]Clean up old traces[/b]")
            with VerticalScroll(classes="dialog-middle", can_focus=False):
                yield Static(
                    "[dim]Deletes traces (and their spans) that started longer ago than an age "
                    "such as 30d, 12h or 2w, oldest first, in small batches. Enter goes to "
                    "Delete; nothing is deleted until you press it.[/dim]"
                )
                yield Input(DEFAULT_AGE, placeholder="age, e.g. 30d", id="age")
                yield Label("", id="dialog-error")
                yield Static("counting…", id="cleanup-preview")
                yield ProgressBar(id="cleanup-progress", show_eta=False)
                yield Static("", id="cleanup-report")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete", id="delete", variant="error", disabled=True)
                yield Button("Cancel", id="cancel")
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        """Count for the default age at once."""
        self.query_one(ProgressBar).display = False
        self.query_one("#close").display = False
        self._recount()

    # -- preview ----------------------------------------------------------------------------

    @on(Input.Changed, "#age")
    def _age_changed(self) -> None:
        self.submitted = False
        self._recount()

    def _recount(self) -> None:
        text = self.query_one("#age", Input).value.strip()
        self.preview = None
        self.query_one("#delete", Button).disabled = True
        try:
            cutoff = cutoff_for(text, "age", self.now_ns)
        except TimeFormatError as exc:
            self.query_one("#dialog-error", Label).update(
                Content.from_markup("[b red]$error[/]", error=shown(exc))
            )
            self.query_one("#cleanup-preview", Static).update("")
            return
        self.query_one("#dialog-error", Label).update("")
        self.query_one("#cleanup-preview", Static).update("[dim]counting…[/dim]")
        self.count(self.repo, text, cutoff)

    @work(thread=True, exclusive=True, group="cleanup-count", exit_on_error=False)
    def count(self, repo: Repository, age: str, cutoff: int) -> None:
        """Count what the age would delete, off the UI thread."""
        try:
            traces, spans = repo.count_older_than(cutoff)
        except StoreError as exc:
            self.post_message(self.Failed(exc.title, exc.message))
            return
        self.post_message(self.Counted(age, cutoff, traces, spans))

    @on(Input.Submitted, "#age")
    def _age_submitted(self) -> None:
        """Enter moves on to Delete once the preview is counted; only pressing it deletes."""
        self.submitted = True
        self._offer_delete()

    def _offer_delete(self) -> None:
        """Focus Delete if Enter asked for it and the preview found something to delete."""
        delete = self.query_one("#delete", Button)
        if self.submitted and not delete.disabled:
            self.submitted = False
            delete.focus()

    @on(Counted)
    def _counted(self, message: Counted) -> None:
        if message.age != self.query_one("#age", Input).value.strip() or self.running:
            return
        self.preview = message
        self.query_one("#cleanup-preview", Static).update(
            f"[b]{message.traces:,}[/b] {plural(message.traces, 'trace')} and "
            f"[b]{message.spans:,}[/b] {plural(message.spans, 'span')} older than "
            f"[b]{message.age}[/b] (before {format_ns(message.cutoff)} UTC)"
            + ("" if message.traces else "\n[dim]nothing to delete[/dim]")
        )
        self.query_one("#delete", Button).disabled = message.traces == 0
        self._offer_delete()

    # -- delete -----------------------------------------------------------------------------

    @on(Button.Pressed, "#delete")
    def _delete(self) -> None:
        if self.preview is None or self.running:
            return
        self.running = True
        self.query_one("#age", Input).disabled = True
        self.query_one("#delete").display = False
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=self.preview.traces, progress=0)
        self.query_one("#cleanup-report", Static).update("deleting… (Cancel stops after a batch)")
        self.query_one("#cancel", Button).focus()
        self.delete_old(self.repo, self.preview.cutoff)

    @work(thread=True, exclusive=True, group="cleanup-delete", exit_on_error=False)
    def delete_old(self, repo: Repository, cutoff: int) -> None:
        """Delete in batches off the UI thread; progress comes back as replaceable messages."""
        try:
            result = repo.cleanup_old_traces(
                cutoff,
                batch_size=self.batch_size,
                on_progress=lambda p: self.post_message(self.Progress(p)),
                cancel=self.cancel,
                pause=PAUSE_SECONDS,
            )
        except StoreError as exc:
            self.post_message(self.Failed(exc.title, exc.message))
            return
        self.post_message(self.Finished(result))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        if message.progress.total_traces is not None:
            self.query_one(ProgressBar).update(total=message.progress.total_traces)
        self.deleted = message.progress.traces

    def watch_deleted(self, deleted: int) -> None:
        """Move the bar."""
        self.query_one(ProgressBar).update(progress=deleted)

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        result = self.result = message.result
        self.deleted = result.traces
        verb = "cancelled after deleting" if result.cancelled else "deleted"
        colour = "yellow" if result.cancelled else "green"
        where = (
            f" older than {self.preview.age} (before {format_ns(self.preview.cutoff)} UTC)"
            if self.preview
            else ""
        )
        report = (
            f"[b {colour}]{verb} {counted(result.traces, 'trace', grouped=True)} and "
            f"{counted(result.spans, 'span', grouped=True)}[/]{where}"
        )
        if result.space is not None:
            report += f"\n[dim]{escape(space_line(result.space, result.freed_bytes))}[/dim]"
        self.query_one("#cleanup-report", Static).update(report)
        self._finish()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.query_one("#dialog-error", Label).update(
            Content.from_markup(
                "[b red]$title: $message[/]", title=message.title, message=shown(message.message)
            )
        )
        if self.running:
            self._finish()

    def _finish(self) -> None:
        self.running = False
        self.query_one("#cancel").display = False
        close = self.query_one("#close", Button)
        close.display = True
        close.focus()
        # On a short terminal the middle scrolls: keep its end, where the report is, in view.
        self.query_one(".dialog-middle").anchor()

    # -- closing ----------------------------------------------------------------------------

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        if self.running:
            self.cancel.set()
            cancel = self.query_one("#cancel", Button)
            cancel.label = "Cancelling…"
            cancel.disabled = True
            return
        self.dismiss(False)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(bool(self.result and self.result.traces))

    def action_close(self) -> None:
        """Escape: stop a running delete after its batch, otherwise close."""
        if self.running:
            self._cancel()
        else:
            self._close()
