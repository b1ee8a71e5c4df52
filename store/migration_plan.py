"""What `pipetrace db upgrade` would do to a store, without doing it: each pending revision's SQL
and what it holds the write lock for, so an operator can pick the moment on a shared store."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .backends import Backend
from .backends.sqlite import SQLiteBackend
from .backfill import Backfill
from .bookkeeping import ADOPT_SQL, TABLES, is_breaking
from .index_changes import IndexChanges
from .migrate import backfills, pending_scripts, render_sql
from .revisions import head_revision, known_revisions
from .schema_check import check_compatible
from .schema_state import read_schema
from .sql import Statement
from .upgrade_batches import BATCH_SECONDS

_CREATE_INDEX = re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\b.*?\bON\s+\"?(\w+)", re.I | re.S)
_FILL = re.compile(r"^INSERT\s+INTO\b.*?\bSELECT\b.*?\bFROM\s+\"?(\w+)", re.I | re.S)
_DROP_INDEX = re.compile(r"^DROP\s+INDEX\b", re.I)
_NEW_TABLE = re.compile(r"^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)", re.I)


@dataclass(frozen=True, slots=True)
class PlannedRevision:
    """One revision an upgrade would apply."""

    revision: str
    summary: str
    breaking: bool
    sql: list[str]
    """The statements of its write transaction (one batch on libSQL, with the others)."""
    locks: list[str]
    """What holds the write lock, and for how much work."""


@dataclass(frozen=True, slots=True)
class UpgradePlan:
    """The revisions between a store and this version's newest one."""

    before: str | None
    target: str
    revisions: list[PlannedRevision]


def plan_upgrade(backend: Backend) -> UpgradePlan:
    """The upgrade `upgrade(backend)` would run now, revision by revision."""
    where = backend.target.display
    schema = read_schema(backend.query, where)
    check_compatible(schema, where)
    before = schema.revision
    if before is not None and before not in known_revisions():
        return UpgradePlan(before, before, [])
    rows = _row_counts(backend)
    planned: list[PlannedRevision] = []
    previous = before
    for step in pending_scripts(before, head_revision()):
        refilled = backfills(step)
        sql = render_sql(previous, step.revision, frozenset(b.target for b in refilled))
        if previous is not None and previous == before and not schema.adopted:
            sql = [*ADOPT_SQL, *sql]
        changes = getattr(step.module, "index_changes", None)
        online = isinstance(backend, SQLiteBackend) and isinstance(changes, IndexChanges)
        locks = [_backfill_lock(b, rows) for b in refilled]
        locks += _locks(sql, rows, changes if online else None)
        if not locks:
            locks.append("only short schema changes: writers wait a moment")
        summary = (step.doc or "").strip().splitlines()[0] if step.doc else ""
        planned.append(PlannedRevision(step.revision, summary, is_breaking(step), sql, locks))
        previous = step.revision
    return UpgradePlan(before, head_revision(), planned)


def _row_counts(backend: Backend) -> dict[str, int]:
    """Rows in each table the store has now (what an index build or a fill reads)."""
    names = backend.query(
        Statement("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
    )
    counts = {}
    for (name,) in names:
        quoted = '"' + str(name).replace('"', '""') + '"'
        counts[str(name)] = int(backend.query(Statement(f"SELECT count(*) FROM {quoted}"))[0][0])
    return counts


def _backfill_lock(backfill: Backfill, rows: dict[str, int]) -> str:
    """What refilling a derived table in batches locks."""
    return (
        f"before its transaction, {backfill.target} is rebuilt from {backfill.source} "
        f"({rows.get(backfill.source, 0):,} rows) a range of whole {backfill.unit_column}s at a "
        f"time, each range cleared and refilled in its own write transaction of about "
        f"{BATCH_SECONDS * 1000:.0f} ms, after one short transaction has put in what keeps it "
        "up to date; writers wait for one range at a time"
    )


def _locks(sql: list[str], rows: dict[str, int], online: IndexChanges | None) -> list[str]:
    """One line per part of the revision that holds the write lock for more than a moment."""
    locks = []
    if online is not None and rows.get(online.table):
        locks.append(
            f"before its transaction, {online.table} ({rows[online.table]:,} rows) is rebuilt "
            "with the new indexes: rows are copied in batches of about "
            f"{BATCH_SECONDS * 1000:.0f} ms, each its own write transaction, the copy is swapped "
            "in by one short transaction and the old rows are deleted in batches too; writers "
            "wait for one batch at a time; the file needs room for a second copy of the table "
            "meanwhile"
        )
    created = {m.group(1) for m in map(_NEW_TABLE.match, sql) if m}
    for statement in sql:
        index, fill = _CREATE_INDEX.match(statement), _FILL.match(statement)
        found = index or fill
        table = found.group(1) if found else ""
        if table in TABLES or (index and table in created):
            continue  # an index of a table the revision makes has no rows to read yet
        if index and not (online and table == online.table):
            locks.append(
                f"builds an index over all {rows.get(table, 0):,} rows of {table} in one go: "
                "writers wait until it ends"
            )
        elif fill:
            locks.append(
                f"reads all {rows.get(table, 0):,} rows of {table} in one go: writers wait "
                "until it ends"
            )
        elif _DROP_INDEX.match(statement) and not online:
            locks.append("drops an index: writers wait while its pages are freed")
    return list(dict.fromkeys(locks))
