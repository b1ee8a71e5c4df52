"""Durations over time as a braille scatter, errors and blocks in their colours (like Jaeger)."""

from __future__ import annotations

import math

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from ...timeparse import format_duration, format_ns
from ..app_data import app_data
from ..status_colours import SEVERITY, UNKNOWN_COLOUR, status_colour

Point = tuple[int, float | None, str]
# Braille dot bits by (column, row) inside one 2x4 cell.
DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
LABEL_W = 8


def scale(duration: float | None, low: float, top: float) -> float:
    """Where a duration sits between `low` and `top` on a log scale (missing ones at the bottom).

    The axis spans the durations shown rather than starting at zero, so traces of 50 µs and of
    200 ms land rows apart.
    """
    if duration is None or duration <= low or top <= low:
        return 0.0
    return min(1.0, math.log(duration / low) / math.log(top / low))


def axis_label(row: int, rows: int, low: float, top: float) -> str:
    """The duration at the top, middle and bottom rows of the axis; the others stay blank."""
    if row == 0:
        return format_duration(top)
    if row == rows - 1 and rows > 1:
        return format_duration(low)
    if row == (rows - 1) // 2 and rows > 3:
        return format_duration(math.sqrt(low * top))
    return ""


class DurationPlot(Widget):
    """Each dot is a trace; a cell takes the colour of the worst status among its dots."""

    DEFAULT_CSS = """
    DurationPlot {
        height: 8;
        border: round $primary 50%;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points: list[Point] = []
        self.window: tuple[int, int] | None = None
        self.beyond = (False, False)
        """Whether traces lie before / after the window (drawn at its edge, marked by arrows)."""

    @property
    def dot_columns(self) -> int:
        """How many dots wide the plot is (two per cell), so the store can sample one slice each."""
        width = self.size.width or self.app.size.width - 4  # before layout: less border, padding
        return 2 * max(4, width - LABEL_W - 1)

    def show(
        self,
        points: list[Point],
        window: tuple[int | None, int | None],
        beyond: tuple[bool, bool] = (False, False),
    ) -> None:
        """Plot `points` over `window` (None ends fall back to the points' own range); `beyond`
        says whether some lie before or after it, to be drawn at that edge."""
        self.points = points
        self.beyond = beyond
        times = [p[0] for p in points]
        start = window[0] if window[0] is not None else min(times, default=0)
        end = window[1] if window[1] is not None else max(times, default=0)
        self.window = (start, max(end, start + 1))
        self.refresh()

    def render(self) -> RenderableType:
        """The scatter, a duration scale on the left and the time range underneath."""
        width, height = self.size
        rows, cols = max(1, height - 1), max(4, width - LABEL_W - 1)
        if not self.points or self.window is None:
            return Text("no traces in this window", style="dim", justify="center")
        t0, t1 = self.window
        known = [p[1] for p in self.points if p[1] is not None and p[1] > 0]
        low, top = min(known, default=1.0), max(known, default=1.0)
        bits = [[0] * cols for _ in range(rows)]
        worst = [[-1] * cols for _ in range(rows)]
        for started, duration, status in self.points:
            # A trace beyond the axis (counted in the title) is drawn at its edge.
            x = min(cols * 2 - 1, max(0, int((started - t0) / (t1 - t0) * (cols * 2 - 1))))
            fraction = scale(duration, low, top)
            y = min(rows * 4 - 1, int(fraction * (rows * 4 - 1)))
            cell_row = rows - 1 - y // 4
            bits[cell_row][x // 2] |= DOTS[x % 2][3 - y % 4]
            severity = SEVERITY.get(status, 3) if duration is not None else 3
            worst[cell_row][x // 2] = max(worst[cell_row][x // 2], severity)
        colours = {0: status_colour("success"), 1: "yellow", 2: "red", 3: UNKNOWN_COLOUR}
        out = Text(no_wrap=True, overflow="crop")
        for r in range(rows):
            label = axis_label(r, rows, low, top)
            out.append(f"{label:>{LABEL_W}}┤", style="grey62")
            for c in range(cols):
                char = chr(0x2800 + bits[r][c]) if bits[r][c] else " "
                out.append(char, style=colours.get(worst[r][c], ""))
            out.append("\n")
        local = app_data(self).local_time
        left, right = format_ns(t0, local=local), format_ns(t1, local=local)
        if self.beyond[0]:
            left = f"◂ {left}"
        if self.beyond[1]:
            right = f"{right} ▸"
        legend = Text.assemble(
            ("● ok ", "green"),
            ("● blocked ", "yellow"),
            ("● error ", "red"),
            ("● bad row", "magenta"),
        )
        if cols - len(left) - len(right) - legend.cell_len < 2:
            legend = Text()  # a narrow plot keeps its time range rather than the colour key
        gap = max(2, cols - len(left) - len(right) - legend.cell_len)
        out.append(" " * (LABEL_W + 1) + left + " " * (gap // 2), style="grey62")
        out.append_text(legend)
        out.append(" " * (gap - gap // 2) + right, style="grey62")
        return out
