"""What a running app shows, as plain text lines, so a test can read the screen as a person does."""

from __future__ import annotations

import html
import re

from rich.cells import cell_len
from textual.app import App

SVG_TEXT = re.compile(
    r'<text [^>]*\bx="(?P<x>[0-9.]+)"[^>]*'
    r'clip-path="url\(#[\w-]+-line-(?P<line>\d+)\)">(?P<text>[^<]*)</text>'
)
"""One run of text in Rich's SVG export: its left edge, its line and its escaped characters."""
SVG_CELL_WIDTH = 20 * 0.61
"""Rich's export_svg draws each cell 20 px high and 0.61 of that wide."""


def screen_lines(app: App[object]) -> list[str]:
    """Every line of the current screen (dialogs over what they cover), read back from the
    public App.export_screenshot, which draws runs of spaces as gaps, every other run of text
    at its cell, and each line's end as a run of its own."""
    width, height = app.size
    runs: list[list[tuple[int, str]]] = [[] for _ in range(height)]
    for found in SVG_TEXT.finditer(app.export_screenshot()):
        text = html.unescape(found["text"].replace("&#160;", " "))
        if text != "\n":
            runs[int(found["line"])].append((round(float(found["x"]) / SVG_CELL_WIDTH), text))
    return [_line(sorted(line), width) for line in runs]


def _line(runs: list[tuple[int, str]], width: int) -> str:
    """One screen line from its runs of text (cell, text), spaces filling the gaps to `width`."""
    line, cells = "", 0
    for cell, text in runs:
        line += " " * (cell - cells) + text
        cells = cell + cell_len(text)
    return line + " " * (width - cells)
