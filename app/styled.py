"""Text in pieces, each with a Rich style or none: what a command prints, turned into Rich's
`Text` only for a terminal, so output to a pipe or a file never imports Rich."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from rich.text import Text


class Styled(NamedTuple):
    """A line's text as (text, style) pieces; an empty style is the terminal's own."""

    pieces: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, *parts: Styled | str | tuple[str, str]) -> Styled:
        """Parts joined: styled text as it is, a string unstyled, a (text, style) pair."""
        pieces: list[tuple[str, str]] = []
        for part in parts:
            if isinstance(part, Styled):
                pieces.extend(part.pieces)
            elif isinstance(part, str):
                pieces.append((part, ""))
            else:
                pieces.append(part)
        return cls(tuple(pieces))

    @property
    def plain(self) -> str:
        """The text without its styles."""
        return "".join(text for text, _ in self.pieces)

    def rich(self) -> Text:
        """The same text as Rich's `Text` (never read as markup)."""
        from rich.text import Text  # only a terminal's output needs Rich

        return Text.assemble(*self.pieces)
