"""Dialogs whose title and buttons always show: on a short terminal only the middle scrolls."""

from __future__ import annotations

from typing import TypeVar

from textual.geometry import Size
from textual.screen import Screen

from ..lifetime import bound

Result = TypeVar("Result")


class KeepsButtonsInView(Screen[Result]):
    """Mixin for a dialog whose box holds a `.dialog-middle` scroll region between its title and
    buttons; the box is marked cramped (the middle takes the rest and scrolls) once it no longer
    fits at its natural height."""

    def on_mount(self) -> None:
        """Cramp the box as soon as content added later (a report, an error) overflows it."""
        self.watch(self.query_one(".dialog-box"), "virtual_size", self._grown, init=False)

    def on_resize(self) -> None:
        """Lay the box out at its natural height again, then cramp it if that does not fit."""
        self.remove_class("cramped")
        self.call_after_refresh(bound(self, self._cramp))

    def _grown(self, _: Size) -> None:
        """Measure once the box has taken its new height (it may still have its old one now)."""
        self.call_after_refresh(bound(self, self._cramp_if_overflowing))

    def _cramp_if_overflowing(self) -> None:
        if not self.has_class("cramped") and self.query_one(".dialog-box").max_scroll_y > 0:
            self.add_class("cramped")

    def _cramp(self) -> None:
        box = self.query_one(".dialog-box")
        self.set_class(box.max_scroll_y > 0, "cramped")
