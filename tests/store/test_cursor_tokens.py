"""Cursor tokens as people paste them: what `encode` wrote comes back, anything else is a
ValueError saying what is wrong, never another exception or a position nobody printed."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pipetrace.store import Cursor

positions = st.builds(
    Cursor,
    st.integers(-(2**63), 2**63 - 1),
    st.text("0123456789abcdef", min_size=32, max_size=32),
    st.text("0123456789abcdef", max_size=16),
)


@given(cursor=positions)
def test_a_token_decodes_to_the_position_it_encodes(cursor: Cursor) -> None:
    assert Cursor.decode(cursor.encode()) == cursor


@given(cursor=positions, edit=st.text(max_size=5), at=st.integers(0, 80))
def test_an_edited_token_is_a_position_it_names_or_a_value_error(
    cursor: Cursor, edit: str, at: int
) -> None:
    token = cursor.encode()
    text = token[:at] + edit + token[at + len(edit) :]
    try:
        decoded = Cursor.decode(text)
    except ValueError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200
    else:
        assert decoded.encode() == text


@given(text=st.text(max_size=300))
@example(text="\x00" * 60)
def test_any_text_is_a_cursor_or_a_value_error(text: str) -> None:
    try:
        decoded = Cursor.decode(text)
    except ValueError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200
    else:
        assert decoded.encode() == text


@pytest.mark.parametrize(
    "text",
    [
        "1780000000000000000:" + "a" * 32,  # the old form, without its order
        "newest:+1780000000000000000:" + "a" * 32,  # int() would read these
        "newest:1_780_000_000:" + "a" * 32,
        "newest:١٧٨:" + "a" * 32,
        "newest:-0:" + "a" * 32,
        "newest:007:" + "a" * 32,
        "newest:7:" + "a" * 32 + "\n",
        "newest:9223372036854775808:" + "a" * 32,
        "newest:1:" + "A" * 32,
        "newest:1:" + "a" * 32 + ":",
        "newest:1:" + "a" * 32 + ":" + "b" * 17,
        "oldest:1:" + "a" * 32,
    ],
)
def test_near_misses_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        Cursor.decode(text)
