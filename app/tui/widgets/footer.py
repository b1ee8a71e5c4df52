"""Textual's key footer without its leak, for screens that stay open for hours."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """The footer, letting go of the keys it drew before.

    Footer draws its keys again whenever the screen's bindings change (focus moves, a screen
    returns) and ties each new key to its own `compact`; a key it no longer shows stays tied,
    and held, until `compact` changes, which it never does (Textual issue #6666). Saying that
    `compact` changed after each redraw lets those ties go.
    """

    async def recompose(self) -> None:
        """Draw the keys again, then drop the ties of the keys just removed."""
        await super().recompose()
        self.mutate_reactive(Footer.compact)
