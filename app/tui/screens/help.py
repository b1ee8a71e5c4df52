"""The help screen: every key of the screen it was opened from, shown or not in the footer."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

ABOUT = (
    "Mouse works too: click rows, filter chips (✕ clears one), links in a trace's header; "
    "double-click a span to fold it. ctrl+p opens the command palette with every action."
)


class HelpScreen(ModalScreen[None]):
    """A table of keys and what they do; escape, q or ? close it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        """The key table inside a scrollable box."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, description in self.keys:
            table.add_row(key, description)
        with VerticalScroll(classes="dialog-box", id="help-box"):
            yield Static(f"[b]Keys: {self.title_text}[/b]")
            yield Static(table)
            yield Static(f"\n[dim]{ABOUT}[/dim]")

    def action_close(self) -> None:
        """Back to the screen underneath."""
        self.dismiss()
