"""A script's source as it ran, for the span pane: numbered lines, the failing one marked, or
one line saying why the version cannot be shown."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ...script_source import RanSource
from ...untrusted import shown_text

SHORT_SHA = 12
HEADING_ROWS = 4
"""Rows above the first source line: the heading, the version, the hint and a blank line."""
MARK_STYLE = "bold white on dark_red"


def source_renderable(source: RanSource) -> RenderableType:
    """The version `source` names, numbered from 1, the line it failed at marked."""
    heading = Text.assemble(("source of ", "bold underline"), shown_text(source.file, "bold"))
    hint = "v: back to details"
    if source.text is None:
        return Group(
            heading,
            Text(hint, style="grey62"),
            Text(),
            shown_text(f"not shown: {source.missing}", "grey62"),
        )
    about = Text(f"version {(source.sha256 or '')[:SHORT_SHA]}, as it ran", style="grey62")
    if source.line is not None:
        hint = f"line {source.line} marked · {hint}"
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(overflow="fold")
    for line in source.lines():
        table.add_row(
            Text(str(line.number), style="bold red" if line.marked else "grey50"),
            Text(line.text, style=MARK_STYLE if line.marked else ""),
        )
    return Group(heading, about, Text(hint, style="grey62"), Text(), table)


def marked_row(source: RanSource, width: int) -> int | None:
    """The row the marked line starts on when the view is `width` cells wide (lines fold), so
    the pane can scroll it into view; None without a marked line."""
    lines = source.lines()
    if source.line is None or not 1 <= source.line <= len(lines):
        return None
    number_width = len(str(len(lines))) + 1
    text_width = max(width - number_width, 1)
    above = lines[: source.line - 1]
    return HEADING_ROWS + sum(max(1, -(-Text(line.text).cell_len // text_width)) for line in above)
