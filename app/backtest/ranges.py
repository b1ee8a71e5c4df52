"""Disjoint ranges of the matching traces, marked out by keyset bounds alone, for workers to
read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipetrace.store import Cursor, Repository, TraceFilter


@dataclass(frozen=True, slots=True)
class KeyRange:
    """Matching traces newest first, from `newest` (included) down to `older_than` (left out;
    None: to the oldest)."""

    newest: Cursor
    older_than: Cursor | None


def key_ranges(repo: Repository, filters: TraceFilter, size: int) -> Iterator[KeyRange]:
    """Ranges of `size` matching traces each (the last may hold fewer, or more if older traces
    arrive meanwhile), one after the other from the newest: together they hold every trace that
    matched as they were marked, each once. Each costs one query that reads no rows into Python,
    made only when the range is wanted."""
    newest = repo.key_after(filters)
    while newest is not None:
        older_than = repo.key_after(filters, newest, size - 1)
        yield KeyRange(newest, older_than)
        newest = older_than
