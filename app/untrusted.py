"""Text from traces, imports, files and typists made safe to show, in one place for the viewer and
the command line: every character a terminal could obey instead of show (controls, escape
sequences, bidirectional overrides) appears as a visible escape, so stored text cannot drive the
operator's terminal."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pipetrace.store.json_escapes import OBEYED_BEYOND_C0, escape_json_text, json_safe

from .styled import Styled

if TYPE_CHECKING:
    from rich.text import Text

_OBEYED = f"[\\x00-\\x1f{OBEYED_BEYOND_C0}\\ud800-\\udfff]"
"""C0 controls (ESC, NUL, tab and line breaks too), DEL, C1 controls, bidirectional controls,
line and paragraph separators, and lone surrogates (which no terminal encoding can carry)."""


def shown(value: object) -> str:
    """`value` as text to show: each character a terminal would obey becomes a visible escape,
    `\\x1b` below U+0100 and `\\u202e` above; None is empty."""
    text = "" if value is None else str(value)
    if text.isprintable():  # every character _OBEYED matches is unprintable: the common case
        return text
    return re.sub(_OBEYED, _escape, text)  # compiled once, by `re`'s own cache


def _escape(found: re.Match[str]) -> str:
    """The visible escape of one character a terminal would obey."""
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown_lines(text: str) -> str:
    """Text pipetrace lays out in lines (a traceback) with each line `shown`: its line feeds
    kept, every other character a terminal would obey escaped."""
    return "\n".join(shown(line) for line in text.split("\n"))


def shown_source_lines(text: str) -> list[str]:
    """A script's source as lines to show: each line `shown`, its tabs first laid out as spaces
    (every 4 columns) so indentation reads as indentation rather than `\\x09`."""
    lines = text.removesuffix("\n").split("\n")
    return [shown(line.removesuffix("\r").expandtabs(4)) for line in lines]


def shown_text(value: object, style: str = "") -> Text:
    """`value` shown as Rich text: escaped as `shown` does, and never read as markup or emoji."""
    from rich.text import Text  # imported here, so a command printing to a pipe never loads it

    return Text(shown(value), style=style)


def shown_styled(value: object, style: str = "") -> Styled:
    """`value` shown as a command prints it: escaped as `shown` does, in `style` on a terminal
    (where it becomes Rich text, never read as markup or emoji)."""
    return Styled(((shown(value), style),))


def shown_json(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Stored data as JSON to show: exact JSON (stored NaN as proto3's strings), UTF-8 text kept
    readable, and every character a terminal would obey as a \\u escape (JSON escapes the
    controls itself, `escape_json_text` the rest), so it can be shown and pasted as it is."""
    text = json.dumps(
        json_safe(value), indent=indent, sort_keys=sort_keys, ensure_ascii=False, default=str
    )
    return escape_json_text(text)
