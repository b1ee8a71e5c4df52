"""What a store's schema is, read from its bookkeeping tables without changing anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .errors import SchemaError
from .sql import Statement

VERSION_TABLE = "pipetrace_revision"
"""Alembic's version table: the store's newest revision (store/bookkeeping.py)."""
MIGRATION_LOG = "pipetrace_migrations"
"""Every revision applied, whether it is breaking and which pipetrace version applied it."""
COMPATIBILITY_MARKER = "alembic_version"
"""The revision a pipetrace version must know to use the store (read by every version)."""
Query = Callable[[Statement], list[tuple[Any, ...]]]
DATA_TABLES = frozenset(
    {
        "pipeline_traces",
        "pipeline_spans",
        "pipeline_trace_counts",
        "pipeline_import_spans",
        "pipeline_import_traces",
        "pipeline_script_sources",
        "pipeline_script_runs",
        "pipeline_trace_runs",
        "pipeline_script_counts",
        "pipeline_script_durations",
        "pipeline_duration_buckets",
        "pipeline_rollup_claim",
    }
)
IGNORED_PREFIXES = ("sqlite_", "_litestream", "libsql_", "_pipetrace_")
"""Tables of SQLite, of tools beside it, and of an unfinished online rebuild."""
REVISION_MARKS = (
    ("0007_script_stats", "pipeline_script_runs"),
    ("0006_script_sources", "pipeline_script_sources"),
    ("0005", "pipeline_import_spans"),
    ("0004_replays", "ix_pipeline_traces_replays_started"),
    ("0003", "ix_pipeline_traces_user_started"),
    ("0002", "pipeline_trace_counts"),
)
"""Newest first: a table or index each revision created, to tell a store's revision by."""


class AppliedRevision(NamedTuple):
    """One row of the migration log: a revision and the pipetrace version that applied it."""

    revision: str
    breaking: bool
    pipetrace_version: str


class StoreSchema(NamedTuple):
    """A store's revisions as its bookkeeping tables record them."""

    revision: str | None
    """The newest revision applied; None for a database without pipetrace's tables."""
    marker: str | None
    """The revision a pipetrace version must know to use the store (`alembic_version`)."""
    log: tuple[AppliedRevision, ...] = ()
    adopted: bool = False
    """Whether Alembic's own version table holds the revision (a store made before the log
    has only `alembic_version`, which the runner copies there first)."""

    def applied(self, revision: str) -> AppliedRevision | None:
        """The log's row for `revision`, if the log has one."""
        return next((row for row in self.log if row.revision == revision), None)


def read_schema(query: Query, where: str) -> StoreSchema:
    """The store's schema as `query` sees it (so a caller holding the write lock reads through
    it); refuses another application's database and explains a missing version."""
    names = query(
        Statement("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index')")
    )
    tables = {
        str(name)
        for kind, name in names
        if kind == "table" and not str(name).startswith(IGNORED_PREFIXES)
    }
    current = _first_value(query, VERSION_TABLE, tables)
    marker = _first_value(query, COMPATIBILITY_MARKER, tables)
    revision = current or marker
    if revision is None:
        indexes = {str(name) for kind, name in names if kind == "index"}
        _refuse_unversioned(tables, indexes, where)
        return StoreSchema(None, None)
    return StoreSchema(revision, marker, _log(query, tables), adopted=current is not None)


def _first_value(query: Query, table: str, tables: set[str]) -> str | None:
    """The one value a version table holds, None when it is missing or empty."""
    if table not in tables:
        return None
    rows = query(Statement(f"SELECT version_num FROM {table}"))
    return str(rows[0][0]) if rows else None


def _log(query: Query, tables: set[str]) -> tuple[AppliedRevision, ...]:
    """The migration log, oldest first; empty for a store made before it existed."""
    if MIGRATION_LOG not in tables:
        return ()
    rows = query(
        Statement(
            f"SELECT revision, breaking, pipetrace_version FROM {MIGRATION_LOG} "
            "ORDER BY applied_at, revision"
        )
    )
    return tuple(AppliedRevision(str(r), bool(b), str(v)) for r, b, v in rows)


def _refuse_unversioned(tables: set[str], indexes: set[str], where: str) -> None:
    """Tables without a recorded revision: nothing for an empty database (a store never
    created), else a refusal saying whose tables they are."""
    ours = tables & DATA_TABLES
    others = sorted(tables - DATA_TABLES - {VERSION_TABLE, MIGRATION_LOG, COMPATIBILITY_MARKER})
    if not tables - {VERSION_TABLE, COMPATIBILITY_MARKER}:
        return
    if ours and not others:
        looks_like = next((rev for rev, mark in REVISION_MARKS if mark in tables | indexes), "0001")
        raise SchemaError(
            f"{where}: its schema version is missing (alembic_version and {VERSION_TABLE} "
            f"are empty, the other tables are pipetrace's); its tables look like revision "
            f"{looks_like}: record "
            f"it with INSERT INTO alembic_version VALUES ('{looks_like}'), then run "
            "pipetrace db upgrade"
        )
    shown = ", ".join(others or sorted(tables))
    raise SchemaError(f"{where}: not a pipetrace database (it has tables: {shown})")
