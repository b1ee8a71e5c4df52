"""What `traces` and `show` print, written as plain text without Rich where stdout is no terminal
(a pipe, a file, a script's capture) and everything fits the page, since Rich would print the
same there; on a terminal, or for a table or line Rich would cut or wrap, Rich draws it
(table_layout.py). A script that calls pipetrace in a loop so pays neither Rich's import nor
its layout (tests/cli/test_plain_output.py holds the two to the same text)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..styled import Styled
from .column_widths import GAP, PIPE_WIDTH, Column, cell_width, plan_widths

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

Cell = Styled | str
RULE = "─"
"""What draws the line under a table's header (Rich's SIMPLE_HEAD box)."""


class Printer:
    """Prints a command's lines and tables on stdout, through Rich only where it must."""

    def __init__(self) -> None:
        self.plain = not sys.stdout.isatty()
        self._console: Console | None = None

    def console(self) -> Console:
        """Rich's console for the output, made (and Rich imported) on first use."""
        if self._console is None:
            from .table_layout import output_console

            self._console = output_console()
        return self._console

    def line(self, text: Cell, *, soft_wrap: bool = False) -> None:
        """One line; without `soft_wrap` one wider than the page wraps, as Rich wraps it."""
        plain = text if isinstance(text, str) else text.plain
        if self.plain and (soft_wrap or cell_width(plain) <= PIPE_WIDTH):
            sys.stdout.write(plain + "\n")
            return
        self.console().print(_rich(text), soft_wrap=soft_wrap)

    def table(
        self, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], title: str | None = None
    ) -> None:
        """`rows` as a table fitted to the page (see table_layout.print_table)."""
        if self.plain:
            lines = plain_table(columns, [[_plain(cell) for cell in row] for row in rows], title)
            if lines is not None:
                sys.stdout.write("".join(line + "\n" for line in lines))
                return
        from .table_layout import print_table

        print_table(self.console(), columns, [[_rich(cell) for cell in row] for row in rows], title)


def plain_table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], title: str | None = None
) -> list[str] | None:
    """The lines Rich prints for `rows` in a pipe (print_table: PIPE_WIDTH wide, no trailing
    spaces), or None where Rich would cut or wrap a cell or the title, or widen a column whose
    text takes no cells."""
    widths = plan_widths(columns, rows, PIPE_WIDTH)
    shown = [(i, width) for i, width in enumerate(widths) if width is not None]
    if any(width < 1 for _, width in shown):
        return None
    heads = [columns[i].name for i, _ in shown]
    cells = [[row[i] for i, _ in shown] for row in rows]
    if any(
        _overflows(text, width)
        for line in (heads, *cells)
        for text, (_, width) in zip(line, shown, strict=True)
    ):
        return None
    table_width = sum(width for _, width in shown) + GAP * (len(shown) - 1)
    if title and _overflows(title, table_width):
        return None
    lines = [title.rstrip()] if title else []
    lines.append(_row(heads, shown))
    lines.append(RULE * table_width)
    lines.extend(_row(line, shown) for line in cells)
    return lines


def _overflows(text: str, width: int) -> bool:
    """Whether Rich would cut or wrap `text` in `width` cells."""
    return "\n" in text or cell_width(text) > width


def _row(texts: Sequence[str], shown: Sequence[tuple[int, int]]) -> str:
    """One table line: each text padded to its column's width, GAP between, no trailing spaces."""
    padded = [
        text + " " * (width - cell_width(text))
        for text, (_, width) in zip(texts, shown, strict=True)
    ]
    return (" " * GAP).join(padded).rstrip()


def _plain(cell: Cell) -> str:
    """A cell's text without its styles."""
    return cell if isinstance(cell, str) else cell.plain


def _rich(cell: Cell) -> Text | str:
    """A cell as Rich takes it: styled text as Rich's Text, a string as it is."""
    return cell if isinstance(cell, str) else cell.rich()
