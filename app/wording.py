"""Counts with their nouns in the right number, so no message says "1 traces"."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """The noun as `count` of it reads: "trace" for 1, "traces" otherwise (or `many`)."""
    return noun if count == 1 else (many or f"{noun}s")


def counted(count: int, noun: str, many: str | None = None, *, grouped: bool = False) -> str:
    """A count and its noun: "1 trace", "0 traces"; `grouped` writes 1,204 as the viewer does."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {plural(count, noun, many)}"


def count_figure(count: int, cap: int | None, *, grouped: bool = False) -> str:
    """A count as a figure; past a store's cap (its counts stop there) "more than" the cap."""
    if cap is not None and count > cap:
        return f"more than {cap:,}" if grouped else f"more than {cap}"
    return f"{count:,}" if grouped else str(count)
