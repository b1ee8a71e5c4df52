"""Script sources kept beside the traces that ran them: each version is stored once by its
sha256, with a bound on when its traces started, so cleanup can drop a version no trace uses."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from .columns import HOUR_NS, SCRIPT_SOURCES_TABLE
from .models import TraceWithSpans
from .sql import Statement, named_statement

SOURCES_REVISION = "0006_script_sources"
"""The revision that made the table; a store before it keeps no sources."""
UPSERT = (
    f"INSERT INTO {SCRIPT_SOURCES_TABLE} (sha256, source, recorded_at, used_until) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET used_until = excluded.used_until "
    f"WHERE excluded.used_until > {SCRIPT_SOURCES_TABLE}.used_until"
)
"""A version's first write stores its text; a later one only moves its bound forward (a
version cleanup removed meanwhile is stored again)."""


def used_until(started_at: int) -> int:
    """The bound a trace that started at `started_at` sets on its scripts' sources: the end of
    its hour, so a version in steady use is written again at most once an hour per writer."""
    return (started_at // HOUR_NS + 1) * HOUR_NS


class SourceLedger:
    """The bound this process last wrote for each source, so a batch of traces sends only the
    sources the store does not hold yet or whose bound it moves; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: dict[str, int] = {}

    def pending(
        self, items: Sequence[TraceWithSpans], now: int
    ) -> tuple[list[Statement], dict[str, int]]:
        """The statements that keep the sources of `items`, and the bounds they write (for
        `written`, once the batch that carries them is committed)."""
        needed: dict[str, tuple[str, int]] = {}
        for item in items:
            if not item.sources:
                continue
            bound = used_until(item.trace.started_at)
            for sha, text in item.sources.items():
                known = needed.get(sha)
                if known is None or bound > known[1]:
                    needed[sha] = (text, bound)
        with self._lock:
            fresh = {
                sha: entry
                for sha, entry in needed.items()
                if sha not in self._written or entry[1] > self._written[sha]
            }
        statements = [
            Statement(UPSERT, (sha, text, now, bound)) for sha, (text, bound) in fresh.items()
        ]
        return statements, {sha: bound for sha, (_text, bound) in fresh.items()}

    def written(self, bounds: dict[str, int]) -> None:
        """Remember bounds a committed write stored."""
        with self._lock:
            for sha, bound in bounds.items():
                current = self._written.get(sha)
                if current is None or bound > current:
                    self._written[sha] = bound


def read_sources(shas: Sequence[str]) -> Statement:
    """The stored text of each of `shas` that the table holds (store/queries.py builds it)."""
    wanted = sorted(set(shas))
    values = {f"sha_{i}": sha for i, sha in enumerate(wanted)}
    return named_statement(".queries", "sources_by_sha", (len(wanted),), values)


def forget_sources(edge: int) -> Statement:
    """Delete the sources whose every trace started before `edge`: once every trace older than
    `edge` is deleted, no remaining trace uses them."""
    return named_statement(".queries", "forget_sources", (), {"edge": edge})
