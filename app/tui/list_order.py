"""The pages the trace list reads in either order, newest or oldest first, each by one keyset read:
the store lists newest first (`list_traces`, below a position) and reads the nearest traces above
a position (`list_newer`), so the oldest-first order reads the same two the other way round."""

from __future__ import annotations

from pipetrace.store import Cursor, Page, Repository, TraceFilter, TraceRow

BEFORE_EVERYTHING = Cursor(-(2**63), "")
"""A position before every trace: the nearest traces above it are the oldest."""


def first_page(repo: Repository, f: TraceFilter, size: int, oldest: bool) -> Page:
    """The list's first page: the newest traces, or the oldest."""
    if not oldest:
        return repo.list_traces(f, limit=size)
    return page_below(repo, f, BEFORE_EVERYTHING, size, oldest)


def page_below(repo: Repository, f: TraceFilter, after: Cursor, size: int, oldest: bool) -> Page:
    """The page under the row at `after`: older traces, or newer ones oldest first; its
    `next_cursor` is where the page after it begins (None at the end)."""
    if not oldest:
        return repo.list_traces(f, limit=size, cursor=after)
    rows = repo.list_newer(f, after, limit=size + 1)[::-1]
    beyond = repo.cursor_of(rows[size - 1]) if len(rows) > size else None
    return Page(rows[:size], beyond)


def page_above(repo: Repository, f: TraceFilter, before: Cursor, size: int, oldest: bool) -> Page:
    """The page over the row at `before`, in the list's order: newer traces, or older ones;
    its `next_cursor` is a position beyond it when more lie there (None: it reaches the end)."""
    if not oldest:
        newer = repo.list_newer(f, before, limit=size + 1)
        beyond = repo.cursor_of(newer[0]) if len(newer) > size else None
        return Page(newer[-size:], beyond)
    older = repo.list_traces(f, limit=size + 1, cursor=before).rows
    beyond = repo.cursor_of(older[size]) if len(older) > size else None
    return Page(older[:size][::-1], beyond)


def page_at(
    repo: Repository, f: TraceFilter, at: int | None, size: int, oldest: bool
) -> tuple[list[TraceRow], Cursor | None, Cursor | None, bool]:
    """The rows at time `at` in the list's order (None: at the far end, the oldest traces when
    newest first and the newest when oldest first), a position above them when traces lie
    there, where the rows below begin, and whether they end the list (when `at` comes before
    every trace, they are its oldest)."""
    rows: list[TraceRow] = []
    below = None
    if at is not None:
        start = Cursor(at + 1, "") if not oldest else Cursor(at, "")
        page = page_below(repo, f, start, size, oldest)
        rows, below = page.rows, page.next_cursor
    at_end = not rows
    if at_end and oldest and at is None:
        rows = repo.list_traces(f, limit=size).rows[::-1]
    elif at_end:
        page = page_below(repo, f, BEFORE_EVERYTHING, size, True)
        rows, below = (page.rows, page.next_cursor) if oldest else (page.rows[::-1], None)
        at_end = not oldest
    above = None
    if rows:
        nearest = page_above(repo, f, repo.cursor_of(rows[0]), 1, oldest).rows
        above = repo.cursor_of(nearest[0]) if nearest else None
    return rows, above, below, at_end
