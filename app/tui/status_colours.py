"""Colours and cell texts shared by every screen, so a status looks the same everywhere."""

from __future__ import annotations

from rich.text import Text

from ..untrusted import shown_text

STATUS_COLOUR = {
    "success": "green",
    "blocked": "yellow",
    "error": "red",
    "skipped": "grey50",
}
UNKNOWN_COLOUR = "magenta"
SEVERITY = {"success": 0, "skipped": 0, "blocked": 1, "error": 2}


def status_colour(status: str) -> str:
    """The colour of a status; anything unknown is magenta, like a corrupt row."""
    return STATUS_COLOUR.get(status, UNKNOWN_COLOUR)


def status_text(status: str, problems: tuple[str, ...] = ()) -> Text:
    """A status cell, with a magenta `!` when the stored row was damaged."""
    text = shown_text(status, style=status_colour(status))
    if problems:
        text.append(" !", style=f"bold {UNKNOWN_COLOUR}")
    return text
