"""The one sanitiser: any text comes out with nothing a terminal would obey, printable text comes
out as it went in, and JSON stays the same data."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from pipetrace.app.untrusted import shown, shown_json, shown_lines, shown_text

OBEYED = {
    *map(chr, range(0x20)),
    *map(chr, range(0x7F, 0xA0)),
    *"\u061c\u200e\u200f\u2028\u2029",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}
"""C0 and C1 controls, DEL, Unicode's Bidi_Control characters and the line and paragraph
separators, as the issue and the Unicode standard name them (not as the code under test does)."""
ANY_TEXT = st.lists(st.characters(exclude_categories=()) | st.sampled_from(sorted(OBEYED))).map(
    "".join
)
"""Every code point, lone surrogates included, and often one a terminal obeys (a list of
characters, since `st.text` would merge the two alphabets into one, where these are rare)."""
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)


def obeyed(text: str) -> set[str]:
    """The characters of `text` a terminal would obey, or no terminal encoding could carry."""
    return {c for c in text if c in OBEYED or unicodedata.category(c) == "Cs"}


@given(ANY_TEXT)
def test_shown_text_holds_nothing_a_terminal_obeys(text: str) -> None:
    assert not obeyed(shown(text))
    assert not obeyed(shown_text(text).plain)
    shown(text).encode("utf-8")


@given(ANY_TEXT)
def test_text_without_controls_is_shown_as_it_is(text: str) -> None:
    plain = "".join(c for c in text if not obeyed(c))
    assert shown(plain) == plain


@given(st.lists(ANY_TEXT, min_size=1, max_size=4))
def test_shown_lines_keeps_each_line_and_escapes_the_rest(lines: list[str]) -> None:
    text = "\n".join(line.replace("\n", "") for line in lines)
    result = shown_lines(text)
    assert result.count("\n") == text.count("\n")
    assert not obeyed(result.replace("\n", ""))


@given(JSON_VALUES)
def test_shown_json_is_the_same_data_and_holds_nothing_a_terminal_obeys(value: object) -> None:
    for indent in (None, 2):
        text = shown_json(value, indent=indent)
        assert not obeyed(text.replace("\n", "") if indent else text)
        assert json.loads(text) == value


def test_each_escape_names_its_character() -> None:
    assert shown("\x1b]52;c;YQ==\x07") == "\\x1b]52;c;YQ==\\x07"
    assert shown("a\x00b\nc\x7f\x9b") == "a\\x00b\\x0ac\\x7f\\x9b"
    assert shown("\u202eabc\u2066\udcff") == "\\u202eabc\\u2066\\udcff"
    assert shown(None) == "" and shown(12) == "12"
    assert shown_json({"k": "\x1b\x85\u202e"}) == '{"k": "\\u001b\\u0085\\u202e"}'
