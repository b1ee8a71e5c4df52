"""Refills a migration's derived tables (store/backfill.py) before the migration's own
transaction, one range of whole units per write transaction, through either backend: writers
wait for one range at a time instead of one statement over every row.

Every write carries a guard that fails unless the store is still at the revision before the
migration, so nothing is refilled with one revision's rules on a store another process has
moved past it; that process did the work (or its own version of it) already.
"""

from __future__ import annotations

import math
import time

from .backends import Backend
from .backfill import Backfill
from .bookkeeping import ADOPT_SQL, revision_guard
from .errors import StoreError, StoreUnavailable
from .schema_state import read_schema
from .sql import Statement
from .upgrade_batches import PAUSE_SECONDS, BatchProgress, Progress, resized

FIRST_ROWS = 200
MAX_ROWS = 20_000
"""Source rows a range holds at most (about 20 ms of reading on a 2-core machine): ranges are
sized to take BATCH_SECONDS, and this keeps one sized after a lucky quick range from holding
the lock much longer on a busy machine."""


def backfill_in_batches(
    backend: Backend,
    backfill: Backfill,
    revision: str,
    *,
    adopt: bool = False,
    on_progress: Progress | None = None,
) -> bool:
    """Put `backfill.keep` in place in one short transaction, then refill the target range by
    range, while the store is at `revision`; False when another process moved the store past
    it meanwhile. `adopt` first copies a store's revision into the version table the guard
    reads (a store made before the migration log)."""
    guard = Statement(revision_guard(revision))
    adopting = [Statement(sql) for sql in ADOPT_SQL] if adopt else []
    keep = [Statement(sql) for sql in backfill.keep]
    if not _write_at(backend, revision, [*adopting, guard, *keep]):
        return False
    total = int(backend.query(Statement(f"SELECT count(*) FROM {backfill.source}"))[0][0])
    first: int | None = None
    size, done = FIRST_ROWS, 0
    while True:
        last = _range_end(backend, backfill, first, size)
        began = time.perf_counter()
        refill = [Statement(sql) for sql in backfill.range_sql(first, last)]
        if not _write_at(backend, revision, [guard, *refill]):
            return False
        seconds = time.perf_counter() - began
        done = total if last is None else min(total, done + size)
        if on_progress is not None:
            on_progress(BatchProgress(backfill.target, "backfill", done, max(total, done)))
        if last is None:
            return True
        first, size = last, resized(size, seconds, MAX_ROWS)
        backend.checkpoint()
        time.sleep(PAUSE_SECONDS)


def _range_end(backend: Backend, backfill: Backfill, first: int | None, size: int) -> int | None:
    """The unit the range from `first` ends before: the unit of the row `size` rows on, so a
    range holds about `size` rows (or one unit alone, when it holds more); None for a last
    range without end, when fewer rows are left (or only values that are not numbers, which
    sort after every number)."""
    column, unit = backfill.column, backfill.unit
    since = "" if first is None else f" WHERE {column} >= {first * unit}"
    rows = backend.query(
        Statement(
            f"SELECT {column} FROM {backfill.source}{since} ORDER BY {column} LIMIT 1 OFFSET ?",
            (size,),
        )
    )
    value = rows[0][0] if rows else None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return max(int(value // unit), (first or 0) + 1, 1)


def _write_at(backend: Backend, revision: str, statements: list[Statement]) -> bool:
    """Run `statements` (the guard among them) in one transaction; False when the guard failed
    because the store is no longer at `revision`."""
    try:
        backend.write(statements)
    except StoreUnavailable:
        raise
    except StoreError:
        if read_schema(backend.query, backend.target.display).revision != revision:
            return False
        raise
    return True
