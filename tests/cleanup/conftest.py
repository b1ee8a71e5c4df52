"""Helpers for retention tests: traces at chosen start times, and store consistency checks."""

from __future__ import annotations

import socket
import time

import pytest
from factories import make_trace
from store_checks import orphan_spans

from pipetrace.store import Repository, TraceWithSpans

DAY_NS = 86_400 * 1_000_000_000
SPANS_PER_TRACE = 3


def trace_at(n: int, started_at: int, spans: int = SPANS_PER_TRACE) -> TraceWithSpans:
    """Trace number `n` starting at `started_at` with a root span and script spans under it."""
    return make_trace(n + 1, started_at=started_at, spans=spans, user_id=f"user-{n}")


def seed_ages(repo: Repository, old: int, new: int, now_ns: int | None = None) -> None:
    """`old` traces 40 days old and `new` traces 1 day old, each with SPANS_PER_TRACE spans."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    items = [trace_at(i, now_ns - 40 * DAY_NS + i) for i in range(old)]
    items += [trace_at(old + i, now_ns - DAY_NS + i) for i in range(new)]
    repo.save_traces(items)


def span_counts(repo: Repository) -> dict[str, int]:
    """Spans per remaining trace, read back through the repository."""
    counts = {}
    cursor = None
    while True:
        page = repo.list_traces(limit=1000, cursor=cursor)
        for row in page.rows:
            found = repo.get_trace_with_spans(row.id)
            assert found is not None
            counts[row.id] = len(found.spans)
        if page.next_cursor is None:
            return counts
        cursor = page.next_cursor


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Kit:
    """The helpers above, handed to tests as a fixture (test modules cannot import conftest)."""

    DAY = DAY_NS
    trace_at = staticmethod(trace_at)
    seed = staticmethod(seed_ages)
    orphan_spans = staticmethod(orphan_spans)
    span_counts = staticmethod(span_counts)
    free_port = staticmethod(free_port)


@pytest.fixture
def kit() -> type[Kit]:
    """Seeding and consistency helpers for retention tests."""
    return Kit
