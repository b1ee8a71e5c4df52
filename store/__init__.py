"""pipetrace's trace store: schema, repository, backends, migrations and retention.

Its names are imported when first used (`pipetrace.lazy_names`), so a command that only needs a
model or a URL does not load the repository, and no read of an up-to-date store loads
SQLAlchemy or Alembic (see docs/ARCHITECTURE.md, start-up)."""

from typing import TYPE_CHECKING

from pipetrace.lazy_names import lazy_names

if TYPE_CHECKING:
    from .errors import SchemaError, StoreDamaged, StoreError, StoreUnavailable
    from .models import (
        REPLAY_CHOICES,
        CleanupProgress,
        CleanupResult,
        Cursor,
        DurationPoints,
        Page,
        ReplayChoice,
        ScriptRun,
        SpanRow,
        StoredPipelines,
        StoredScript,
        StoreSpace,
        TraceFilter,
        TraceRow,
        TraceRuns,
        TraceWithSpans,
        VacuumResult,
    )
    from .opening import open_store
    from .repository import Repository
    from .sql import Statement
    from .url import DatabaseTarget, parse_database_url

__getattr__ = lazy_names(
    __name__,
    {
        ".errors": ("SchemaError", "StoreDamaged", "StoreError", "StoreUnavailable"),
        ".models": (
            "REPLAY_CHOICES",
            "CleanupProgress",
            "CleanupResult",
            "Cursor",
            "DurationPoints",
            "Page",
            "ReplayChoice",
            "ScriptRun",
            "SpanRow",
            "StoredPipelines",
            "StoredScript",
            "StoreSpace",
            "TraceFilter",
            "TraceRow",
            "TraceRuns",
            "TraceWithSpans",
            "VacuumResult",
        ),
        ".opening": ("open_store",),
        ".repository": ("Repository",),
        ".sql": ("Statement",),
        ".url": ("DatabaseTarget", "parse_database_url"),
    },
)

__all__ = [
    "REPLAY_CHOICES",
    "CleanupProgress",
    "CleanupResult",
    "Cursor",
    "DatabaseTarget",
    "DurationPoints",
    "Page",
    "ReplayChoice",
    "Repository",
    "SchemaError",
    "ScriptRun",
    "SpanRow",
    "Statement",
    "StoreDamaged",
    "StoreError",
    "StoreSpace",
    "StoreUnavailable",
    "StoredPipelines",
    "StoredScript",
    "TraceFilter",
    "TraceRow",
    "TraceRuns",
    "TraceWithSpans",
    "VacuumResult",
    "open_store",
    "parse_database_url",
]
