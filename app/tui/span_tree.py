"""The span tree behind the waterfall: built once, flattened again only on expand or collapse."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pipetrace.store import SpanRow, TraceRow
from pipetrace.store.codec import span_from_row

FAILED = frozenset({"error", "blocked"})
"""Span statuses an operator jumps to: what the list's "every failure" filter also means."""


class SpanTree:
    """Spans as a forest by parent span id; `visible` lists the node indices shown, in order.

    Spans whose parent is missing (or that sit in a parent cycle) become roots, so every span
    is shown exactly once whatever the stored data looks like. A span may come without its
    attributes and extra, with its stored row in `undecoded` (see `TraceOutline`): `span`
    reads them when the span is looked at, so a tree of any size is built at once.
    """

    def __init__(
        self,
        trace: TraceRow,
        spans: list[SpanRow],
        undecoded: list[tuple[Any, ...] | None] | None = None,
    ) -> None:
        self.trace = trace
        self.spans = spans
        self.undecoded = undecoded or [None] * len(spans)
        n = len(spans)
        self.parent = [-1] * n
        self.children: list[list[int]] = [[] for _ in range(n)]
        self.depth = [0] * n
        self.collapsed: set[int] = set()
        self._haystack: list[str] | None = None
        by_id: dict[str, int] = {}
        for index, span in enumerate(spans):
            by_id.setdefault(span.id, index)
        for index, span in enumerate(spans):
            parent = by_id.get(span.parent_span_id or "", -1)
            if parent != index and parent >= 0:
                self.parent[index] = parent
                self.children[parent].append(index)
        self.order = self._preorder(i for i in range(n) if self.parent[i] < 0)
        if len(self.order) < n:
            self._break_cycles()
        self.position = [0] * n
        for pos, node in enumerate(self.order):
            self.position[node] = pos
        self.start_ns, self.end_ns = self._bounds()
        self.visible: list[int] = []
        self.row_of: list[int] = []
        self.flatten()

    def _preorder(self, roots: Iterable[int], seen: set[int] | None = None) -> list[int]:
        """Depth-first order without recursion, so deep trees cannot overflow the stack."""
        seen = set() if seen is None else seen
        out: list[int] = []
        stack = list(reversed(list(roots)))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            out.append(node)
            parent = self.parent[node]
            self.depth[node] = self.depth[parent] + 1 if parent >= 0 else 0
            stack.extend(reversed(self.children[node]))
        return out

    def _break_cycles(self) -> None:
        """Nodes only reachable through a parent cycle are cut loose and shown as roots."""
        seen = set(self.order)
        for node in range(len(self.spans)):
            if node not in seen:
                old = self.parent[node]
                if old >= 0:
                    self.children[old].remove(node)
                self.parent[node] = -1
                self.order += self._preorder([node], seen)

    def _bounds(self) -> tuple[int, int]:
        """The time axis: the trace's own span of time, widened to hold every span."""
        start = self.trace.started_at
        end = self.trace.ended_at or start
        for span in self.spans:
            start = min(start, span.started_at)
            end = max(end, self.span_end(span))
        return start, max(end, start + 1)

    @staticmethod
    def span_end(span: SpanRow) -> int:
        """Where a span's bar ends, even when its end time is missing."""
        if span.ended_at is not None:
            return span.ended_at
        if span.duration_ms is not None and span.duration_ms > 0:
            return span.started_at + int(span.duration_ms * 1_000_000)
        return span.started_at

    def flatten(self) -> None:
        """Recompute the visible rows; called only when something expands or collapses."""
        visible: list[int] = []
        stack = [i for i in reversed(self.order) if self.parent[i] < 0]
        while stack:
            node = stack.pop()
            visible.append(node)
            if node not in self.collapsed:
                stack.extend(reversed(self.children[node]))
        self.visible = visible
        row_of = [-1] * len(self.spans)
        for row, node in enumerate(visible):
            row_of[node] = row
        self.row_of = row_of

    def toggle(self, node: int) -> None:
        """Collapse an open subtree or open a collapsed one."""
        if not self.children[node]:
            return
        if node in self.collapsed:
            self.collapsed.discard(node)
        else:
            self.collapsed.add(node)
        self.flatten()

    def set_collapsed(self, node: int, collapsed: bool) -> bool:
        """Collapse or expand one node; says whether anything changed."""
        if not self.children[node] or (node in self.collapsed) == collapsed:
            return False
        self.toggle(node)
        return True

    def collapse_all(self) -> None:
        """Fold every node that has children, leaving only the roots."""
        self.collapsed = {i for i, kids in enumerate(self.children) if kids}
        self.flatten()

    def expand_all(self) -> None:
        """Open every node."""
        self.collapsed.clear()
        self.flatten()

    def reveal(self, node: int) -> int:
        """Expand the ancestors of `node` so it is shown; returns its row."""
        changed = False
        parent = self.parent[node]
        while parent >= 0:
            if parent in self.collapsed:
                self.collapsed.discard(parent)
                changed = True
            parent = self.parent[parent]
        if changed:
            self.flatten()
        return self.row_of[node]

    def next_in_order(self, node: int, candidates: list[int], step: int = 1) -> int | None:
        """The candidate after (or before, step -1) `node` in tree order, wrapping around."""
        if not candidates:
            return None
        pos = self.position[node] if node >= 0 else -1
        ordered = sorted(candidates, key=self.position.__getitem__)
        if step > 0:
            later = [c for c in ordered if self.position[c] > pos]
            return later[0] if later else ordered[0]
        earlier = [c for c in ordered if self.position[c] < pos]
        return earlier[-1] if earlier else ordered[-1]

    def span(self, node: int) -> SpanRow:
        """The span at `node` with its attributes and extra, read from its row the first time."""
        values = self.undecoded[node]
        if values is not None:
            self.spans[node] = span_from_row(values)
            self.undecoded[node] = None
        return self.spans[node]

    def failures(self) -> list[int]:
        """Nodes whose span errored or blocked, or whose row is corrupt: where to look first."""
        return [i for i, s in enumerate(self.spans) if s.status in FAILED or s.problems]

    def find(self, query: str) -> list[int]:
        """Nodes whose name or attributes contain `query`, ignoring case."""
        needle = query.strip().lower()
        if not needle:
            return []
        if self._haystack is None:
            self._haystack = [
                f"{s.name}\n{s.script_id or ''}\n{s.status_message or ''}\n"
                f"{json.dumps(s.attributes, ensure_ascii=False, default=str)}".lower()
                for s in map(self.span, range(len(self.spans)))
            ]
        return [i for i, text in enumerate(self._haystack) if needle in text]
