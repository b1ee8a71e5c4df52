"""How wide each column of a command's table is drawn, so its important columns stay readable
on a narrow terminal; plain text in, so planning needs no Rich."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

PIPE_WIDTH = 220
"""Width of the output when stdout is not a terminal (less, grep, a ticket): whole rows."""
GAP = 2
"""Characters between two columns of a table."""
ONE_CELL_BELOW = "\u0300"
"""Every printable character before the combining marks takes one cell, as Rich counts."""
SQUEEZED = 10
"""Width a kept column gives way to on a terminal too narrow for every kept width."""


class Column(NamedTuple):
    """A table column and how it behaves when the terminal is too narrow for every column."""

    name: str
    keep: int = 0
    """Width it keeps however narrow the terminal; 0: left out whole when there is no room."""
    wraps: bool = False
    """Free text (a message): wraps inside its column instead of being cut."""


def plan_widths(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int
) -> list[int | None]:
    """Each column's width for rows of plain cells at most `width` wide in all, or None for a
    column left out: columns that give way are left out from the right until the kept ones
    fit, kept columns get their whole width first, and what is left goes to the wrapping
    ones."""
    natural = [
        max([cell_width(c.name), *(cell_width(row[i]) for row in rows)])
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


def cell_width(text: str) -> int:
    """Terminal cells the longest line of a cell takes, as Rich counts them."""
    if text.isprintable() and max(text, default="") < ONE_CELL_BELOW:
        return len(text)  # most ids, times, names and durations (µs)
    from rich.cells import cell_len  # its Unicode tables take a few ms to load

    return max(cell_len(line) for line in text.split("\n"))
