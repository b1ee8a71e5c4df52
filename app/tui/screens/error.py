"""The error dialog: what failed in one line, and a Retry that repeats the failed work."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from ...untrusted import shown


class ErrorScreen(ModalScreen[bool]):
    """Dismisses with True for Retry, False for Close; rows already shown stay underneath."""

    BINDINGS = [
        Binding("r", "retry", "Retry"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        """Title, message, advice and two buttons."""
        with Vertical(classes="dialog-box", id="error-box"):
            yield Label(f"[b red]{self.title_text}[/]", id="error-title")
            yield Static(shown(self.message), id="error-message", markup=False)
            yield Static(
                "[dim]Anything already on screen stays. Fix the database or the URL "
                "(--db / PIPETRACE_DB), then retry.[/]"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Retry (r)", id="retry", variant="primary")
                yield Button("Close (esc)", id="close")

    def show(self, title: str, message: str) -> None:
        """Replace the text when another failure arrives while this dialog is open."""
        self.title_text, self.message = title, message
        for label in self.query("#error-title").results(Label):
            label.update(f"[b red]{title}[/]")
        for body in self.query("#error-message").results(Static):
            body.update(shown(message))

    @on(Button.Pressed, "#retry")
    def action_retry(self) -> None:
        """Try the failed work again."""
        self.dismiss(True)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Keep what is on screen and carry on."""
        self.dismiss(False)
