"""The command line's fitted tables: never wider than the terminal, kept columns whole while
they fit, and a wrapping column's text whole however it is broken into lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from pipetrace.app.commands.table_layout import Column, fitted_table

COLUMNS = (
    Column("name", 12),
    Column("extra"),
    Column("status", 7),
    Column("id"),
    Column("message", 20, wraps=True),
)
KEPT_WIDTH = 12 + 7 + 20 + 2 * 2
"""What the kept columns and the gaps between them need."""
word = st.text("abcdefghijklmnopqrstuvwxyzé界", min_size=1, max_size=9)
rows = st.lists(
    st.tuples(
        st.text("abcdefgh_", min_size=1, max_size=12),
        st.text("xyz", max_size=30),
        st.sampled_from(("success", "blocked", "error")),
        st.text("0123456789abcdef", min_size=16, max_size=16),
        st.lists(word, max_size=40).map(" ".join),
    ),
    max_size=6,
)


def render(table_rows: list[tuple[str, ...]], width: int) -> list[str]:
    console = Console(width=width, color_system=None)
    with console.capture() as captured:
        console.print(fitted_table(COLUMNS, table_rows, width))
    return captured.get().splitlines()


@given(table_rows=rows, width=st.integers(10, 240))
def test_a_fitted_table_is_never_wider_than_the_terminal(
    table_rows: list[tuple[str, ...]], width: int
) -> None:
    assert all(cell_len(line) <= width for line in render(table_rows, width))


@given(table_rows=rows, width=st.integers(KEPT_WIDTH, 240))
def test_kept_columns_stay_whole_while_they_fit(
    table_rows: list[tuple[str, ...]], width: int
) -> None:
    lines = render(table_rows, width)
    body = lines[2:]  # under the header and its rule
    joined = " ".join(line.strip() for line in body)
    for name, _, status, _, message in table_rows:
        assert any(line.startswith(f"{name} ") or line == name for line in body)
        assert f" {status}" in joined
        assert message in joined
