"""Tables that keep their important columns readable on a narrow terminal and whole in a pipe."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

PIPE_WIDTH = 220
"""Width of the output when stdout is not a terminal (less, grep, a ticket): whole rows."""
GAP = 2
"""Characters between two columns of a table drawn by `fitted_table`."""
SQUEEZED = 10
"""Width a kept column gives way to on a terminal too narrow for every kept width."""


@dataclass(frozen=True, slots=True)
class Column:
    """A table column and how it behaves when the terminal is too narrow for every column."""

    name: str
    keep: int = 0
    """Width it keeps however narrow the terminal; 0: left out whole when there is no room."""
    wraps: bool = False
    """Free text (a message): wraps inside its column instead of being cut."""


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
    widths = _plan_widths(columns, cells, width)
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


def _plan_widths(columns: Sequence[Column], rows: list[list[Text]], width: int) -> list[int | None]:
    """Each column's width, or None for one left out."""
    natural = [
        max([cell_len(c.name), *(_cell_width(row[i]) for row in rows)])
        for i, c in enumerate(columns)
    ]
    lowest = [min(c.keep, n) if c.keep else n for c, n in zip(columns, natural, strict=True)]
    shown = list(range(len(columns)))
    give_way = [i for i, c in enumerate(columns) if not c.keep]

    def needed() -> int:
        return sum(lowest[i] for i in shown) + GAP * (len(shown) - 1)

    while needed() > width and give_way:
        shown.remove(give_way.pop())
    widths = {i: lowest[i] for i in shown}
    spare = width - needed()
    for i in sorted(shown, key=lambda i: columns[i].wraps):
        grow = max(0, min(spare, natural[i] - widths[i]))
        widths[i] += grow
        spare -= grow
    # Narrower than the kept widths: the last kept columns give way first, down to SQUEEZED
    # (so when and which stay whole longest), then the widest a character at a time.
    for i in reversed(shown):
        give = max(0, min(-spare, widths[i] - SQUEEZED))
        widths[i] -= give
        spare += give
    while spare < 0 and max(widths.values()) > 1:
        widest = max(widths, key=lambda i: widths[i])
        widths[widest] -= 1
        spare += 1
    return [widths.get(i) for i in range(len(columns))]


def _cell_width(cell: Text) -> int:
    """Terminal cells the longest line of a cell takes."""
    return max(cell_len(line) for line in cell.plain.split("\n"))
