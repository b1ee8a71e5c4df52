"""Tables that keep their important columns readable on a narrow terminal and whole in a pipe."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .column_widths import PIPE_WIDTH, Column, plan_widths

__all__ = ["PIPE_WIDTH", "Column", "fitted_table", "output_console", "print_table"]


class _OutputConsole(Console):
    """Rich's console, leaving a reader that stopped early (`| head`) to the command line's own
    handling (quiet, status 0) instead of Rich's exit with status 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def output_console() -> Console:
    """A console for a command's output: its terminal's width, or PIPE_WIDTH in a pipe."""
    return _OutputConsole(width=None if sys.stdout.isatty() else PIPE_WIDTH)


def print_table(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text | str]],
    title: str | None = None,
) -> None:
    """`rows` as a table fitted to the console; in a pipe without the spaces Rich pads each
    line's last cell with, so pasted or diffed output carries no trailing whitespace."""
    table = fitted_table(columns, rows, console.width, title)
    if console.is_terminal:
        console.print(table)
        return
    with console.capture() as captured:
        console.print(table)
    console.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def fitted_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text | str]],
    width: int,
    title: str | None = None,
) -> Table:
    """`rows` as a table at most `width` wide: columns that give way are left out from the
    right until the kept ones fit, kept columns get their whole width first, and what is
    left goes to the wrapping ones (Rich alone squeezed a message column to a few characters
    and cropped lines past the edge)."""
    cells = [[cell if isinstance(cell, Text) else Text(cell) for cell in row] for row in rows]
    widths = plan_widths(columns, [[cell.plain for cell in row] for row in cells], width)
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    shown = [i for i, w in enumerate(widths) if w is not None]
    for i in shown:
        column = columns[i]
        table.add_column(
            column.name,
            width=widths[i],
            no_wrap=not column.wraps,
            overflow="fold" if column.wraps else "ellipsis",
        )
    for row in cells:
        table.add_row(*(row[i] for i in shown))
    return table
