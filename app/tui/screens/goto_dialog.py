"""Asks for a time to go to in the trace list: a typed time, an age, or the oldest or newest
trace; the list then reads the rows around it by keyset instead of every row in between."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from ...timeparse import TimeFormatError, parse_time
from ...untrusted import shown

ENDS = ("oldest", "newest")


@dataclass(frozen=True, slots=True)
class GoTo:
    """Where to go: a time (Unix ns), or one end of the list ("oldest" or "newest")."""

    at: int | None = None
    end: str | None = None


class GoToDialog(ModalScreen[GoTo | None]):
    """Dismisses with where to go, or None when cancelled; a bad time is refused inline."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, now_ns: int) -> None:
        super().__init__(classes="dialog")
        self.now_ns = now_ns

    def compose(self) -> ComposeResult:
        """Title, hint, the input, an error line and the buttons."""
        with Vertical(classes="dialog-box"):
            yield Label("[b]Go to a time[/b]  the list shows the traces started then")
            yield Label(
                "[dim]an ISO time (UTC unless it names its offset), an age such as 2h or 3d, "
                "'oldest' or 'newest'[/dim]"
            )
            yield Input(placeholder="e.g. 2026-03-10T14:30 or 2d or oldest", id="when")
            yield Label("", id="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Go", id="go", variant="primary")
                yield Button("Oldest", id="oldest")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#go")
    @on(Input.Submitted, "#when")
    def _go(self) -> None:
        text = self.query_one("#when", Input).value.strip()
        if text.lower() in ENDS:
            self.dismiss(GoTo(end=text.lower()))
            return
        if not text:
            self._fail("type a time, an age, 'oldest' or 'newest' first")
            return
        try:
            self.dismiss(GoTo(at=parse_time(text, self.now_ns)))
        except TimeFormatError as exc:
            self._fail(str(exc))

    def _fail(self, message: str) -> None:
        """What is wrong, above the buttons."""
        self.query_one("#dialog-error", Label).update(
            Content.from_markup("[b red]$message[/]", message=shown(message))
        )

    @on(Button.Pressed, "#oldest")
    def _oldest(self) -> None:
        self.dismiss(GoTo(end="oldest"))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Stay where the list is."""
        self.dismiss(None)
