"""Textual's key footer without its leak, for screens that stay open for hours."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from ..lifetime import is_live

Drawn = list[tuple[str, Binding, bool, str]]
KEPT_ACTIONS = ("help", "quit")
"""Keys that stay in view however narrow the terminal: on one too narrow for every key they
come first (the keys past the edge are cut; the palette and help list them all)."""
KEY_CELLS = 3
"""Cells a key takes beside its key and description: the padding around them."""


class KeyFooter(Footer):
    """The footer, drawing its keys only when they change and letting go of those it drew.

    Footer draws its keys again whenever the screen's bindings may have changed (a focus
    move, a screen returning: about twenty times as a trace is opened and closed), and ties
    each new key to its own `compact`; a key it no longer shows stays tied, and held, until
    `compact` changes, which it never does (Textual issue #6666). This footer draws only when
    the keys differ, and says `compact` changed after drawing, which lets those ties go.
    """

    drawn: Drawn | None = None
    """The bindings the keys were last drawn from."""

    async def recompose(self) -> None:
        """Draw the keys again if the screen's bindings changed, then drop the old keys' ties
        (nothing once the footer is being removed: Footer asks for this after a refresh)."""
        if not is_live(self):
            return
        bindings = [
            (key, active.binding, active.enabled, active.tooltip)
            for key, active in self.screen.active_bindings.items()
        ]
        if bindings == self.drawn:
            return
        self.drawn = bindings
        await super().recompose()
        self.mutate_reactive(Footer.compact)

    def compose(self) -> ComposeResult:
        """The keys, `?` and `q` first when they would not all fit."""
        keys = list(super().compose())
        needed = sum(
            len(getattr(key, "key_display", "")) + len(getattr(key, "description", "")) + KEY_CELLS
            for key in keys
        )
        if needed <= self.app.size.width:
            yield from keys
            return
        kept = [key for key in keys if getattr(key, "action", None) in KEPT_ACTIONS]
        yield from kept + [key for key in keys if key not in kept]
