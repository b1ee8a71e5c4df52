"""The part of a newest-first, keyset-paged list that is held in memory, so it stays bounded."""

from __future__ import annotations

from collections.abc import Callable

from pipetrace.store import Cursor, Page, TraceRow


def cursor_of(row: TraceRow) -> Cursor:
    """The keyset position of `row` in pipetrace's own stores (start time, then id)."""
    return Cursor(row.started_at, row.id)


class RowWindow:
    """At most `limit` consecutive rows of the list, and where the rows around them begin.

    A page read past one end that makes them more than `limit` lets rows go at the other end,
    down to `keep` rows, so scrolling back reads them again instead of holding everything
    ever scrolled through (and the rows kept are not shown again page after page). The row
    under the cursor (`holding`) keeps `margin` rows on the side that lets go, within the
    limit, so the cursor is not left at that end, where it would read them back at once.
    """

    def __init__(self, limit: int, keep: int, margin: int) -> None:
        self.limit = limit
        self.keep = keep
        self.margin = margin
        self.position: Callable[[TraceRow], Cursor] = cursor_of
        """A row's keyset position in the store's order (the open store's `cursor_of`: an
        auther store lists traces by when they were written)."""
        self.rows: list[TraceRow] = []
        """Newest first."""
        self.above: Cursor | None = None
        """A keyset position just above the first row when newer rows were left out (scrolled
        past); None when the rows begin with the newest."""
        self.below: Cursor | None = None
        """Where the rows under the last one begin; None at the end of the list."""
        self.version = 0
        """Counts changes, so an answer read for an earlier state can be told apart."""

    def sort_key(self, row: TraceRow) -> tuple[int, str]:
        """Where `row` sorts in the list (the greatest first)."""
        at = self.position(row)
        return at.started_at, at.trace_id

    def _set(self, rows: list[TraceRow], above: Cursor | None, below: Cursor | None) -> None:
        self.rows, self.above, self.below = rows, above, below
        self.version += 1

    def start(self, page: Page) -> None:
        """The list's first page."""
        self._set(list(page.rows[: self.limit]), None, page.next_cursor)

    def jump(self, rows: list[TraceRow], above: Cursor | None, below: Cursor | None) -> None:
        """Rows read from elsewhere in the list (a typed time, the oldest end), in place of
        these, with where the rows around them begin."""
        self._set(list(rows[: self.limit]), above, below)

    def add_older(self, page: Page, holding: int) -> bool:
        """The page read below the last row; True when rows on top had to go."""
        known = {r.id for r in self.rows}
        rows = self.rows + [r for r in page.rows if r.id not in known]
        over = len(rows) - self.limit
        cut = max(over, min(len(rows) - self.keep, holding - self.margin)) if over > 0 else 0
        self._set(rows[cut:], self.position(rows[cut - 1]) if cut else self.above, page.next_cursor)
        return cut > 0

    def add_newer(self, page: Page, holding: int) -> None:
        """The page read above the first row, its `next_cursor` a position above it (None: it
        reaches the newest row); past the limit, rows at the bottom go."""
        known = {r.id for r in self.rows}
        added = [r for r in page.rows if r.id not in known]
        rows = added + self.rows
        held = len(added) + holding + 1 + self.margin
        kept = rows[: max(self.keep, min(held, self.limit))] if len(rows) > self.limit else rows
        below = self.position(kept[-1]) if len(kept) < len(rows) else self.below
        self._set(kept, page.next_cursor, below)

    def reread_limit(self, page_size: int) -> int:
        """How many rows to read again from `above` to refresh these: as many as there are
        (at least a page) and, from the top, a page more for new rows."""
        return max(len(self.rows), page_size) + (page_size if self.above is None else 0)

    def refresh(self, page: Page, page_size: int) -> int:
        """The rows read again from `above` (`reread_limit` of them); returns how many are new on
        top. The rows reach as far down as before and are as many as before (rows from below
        take the place of deleted ones), within the limit."""
        if not self.rows:
            keep, fresh = page_size, 0
        else:
            top, bottom = self.sort_key(self.rows[0]), self.sort_key(self.rows[-1])
            fresh = sum(self.sort_key(r) > top for r in page.rows) if self.above is None else 0
            reaching = sum(self.sort_key(r) >= bottom for r in page.rows)
            keep = max(len(self.rows), reaching)
        rows = page.rows[: min(keep, self.limit)]
        more = len(rows) < len(page.rows) or page.next_cursor is not None
        below = self.position(rows[-1]) if more and rows else None
        if rows != self.rows or below != self.below:
            self._set(rows, self.above, below)
        return fresh
