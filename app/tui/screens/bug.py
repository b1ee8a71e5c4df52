"""The bug dialog: an exception no code expected, named as pipetrace's bug, not the store's."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from pipetrace.app.bugs import bug_line, traceback_text
from pipetrace.app.untrusted import shown, shown_lines


class BugScreen(ModalScreen[None]):
    """Which exception, that it is a bug to report, and with PIPETRACE_DEBUG=1 its traceback;
    Close returns to what is on screen, since retrying a bug would only repeat it."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, error: BaseException, *, show_traceback: bool) -> None:
        super().__init__(classes="dialog")
        self.error = error
        self.show_traceback = show_traceback
        self.message = shown(bug_line(error, debug=show_traceback))

    def compose(self) -> ComposeResult:
        """Title, the bug in one line, the traceback when debugging, advice and Close."""
        with Vertical(classes="dialog-box", id="error-box"):
            yield Label("[b red]Bug[/]", id="error-title")
            yield Static(self.message, id="error-message", markup=False)
            if self.show_traceback:
                yield Static(
                    shown_lines(traceback_text(self.error)), id="bug-traceback", markup=False
                )
            yield Static(
                "[dim]This is a bug in pipetrace, not a problem with the store or what you "
                "typed: please report it. Anything already on screen stays.[/]"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (esc)", id="close", variant="primary")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Back to what is on screen."""
        self.dismiss()
