"""The trace list's table: one row per loaded trace, keyed by trace id, fitted to its width."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from pipetrace.store import TraceRow

from ...deciders import NOBODY, Decider
from ...short_ids import SHORT_DIGITS, short_id
from ...timeparse import NS, format_duration, format_ns, zone_name
from ...untrusted import shown_text
from ..app_data import app_data
from ..lifetime import bound
from ..status_colours import status_text

STARTED = "started"
"""The started column's key; its heading names the zone its times are in."""
DATED, UNDATED = 19, 14
"""The started column with its year (YYYY-MM-DD HH:MM:SS) and without it (MM-DD HH:MM:SS)."""
COLUMNS = (
    (STARTED, UNDATED),
    ("trace id", SHORT_DIGITS),
    ("trigger", 13),
    ("status", 9),
    ("by", 16),
    ("duration", 8),
    ("spans", 5),
    ("user", 12),
    ("ip", 15),
    ("message", None),
)
"""Every column and its width; the message takes the room the others leave. `by` names the
script that blocked the trace, or the one that failed in it."""
DROPPED_FIRST = ("trace id", "spans", "ip", "user", "by", "duration")
"""Columns given up, in this order, until the message has MIN_MESSAGE characters: the trace id
shows only on a wide terminal, the deciding script on all but narrow ones."""
MIN_MESSAGE = 24
PADDING = 2
"""A cell's padding, one character either side."""


def fit(text: Text, width: int) -> Text:
    """A cell cut to `width` characters, with an ellipsis when something was cut."""
    if text.cell_len <= width:
        return text
    cut = text.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut


def layout(width: int, dated: bool = False) -> dict[str, int]:
    """The columns shown in `width` characters and their widths, in order, the message last;
    `dated` widens the started column to hold the year."""
    shown = {label: size for label, size in COLUMNS if size is not None}
    if dated:
        shown[STARTED] = DATED
    dropped = list(DROPPED_FIRST)
    while True:
        message = width - sum(size + PADDING for size in shown.values()) - PADDING
        if message >= MIN_MESSAGE or not dropped:
            return shown | {"message": max(1, message)}
        del shown[dropped.pop(0)]


def year_of(ns: int) -> tuple[int, int]:
    """The UTC year holding `ns`, as [start, end) in Unix ns."""
    year = datetime.fromtimestamp(ns / NS, tz=UTC).year
    start, end = (datetime(y, 1, 1, tzinfo=UTC) for y in (year, year + 1))
    return int(start.timestamp()) * NS, int(end.timestamp()) * NS


def fitted_layout(width: int, rows: list[TraceRow], now_ns: int) -> dict[str, int]:
    """The columns for `rows`: dated when a row is not from the year of `now_ns` (so a 2019 trace
    never reads as this year's), or when the year costs no other column."""
    start, end = year_of(now_ns)
    dated = layout(width, dated=True)
    if any(not start <= row.started_at < end for row in rows):
        return dated
    undated = layout(width)
    return dated if dated.keys() == undated.keys() else undated


def row_cells(
    row: TraceRow, sizes: dict[str, int], decider: Decider = NOBODY, local: bool = False
) -> list[object]:
    """The cells of one trace for the columns in `sizes`, stored text shown (never obeyed);
    corrupt rows get a magenta mark."""
    message = row.status_message or ""
    if row.problems:
        message = f"! {'; '.join(row.problems)}" + (f" · {message}" if message else "")
    if row.replay_of:
        message = f"↻ replay of {row.replay_of[:8]}" + (f" · {message}" if message else "")
    started = format_ns(row.started_at, local=local)
    cells = {
        STARTED: Text(started if sizes[STARTED] >= DATED else started[5:]),
        "trace id": Text(short_id(row.id), style="dim"),
        "trigger": shown_text(row.trigger_event),
        "status": status_text(row.status, row.problems),
        "by": shown_text(decider.shown, style="" if decider.blocked_by else "red"),
        "duration": Text(format_duration(row.duration_ms), justify="right"),
        "spans": Text(str(row.span_count), justify="right"),
        "user": shown_text(row.user_id),
        "ip": shown_text(row.request_ip),
        "message": shown_text(message, style="magenta" if row.problems else ""),
    }
    return [fit(cell, sizes[name]) for name, cell in cells.items() if name in sizes]


class TraceTable(DataTable[object], inherit_bindings=False):
    """A DataTable that can also put new rows on top while the cursor stays on its trace.

    Only keys that do something here are bound (so help lists no sideways scrolling: the rows
    always fit the width), and home / end go to the first / last row as in the waterfall.
    """

    class NewestWanted(Message):
        """Home was pressed while newer traces than the first row were left out."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "scroll_top", "Newest trace", show=False),
        Binding("end,ctrl+end", "scroll_bottom", "Last loaded row", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        """DataTable's own options; the rows start empty."""
        super().__init__(**kwargs)
        self.traces: list[TraceRow] = []
        self.fitted: dict[str, int] = {}
        """The columns shown and their widths."""
        self.fitted_width = 0
        """The width the columns were fitted to."""
        self.newer_above = False
        """Whether newer traces than the first row were left out (the list's owner says)."""
        self.deciders: dict[str, Decider] = {}
        """The script that blocked (or failed in) each shown trace that has one (the list's
        owner reads them with the rows)."""

    def on_mount(self) -> None:
        """Columns for the screen's width until the table knows its own."""
        self._fit(self.app.size.width, self.traces)

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns again, so the message always takes the rest of a new width; the
        cursor stays on its trace (rebuilding the columns drops the rows)."""
        current, offset = self.current_id, self.cursor_row - int(self.scroll_y)
        if self._fit(event.size.width, self.traces):
            self._refill(self.traces, current, offset)

    def _fit(self, width: int, rows: list[TraceRow]) -> bool:
        """Lay the columns out for `width` (less a scrollbar) and `rows`' years; True when they
        changed (which drops the rows)."""
        self.fitted_width = width
        now = app_data(self).clock()
        fitted = fitted_layout(width - self.styles.scrollbar_size_vertical, rows, now)
        if fitted == self.fitted:
            return False
        self.fitted = fitted
        self.clear(columns=True)
        zone = zone_name(app_data(self).local_time, now)
        for label, size in fitted.items():
            shown = f"started ({zone})" if label == STARTED else label
            self.add_column(shown, width=size, key=label)
        return True

    def show_times(self) -> None:
        """Lay the columns out again and show every row's time in the zone now chosen."""
        self.fitted = {}
        current, offset = self.current_id, self.cursor_row - int(self.scroll_y)
        self._fit(self.fitted_width, self.traces)
        self._refill(self.traces, current, offset)

    def append_rows(self, rows: list[TraceRow]) -> None:
        """Add rows at the bottom (the next page); the first row of another year dates them all."""
        current, offset = self.current_id, self.cursor_row - int(self.scroll_y)
        if self._fit(self.fitted_width, self.traces + rows):
            self._refill(self.traces + rows, current, offset)
            return
        for row in rows:
            if row.id not in self.rows:
                self.traces.append(row)
                decider = self.deciders.get(row.id, NOBODY)
                local = app_data(self).local_time
                self.add_row(*row_cells(row, self.fitted, decider, local), key=row.id)

    def know_deciders(self, found: dict[str, Decider]) -> None:
        """The deciding scripts of rows about to be shown; those of rows no longer shown go."""
        shown = {row.id for row in self.traces}
        self.deciders = {k: v for k, v in self.deciders.items() if k in shown} | found

    def show_rows(self, rows: list[TraceRow]) -> None:
        """Show exactly `rows` with the cursor on the first."""
        self.clear()
        self.traces = []
        self.append_rows(rows)
        self.move_cursor(row=0)

    def replace_rows(self, rows: list[TraceRow]) -> None:
        """Show exactly `rows`, keeping the cursor on the same trace when it is still there
        (else on the same row)."""
        self._refill(rows, self.current_id, self.cursor_row - int(self.scroll_y))

    def _refill(self, rows: list[TraceRow], current: str | None, offset: int) -> None:
        """Show `rows` with the cursor on `current`, `offset` rows below the top; on the row
        it was on when `current` is gone."""
        before = self.cursor_row
        self.clear()
        self.traces = []
        self.append_rows(rows)
        if not self.row_count:
            return
        if current is not None and current in self.rows:
            index = self.get_row_index(current)
        else:
            index = min(before, self.row_count - 1)
        self.move_cursor(row=index, scroll=False)
        self.scroll_to(y=max(0, index - offset), animate=False, immediate=True)
        # Rows added on top are not measured yet, so the scroll above stops short of them;
        # once they are, the cursor's trace goes back to where it was on screen.
        self.call_after_refresh(
            bound(self, self.scroll_to), y=max(0, index - offset), animate=False, immediate=True
        )

    def action_scroll_top(self) -> None:
        """The first row; with newer traces left out above it, ask for them too."""
        if self.newer_above:
            self.post_message(self.NewestWanted())
        super().action_scroll_top()

    @property
    def current_id(self) -> str | None:
        """The trace id under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return key.value
