"""The span tree behind the waterfall: built once, flattened again only on expand or collapse."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pipetrace.store import SpanRow, TraceRow
from pipetrace.store.span_outline import SpanOutline

FAILED = frozenset({"error", "blocked"})
"""Span statuses an operator jumps to: what the list's "every failure" filter also means."""


class SpanTree:
    """Spans as a forest by parent span id; `visible` lists the node indices shown, in order.

    Spans whose parent is missing (or that sit in a parent cycle) become roots, so every span
    is shown exactly once whatever the stored data looks like. The tree is built from the
    outline's columns (`SpanOutline`), so no span becomes an object until it is drawn or looked
    at, and a tree of any size is built at once.
    """

    def __init__(self, trace: TraceRow, spans: SpanOutline | Sequence[SpanRow]) -> None:
        self.trace = trace
        self.spans = spans if isinstance(spans, SpanOutline) else SpanOutline.of(spans)
        n = len(self.spans)
        ids = self.spans.column("id")
        first = dict(zip(reversed(ids), range(n - 1, -1, -1), strict=True))
        """Each id's first span: a later span with the same id is no one's parent."""
        parents = [first.get(p or "", -1) for p in self.spans.column("parent_span_id")]
        self.parent = [-1 if p == i else p for i, p in enumerate(parents)]
        self.children: list[list[int]] = [[] for _ in range(n)]
        for index, parent in enumerate(self.parent):
            if parent >= 0:
                self.children[parent].append(index)
        self.depth = [0] * n
        self.collapsed: set[int] = set()
        self._haystack: list[str] | None = None
        self.order = self._preorder([i for i, p in enumerate(self.parent) if p < 0])
        if len(self.order) < n:
            self._break_cycles()
        self.position = [0] * n
        for pos, node in enumerate(self.order):
            self.position[node] = pos
        self.start_ns, self.end_ns = self._bounds()
        self.visible = list(self.order)
        """Nothing is collapsed yet: every span shows, in tree order."""
        self.row_of = list(self.position)

    def _preorder(self, roots: list[int]) -> list[int]:
        """Depth-first order without recursion, so deep trees cannot overflow the stack; each
        node has one parent, so no node is met twice."""
        out: list[int] = []
        children, depth = self.children, self.depth
        stack = roots[::-1]
        while stack:
            node = stack.pop()
            out.append(node)
            kids = children[node]
            if kids:
                below = depth[node] + 1
                for kid in kids:
                    depth[kid] = below
                stack.extend(reversed(kids))
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
                self.depth[node] = 0
                cut = self._preorder([node])
                seen.update(cut)
                self.order += cut

    def _bounds(self) -> tuple[int, int]:
        """The time axis: the trace's own span of time, widened to hold every span."""
        start = min(self.spans.column("started_at"), default=self.trace.started_at)
        start = min(start, self.trace.started_at)
        ends = self.spans.column("ended_at")
        if None in ends:
            ends = [self.span_end(self.spans[i]) if e is None else e for i, e in enumerate(ends)]
        end = max(max(ends, default=start), self.trace.ended_at or start)
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
        return self.spans.whole(node)

    def failures(self) -> list[int]:
        """Nodes whose span errored or blocked, or whose row is corrupt: where to look first."""
        damaged = self.spans.damaged()
        statuses = self.spans.column("status")
        return [i for i, s in enumerate(statuses) if s in FAILED or i in damaged]

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
