"""How an upgrade's long steps (online index builds, backfills) are cut into short write
transactions, so that writers never wait for more than one of them: how long one should take,
the pause between them, and the progress they report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

BATCH_SECONDS = 0.04
"""How long one batch's write transaction should take: writers wait at most about this long."""
PAUSE_SECONDS = 0.02
"""Between batches, so writers waiting for the lock get it."""


@dataclass(frozen=True, slots=True)
class BatchProgress:
    """How far a batched step is: rows done of about `total` in `table`."""

    table: str
    phase: str
    """"copy" or "retire" (an online index build), "backfill" (a derived table refilled)."""
    done: int
    total: int


Progress = Callable[[BatchProgress], None]


def resized(size: int, seconds: float, largest: int) -> int:
    """The next batch's size, so that it takes about BATCH_SECONDS: smaller at once after a
    slow batch, at most twice as large after a quick one."""
    scaled = int(size * BATCH_SECONDS / max(seconds, 1e-4))
    return max(1, min(largest, 2 * size, scaled))
