"""Store failures as one-line messages with a title, so callers show them instead of tracebacks."""

from __future__ import annotations

from typing import Any

from pipetrace.errors import PipetraceError


class StoreError(PipetraceError):
    """A store operation failed for a reason the user can act on."""

    title = "Store error"

    def __init__(self, message: str, partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial
        """What the failed operation had already done (a CleanupResult), for its report."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""

    title = "Database unavailable"


class SchemaError(StoreError):
    """The database is not a pipetrace store this version can use."""

    title = "Incompatible database"


class StoreDamaged(StoreError):
    """SQLite found the database file damaged (malformed, or failing its integrity check)."""

    title = "Damaged store"

    def __init__(self, message: str, sqlite_says: str = "") -> None:
        super().__init__(message)
        self.sqlite_says = sqlite_says
        """SQLite's own words, for a report that lists damage rather than failing on it."""
