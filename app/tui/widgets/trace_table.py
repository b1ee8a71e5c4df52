"""The trace list's table: one row per loaded trace, keyed by trace id."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from store import TraceRow

from ...timeparse import format_duration, format_ns
from ..look import status_text

COLUMNS = (
    ("started (UTC)", 14),
    ("trigger", 13),
    ("status", 9),
    ("duration", 8),
    ("spans", 5),
    ("user", 17),
    ("ip", 15),
    ("message", None),
)
FIXED_WIDTH = sum(width or 0 for _, width in COLUMNS) + 2 * len(COLUMNS)


def row_cells(row: TraceRow, message_chars: int) -> tuple[object, ...]:
    """The cells of one trace; corrupt rows get a magenta mark, never an exception."""
    message = row.status_message or ""
    if row.problems:
        message = f"! {'; '.join(row.problems)}" + (f" · {message}" if message else "")
    if len(message) > message_chars:
        message = message[: message_chars - 1] + "…"
    return (
        format_ns(row.started_at)[5:],
        row.trigger_event,
        status_text(row.status, row.problems),
        Text(format_duration(row.duration_ms), justify="right"),
        Text(str(row.span_count), justify="right"),
        row.user_id or "",
        row.request_ip or "",
        Text(message, style="magenta" if row.problems else ""),
    )


class TraceTable(DataTable[object]):
    """A DataTable that can also put new rows on top while the cursor stays on its trace."""

    BINDINGS = [Binding("home", "scroll_top", "Newest trace", show=False)]

    def on_mount(self) -> None:
        """Fixed columns so the layout does not jump as pages arrive."""
        for label, width in COLUMNS:
            self.add_column(label, width=width, key=label)

    @property
    def message_chars(self) -> int:
        """Room left for the message, so rows fit the screen without scrolling sideways."""
        return max(16, max(self.size.width, self.app.size.width) - FIXED_WIDTH - 3)

    def append_rows(self, rows: list[TraceRow]) -> None:
        """Add rows at the bottom (the next page)."""
        room = self.message_chars
        for row in rows:
            if row.id not in self.rows:
                self.add_row(*row_cells(row, room), key=row.id)

    def replace_rows(self, rows: list[TraceRow]) -> None:
        """Show exactly `rows`, keeping the cursor on the same trace when it is still there."""
        current = self.current_id
        offset = self.cursor_row - int(self.scroll_y)
        self.clear()
        self.append_rows(rows)
        if current is not None and current in self.rows:
            index = self.get_row_index(current)
            self.move_cursor(row=index, scroll=False)
            self.scroll_to(y=max(0, index - offset), animate=False, immediate=True)

    @property
    def current_id(self) -> str | None:
        """The trace id under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return key.value
