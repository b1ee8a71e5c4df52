"""The waterfall's tree model: odd parentage, folding and ordering."""

from __future__ import annotations

from pipetrace.app.tui.span_tree import SpanTree
from pipetrace.store import SpanRow, TraceRow

T = "a" * 32


def span(span_id: str, parent: str | None, start: int, status: str = "success") -> SpanRow:
    return SpanRow(T, span_id, f"s{span_id}", status, start, parent, ended_at=start + 10)


def trace() -> TraceRow:
    return TraceRow(T, "before_signup", "success", 0, ended_at=100)


def test_missing_parents_and_cycles_become_roots() -> None:
    """Orphans, self-parents and a parent cycle are each shown once; the cycle gets a root."""
    spans = [
        span("1", None, 0),
        span("2", "1", 1),
        span("3", "missing", 2),
        span("4", "5", 3),
        span("5", "4", 4),
        span("6", "6", 5),
    ]
    tree = SpanTree(trace(), spans)
    assert sorted(tree.visible) == list(range(6))
    roots = [n for n in tree.visible if tree.parent[n] < 0]
    assert {spans[n].id for n in roots} == {"1", "3", "6", "4"}
    assert tree.parent[4] == 3, "the cycle is cut once: 5 stays under 4"


def test_fold_reveal_and_order() -> None:
    """Collapsing hides a subtree; revealing a hidden node opens its ancestors."""
    spans = [span("1", None, 0), span("2", "1", 1), span("3", "2", 2), span("4", None, 3)]
    tree = SpanTree(trace(), spans)
    assert tree.visible == [0, 1, 2, 3]
    tree.collapse_all()
    assert tree.visible == [0, 3]
    assert tree.reveal(2) == 2
    assert tree.visible == [0, 1, 2, 3]
    assert tree.next_in_order(3, [1, 2], 1) == 1
    assert tree.next_in_order(1, [1, 2], -1) == 2


def test_find_matches_names_and_attributes() -> None:
    """Find looks in names, messages and attribute JSON, ignoring case."""
    spans = [span("1", None, 0), span("2", "1", 1, status="error")]
    spans[1].attributes = {"lua.error": "Attempt to index NIL"}
    tree = SpanTree(trace(), spans)
    assert tree.find("index nil") == [1]
    assert tree.find("S1") == [0]
    assert tree.failures() == [1]


def test_failures_are_errored_blocked_and_damaged_spans() -> None:
    """Next failure stops at blocked spans too, like the list's "every failure" filter."""
    spans = [
        span("1", None, 0, status="blocked"),
        span("2", "1", 1),
        span("3", "1", 2, status="blocked"),
        span("4", "1", 3, status="skipped"),
        span("5", "1", 4, status="error"),
        span("6", "1", 5),
    ]
    spans[5].problems = ("end time missing",)
    assert SpanTree(trace(), spans).failures() == [0, 2, 4, 5]
