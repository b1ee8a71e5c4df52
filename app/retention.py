"""The retention policy the CLI, the viewer and the HTTP endpoint share: its defaults, the cutoff
an age gives, and the JSON answer of a cleanup, so the three delete and report alike."""

from __future__ import annotations

import time
from typing import Any

from pipetrace.store import CleanupResult, StoreError

from .disk_space import space_json
from .timeparse import TimeFormatError, iso_ns, naming, parse_age

DEFAULT_AGE = "30d"
DEFAULT_BATCH_SIZE = 500
PAUSE_SECONDS = 0.025
"""Between batches: SQLite's busy handler retries a waiting writer every 25 ms or so, and a
shorter gap lets the next batch take the lock first (measured in bench/cleanup.py)."""


def cutoff_for(
    older_than: str, where: str, now_ns: int | None = None, *, at_least: str | None = None
) -> int:
    """Unix ns before which traces are expired; a bad age, or one under `at_least`, fails naming
    the option it came from."""
    with naming(where):
        age = parse_age(older_than)
        if at_least is not None and age < parse_age(at_least):
            raise TimeFormatError(f"age {older_than!r} is under {at_least}, the least allowed here")
    return (time.time_ns() if now_ns is None else now_ns) - age


def summary(cutoff: int, older_than: str, result: CleanupResult, dry_run: bool) -> dict[str, Any]:
    """The JSON answer of the command and of the HTTP endpoint: the counts, the disk space given
    back, and the store's size afterwards."""
    return {
        "cutoff": iso_ns(cutoff),
        "cutoff_ns": cutoff,
        "older_than": older_than,
        "traces": result.traces,
        "spans": result.spans,
        "dry_run": dry_run,
        "cancelled": result.cancelled,
        **space_json(result.space, result.freed_bytes),
    }


def failed_summary(cutoff: int, older_than: str, exc: StoreError) -> dict[str, Any]:
    """The JSON answer of a cleanup the store failed midway: what it deleted, and why it
    stopped, so a cron log still records the deletions."""
    return {**summary(cutoff, older_than, exc.partial, dry_run=False), "error": exc.message}
