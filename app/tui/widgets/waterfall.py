"""The span waterfall: a Line API scroll view that renders only the rows on screen."""

from __future__ import annotations

import operator
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...timeparse import format_duration
from ...untrusted import shown
from ..span_tree import SpanTree
from ..status_colours import status_colour

CURSOR_BG = Style(bgcolor="#2f4f6f")
MATCH = Style(bgcolor="#6b5b00", bold=True)
AXIS = Style(color="grey62", bold=True)
CORRUPT = Style(color="magenta", bold=True)
MAX_INDENT = 16
NAME_MIN, NAME_MAX = 16, 44
"""The name column's width: what the longest name needs, within these bounds."""
STATS = 13
"""The layer (4) and duration (8 and a space) columns between the names and the bars."""


def name_need(tree: SpanTree) -> int:
    """Cells the longest name needs with its indent, arrow and mark, when all are expanded: read
    from the tree's columns, the names made safe to show (`shown`) first only if one needs it."""
    names = tree.spans.column("name")
    if not all(map(str.isprintable, names)):
        names = [shown(name) for name in names]
    indents = [2 * min(depth, MAX_INDENT) for depth in tree.depth]
    widths = list(map(operator.add, map(len, names), indents))
    widths += [widths[node] + 2 for node in tree.spans.damaged()]  # the "! " mark
    return max(widths) + 3 if widths else NAME_MIN  # the arrow and a space after the name


class Waterfall(ScrollView, can_focus=True, inherit_bindings=False):
    """Bars on one time axis per visible span; cursor moves touch two lines, not the tree.

    Only its own keys are bound: ScrollView's sideways paging would do nothing (bars fit the
    width) yet be listed in help.
    """

    DEFAULT_CSS = """
    Waterfall {
        overflow-x: hidden;
    }
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "jump(0)", "First span", show=False),
        Binding("end,ctrl+end", "jump(-1)", "Last span", show=False),
        Binding("left,h", "fold", "Collapse / parent", show=False),
        Binding("right,l", "unfold", "Expand / child", show=False),
        Binding("space,enter", "toggle_subtree", "Toggle subtree", show=False),
        Binding("minus", "collapse_all", "Collapse all", show=False),
        Binding("plus,equals_sign", "expand_all", "Expand all", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor is on another span."""

        waterfall: Waterfall
        node: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.span_tree: SpanTree | None = None
        self.cursor = 0
        self.matches: set[int] = set()
        self.name_need = NAME_MIN
        """Cells the longest name needs with its indent, arrow and mark, when all are expanded."""

    # -- data -------------------------------------------------------------------------------

    def show_tree(self, tree: SpanTree) -> None:
        """Display a freshly loaded tree with the cursor on its first span."""
        self.span_tree = tree
        self.matches = set()
        self.cursor = 0
        self.name_need = name_need(tree)
        self._resize_virtual()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        self._announce()

    def set_matches(self, nodes: list[int]) -> None:
        """Mark the spans a find matched."""
        self.matches = set(nodes)
        self.refresh()

    @property
    def current_node(self) -> int:
        """The node under the cursor, or -1 when there is none."""
        if self.span_tree is None or not self.span_tree.visible:
            return -1
        return self.span_tree.visible[self.cursor]

    def _resize_virtual(self) -> None:
        rows = len(self.span_tree.visible) if self.span_tree else 0
        self.virtual_size = Size(self.size.width, rows + 1)

    def _announce(self) -> None:
        if self.current_node >= 0:
            self.post_message(self.Highlighted(self, self.current_node))

    # -- cursor -----------------------------------------------------------------------------

    def move_to(self, row: int) -> None:
        """Put the cursor on a visible row, scrolling only when it leaves the view."""
        if self.span_tree is None or not self.span_tree.visible:
            return
        row = max(0, min(row, len(self.span_tree.visible) - 1))
        if row == self.cursor:
            return
        old, self.cursor = self.cursor, row
        self.refresh_line(old + 1)
        self.refresh_line(row + 1)
        self._scroll_to_cursor()
        self._announce()

    def select_node(self, node: int) -> None:
        """Reveal a node (expanding its ancestors) and put the cursor on it."""
        if self.span_tree is None:
            return
        before = len(self.span_tree.visible)
        row = self.span_tree.reveal(node)
        if len(self.span_tree.visible) != before:
            self._resize_virtual()
            self.refresh()
        if row == self.cursor:
            self._scroll_to_cursor()
            self._announce()
        else:
            self.move_to(row)

    def _view_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        view = self._view_rows()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + view:
            self.scroll_to(y=self.cursor - view + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        """Move the cursor by `step` rows."""
        self.move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        """Move the cursor by one screen."""
        self.move_to(self.cursor + direction * self._view_rows())

    def action_jump(self, row: int) -> None:
        """First row (0) or last row (-1)."""
        if self.span_tree is not None:
            self.move_to(row if row >= 0 else len(self.span_tree.visible) - 1)

    # -- folding ----------------------------------------------------------------------------

    def _refold(self, keep: int) -> None:
        """After the tree's visible rows changed: keep the cursor on `keep` and redraw."""
        assert self.span_tree is not None
        self._resize_virtual()
        self.cursor = max(0, self.span_tree.row_of[keep]) if keep >= 0 else 0
        self._scroll_to_cursor()
        self.refresh()

    def action_toggle_subtree(self) -> None:
        """Collapse or expand the subtree under the cursor."""
        node = self.current_node
        if self.span_tree is not None and node >= 0 and self.span_tree.children[node]:
            self.span_tree.toggle(node)
            self._refold(node)

    def action_fold(self) -> None:
        """Collapse the subtree, or go to the parent when it is already collapsed."""
        node = self.current_node
        if self.span_tree is None or node < 0:
            return
        if self.span_tree.set_collapsed(node, True):
            self._refold(node)
        elif self.span_tree.parent[node] >= 0:
            self.move_to(self.span_tree.row_of[self.span_tree.parent[node]])

    def action_unfold(self) -> None:
        """Expand the subtree, or go to the first child when it is already open."""
        node = self.current_node
        if self.span_tree is None or node < 0:
            return
        if self.span_tree.set_collapsed(node, False):
            self._refold(node)
        elif self.span_tree.children[node]:
            self.move_to(self.cursor + 1)

    def action_collapse_all(self) -> None:
        """Show only the roots."""
        if self.span_tree is not None:
            node = self.current_node
            while node >= 0 and self.span_tree.parent[node] >= 0:
                node = self.span_tree.parent[node]
            self.span_tree.collapse_all()
            self._refold(node)
            self._announce()

    def action_expand_all(self) -> None:
        """Open every subtree."""
        if self.span_tree is not None:
            node = self.current_node
            self.span_tree.expand_all()
            self._refold(node)

    # -- mouse ------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        """Click selects a span; a double click or a click on its arrow folds it."""
        offset = event.get_content_offset(self)
        if offset is None or self.span_tree is None or offset.y == 0:
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if not 0 <= row < len(self.span_tree.visible):
            return
        self.move_to(row)
        node = self.span_tree.visible[row]
        arrow = 2 * min(self.span_tree.depth[node], MAX_INDENT)
        if event.chain == 2 or arrow <= offset.x <= arrow + 1:
            self.action_toggle_subtree()

    def on_resize(self) -> None:
        """Bars are scaled to the width, so a new width means a new virtual size."""
        self._resize_virtual()

    # -- rendering --------------------------------------------------------------------------

    def _columns(self, width: int) -> tuple[int, int]:
        """Widths of the name column and the bar area: names as wide as they need, as long as
        the bars keep a third of the width; the bars never run past the edge."""
        room = width - STATS - max(10, width // 3)
        name = max(NAME_MIN, min(self.name_need, NAME_MAX, room))
        name = max(1, min(name, width - STATS - 1))
        return name, max(1, width - name - STATS)

    def render_line(self, y: int) -> Strip:
        """One screen line: the axis on top, then the span rows under the scroll offset."""
        width = self.scrollable_content_region.width
        if y == 0:
            return self._axis(width)
        row = int(self.scroll_offset.y) + y - 1
        if self.span_tree is None or not 0 <= row < len(self.span_tree.visible):
            return Strip.blank(width, self.rich_style)
        return self._row(self.span_tree.visible[row], row == self.cursor, width)

    def _axis(self, width: int) -> Strip:
        name_w, bar_w = self._columns(width)
        total = (self.span_tree.end_ns - self.span_tree.start_ns) / 1e6 if self.span_tree else 0.0
        mid = format_duration(total / 2)
        end = format_duration(total)
        gap = max(1, (bar_w - len(mid)) // 2 - 1)
        ticks = f"0{' ' * gap}{mid}"
        if len(ticks) + 1 + len(end) > bar_w:
            ticks = "0"  # too narrow for the middle tick: the end is what matters
        ticks = f"{ticks}{' ' * max(1, bar_w - len(ticks) - len(end))}{end}"
        text = f"{'span':<{name_w}}{'lyr':<4}{'duration':>8} {ticks}"
        return Strip([Segment(text[:width].ljust(width), AXIS)], width)

    def _row(self, node: int, at_cursor: bool, width: int) -> Strip:
        tree = self.span_tree
        assert tree is not None
        span = tree.spans[node]
        name_w, bar_w = self._columns(width)
        base = self.rich_style + CURSOR_BG if at_cursor else self.rich_style
        colour = Style(color=status_colour(span.status))
        depth = tree.depth[node]
        indent = "  " * min(depth, MAX_INDENT)
        arrow = ("▸ " if node in tree.collapsed else "▾ ") if tree.children[node] else "  "
        mark = "! " if span.problems else ""
        name_room = max(1, name_w - len(indent) - 2 - len(mark) - 1)
        name = shown(span.name)
        name = name if len(name) <= name_room else name[: name_room - 1] + "…"
        name_style = base + colour + (MATCH if node in self.matches else Style())
        layer = f"L{span.layer_index}" if span.layer_index is not None else ""
        used = len(indent) + 2 + len(mark) + len(name)
        segments = [
            Segment(indent + arrow, base),
            Segment(mark, base + CORRUPT),
            Segment(name, name_style),
            Segment(" " * max(1, name_w - used), base),
            Segment(f"{layer:<4}", base + Style(color="cyan")),
            Segment(f"{format_duration(span.duration_ms):>8} ", base),
        ]
        segments += self._bar(span.started_at, tree.span_end(span), bar_w, base + colour)
        strip = Strip(segments)
        return strip.adjust_cell_length(width, base)

    def _bar(self, start: int, end: int, width: int, style: Style) -> list[Segment]:
        tree = self.span_tree
        assert tree is not None
        scale = width / (tree.end_ns - tree.start_ns)
        left = min(width - 1, max(0, int((start - tree.start_ns) * scale)))
        right = min(width, max(left + 1, round((end - tree.start_ns) * scale)))
        return [
            Segment(" " * left, style),
            Segment("█" * (right - left), style),
            Segment(" " * (width - right), style),
        ]
