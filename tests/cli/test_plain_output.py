"""Plain output, written without Rich where stdout is no terminal, is what Rich prints there."""

from __future__ import annotations

import contextlib
import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from pipetrace.app.commands.column_widths import PIPE_WIDTH, Column, cell_width
from pipetrace.app.commands.plain_output import Printer, plain_table
from pipetrace.app.commands.table_layout import print_table
from pipetrace.app.styled import Styled
from pipetrace.app.untrusted import shown, shown_styled, shown_text

SHOWABLE = st.characters(codec="utf-8", exclude_categories=("Cs",))
"""Any character stored text may hold; `shown` escapes those a terminal would obey."""
CELL = st.text(SHOWABLE, max_size=40).map(shown) | st.sampled_from(["", " ", "漢字", "e\u0301"])


def _rich_lines(columns: list[Column], rows: list[list[str]], title: str | None) -> str:
    """What print_table writes through Rich to a file that is no terminal."""
    out = io.StringIO()
    console = Console(file=out, width=PIPE_WIDTH)
    print_table(console, columns, [[shown_text(cell) for cell in row] for row in rows], title)
    return out.getvalue()


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Column], list[list[str]], str | None]:
    """Columns of any kind, rows of stored-looking text, maybe a title."""
    columns = draw(
        st.lists(
            st.builds(
                Column,
                name=st.text(SHOWABLE, min_size=1, max_size=12).map(shown),
                keep=st.integers(0, 30),
                wraps=st.booleans(),
            ),
            min_size=1,
            max_size=9,
        )
    )
    width = st.lists(CELL, min_size=len(columns), max_size=len(columns))
    rows = draw(st.lists(width, max_size=6))
    title = draw(st.none() | st.text(SHOWABLE, max_size=60).map(shown))
    return columns, rows, title


@settings(max_examples=300, deadline=None)
@given(tables())
def test_a_plain_table_is_what_rich_prints_to_a_pipe(
    table: tuple[list[Column], list[list[str]], str | None],
) -> None:
    columns, rows, title = table
    lines = plain_table(columns, rows, title)
    if lines is not None:
        assert "".join(line + "\n" for line in lines) == _rich_lines(columns, rows, title)


def test_a_table_rich_would_cut_is_left_to_rich() -> None:
    columns = [Column("id", 12), Column("message", 24, wraps=True)]
    assert plain_table(columns, [["a", "word " * 60]]) is None
    assert plain_table(columns, [["a", "b"]], title="t" * (PIPE_WIDTH + 1)) is None
    assert plain_table(columns, [["a", "b"]]) is not None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(SHOWABLE, max_size=120).map(shown), max_size=4), st.booleans())
def test_a_plain_line_is_what_rich_prints_to_a_pipe(pieces: list[str], soft_wrap: bool) -> None:
    line = Styled.of(*(shown_styled(piece, "bold") for piece in pieces))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        Printer().line(line, soft_wrap=soft_wrap)
    out = io.StringIO()
    Console(file=out, width=PIPE_WIDTH).print(line.rich(), soft_wrap=soft_wrap)
    assert printed.getvalue() == out.getvalue()


def test_the_one_cell_shortcut_counts_as_rich_does() -> None:
    printable = [chr(code) for code in range(0x300) if chr(code).isprintable()]
    assert [cell_width(c) for c in printable] == [cell_len(c) for c in printable]
