"""New indexes on a large SQLite table without a long write lock: SQLite builds an index in one
statement that holds the lock until the whole table is read and sorted (seconds on a million
traces), so the table is rebuilt instead, a short transaction at a time.

1. One short transaction creates a copy of the table with its final indexes (empty, so they
   cost nothing) and triggers that repeat every insert, update and delete on the copy.
2. Batches of rows, each its own write transaction sized to take about BATCH_SECONDS, are
   copied in rowid order; the triggers keep rows written meanwhile up to date.
3. One short transaction swaps the names (the old table's triggers move to the new one; the
   foreign keys that name the table keep naming it) and renames the indexes.
4. The old rows are deleted in batches and the emptied table dropped; on a store in
   incremental auto-vacuum mode the freed pages go back to the disk in steps, as cleanup does.

Every step reads its state from the database, so an interrupted rebuild is finished by the
next upgrade, and two processes upgrading at once take turns at the batches.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator

from ..errors import StoreError
from ..index_changes import IndexChanges
from ..upgrade_batches import PAUSE_SECONDS, BatchProgress, Progress, resized
from .sqlite import BUSY_TIMEOUT_MS, SQLiteBackend

NEW_PREFIX = "_pipetrace_new_"
OLD_PREFIX = "_pipetrace_old_"
SYNC_PREFIX = "_pipetrace_sync_"
PROGRESS_TABLE = "_pipetrace_rebuild"
FIRST_BATCH = 200
MAX_BATCH = 2_000
"""Rows per batch at most, and pages per step below: besides time, a batch is kept small in the
write-ahead log, since a writer whose commit finds the log long folds it into the file itself."""
FIRST_RELEASE_PAGES = 64
MAX_RELEASE_PAGES = 512
_IDENT = r'(?:"(?:[^"]|"")+"|\w+)'
_INDEX_HEAD = re.compile(rf"^CREATE\s+(UNIQUE\s+)?INDEX\s+{_IDENT}\s+ON\s+{_IDENT}\s*", re.I)


def rebuild_with_indexes(
    backend: SQLiteBackend, changes: IndexChanges, on_progress: Progress | None = None
) -> None:
    """Give `changes.table` the indexes `changes` asks for, by rebuilding it in batches;
    nothing when they are in place already or the table is empty."""
    try:
        with _connection(backend) as conn:
            rebuilt = _Rebuild(conn, changes, on_progress).run()
    except sqlite3.Error as exc:
        raise backend.explain(exc) from None
    if rebuilt:
        _release_free_pages(backend)


@contextlib.contextmanager
def _connection(backend: SQLiteBackend) -> Iterator[sqlite3.Connection]:
    """A connection of its own on which renaming a table leaves other tables' foreign keys
    and triggers naming it as they are (they then name the rebuilt table)."""
    conn = sqlite3.connect(
        backend.target.location, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA legacy_alter_table = ON")
        yield conn
    finally:
        conn.close()


def _q(name: str) -> str:
    """An identifier quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


class _Rebuild:
    """One table's rebuild, step by step, each step deciding from what the database holds."""

    def __init__(
        self, conn: sqlite3.Connection, changes: IndexChanges, on_progress: Progress | None
    ) -> None:
        self.conn = conn
        self.changes = changes
        self.table = changes.table
        self.new = NEW_PREFIX + changes.table
        self.old = OLD_PREFIX + changes.table
        self.on_progress = on_progress
        self.batch = FIRST_BATCH

    def run(self) -> bool:
        """Start, copy, swap and retire, skipping what is done already; False when there was
        nothing to rebuild (the indexes in place, or no rows, which `apply` indexes at once)."""
        self._retire()
        if not self._exists(self.new):
            if self._in_place() or not self._has_rows():
                return False
            self._start()
        if self._copy():
            self._swap()
        self._retire()
        return True

    def _has_rows(self) -> bool:
        return self.conn.execute(f"SELECT 1 FROM {_q(self.table)} LIMIT 1").fetchone() is not None

    def _exists(self, table: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        return row is not None

    def _indexes(self, table: str) -> dict[str, str]:
        """The table's named indexes (not SQLite's automatic ones) and their SQL."""
        rows = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
        return {str(name): str(sql) for name, sql in rows}

    def _in_place(self) -> bool:
        names = set(self._indexes(self.table))
        wanted = {index.name for index in self.changes.create}
        return wanted <= names and not names & set(self.changes.drop)

    def _columns(self) -> list[str]:
        """The columns to copy, with the rowid first unless a column is its alias."""
        info = self.conn.execute(f"PRAGMA table_info({_q(self.table)})").fetchall()
        names = [_q(str(row[1])) for row in info]
        keys = [row for row in info if row[5]]
        aliased = len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER"
        return names if aliased else ["rowid", *names]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise

    def _start(self) -> None:
        """The empty copy with its final indexes, the triggers and the progress row."""
        with self._transaction():
            if self._exists(self.new) or self._in_place():
                return
            ddl = self.conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (self.table,)
            ).fetchone()
            if ddl is None:
                raise StoreError(f"no table {self.table} to rebuild")
            self.conn.execute(
                re.sub(rf"^CREATE\s+TABLE\s+{_IDENT}", f"CREATE TABLE {_q(self.new)}", ddl[0])
            )
            for name, sql in self._target_indexes().items():
                self.conn.execute(_renamed_index(sql, NEW_PREFIX + name, self.new))
            self._create_triggers()
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (tbl TEXT PRIMARY KEY, "
                "copied_upto INTEGER NOT NULL, last_rowid INTEGER NOT NULL)"
            )
            # Two subqueries: SQLite reads min() or max() alone from the end of the rowid tree,
            # but both in one SELECT from every row, under the write lock.
            table = _q(self.table)
            self.conn.execute(
                f"INSERT OR REPLACE INTO {PROGRESS_TABLE} VALUES (?, "
                f"coalesce((SELECT min(rowid) FROM {table}), 1) - 1, "
                f"coalesce((SELECT max(rowid) FROM {table}), 0))",
                (self.table,),
            )

    def _target_indexes(self) -> dict[str, str]:
        """The indexes the rebuilt table gets: the table's own, less the dropped ones, plus the
        new ones."""
        indexes = {
            name: sql
            for name, sql in self._indexes(self.table).items()
            if name not in self.changes.drop
        }
        for index in self.changes.create:
            columns = ", ".join(_q(c) for c in index.columns)
            where = f" WHERE {index.where}" if index.where else ""
            indexes[index.name] = (
                f"CREATE INDEX {_q(index.name)} ON {_q(self.table)} ({columns}){where}"
            )
        return indexes

    def _create_triggers(self) -> None:
        """Every change to the table is repeated on the copy."""
        columns = self._columns()
        listed = ", ".join(columns)
        values = ", ".join(f"NEW.{c}" for c in columns)
        upsert = f"INSERT OR REPLACE INTO {_q(self.new)} ({listed}) VALUES ({values})"
        remove = f"DELETE FROM {_q(self.new)} WHERE rowid = OLD.rowid"
        bodies = {"INSERT": upsert, "UPDATE": f"{remove}; {upsert}", "DELETE": remove}
        for event, body in bodies.items():
            name = _q(f"{SYNC_PREFIX}{self.table}_{event.lower()}")
            self.conn.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {_q(self.table)} BEGIN {body}; END"
            )

    def _copy(self) -> bool:
        """Copy the rows that were there when the rebuild started, a batch per transaction;
        True once all are copied and the copy is still there to swap in."""
        listed = ", ".join(self._columns())
        copy = (
            f"INSERT OR IGNORE INTO {_q(self.new)} ({listed}) SELECT {listed} "
            f"FROM {_q(self.table)} WHERE rowid > ? AND rowid <= ?"
        )
        upper = (
            f"SELECT max(rowid) FROM (SELECT rowid FROM {_q(self.table)} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?)"
        )
        total = self._count(self.table)
        done = 0
        while True:
            self.conn.execute("BEGIN IMMEDIATE")
            began = time.perf_counter()
            try:
                if not self._exists(self.new):
                    self.conn.execute("ROLLBACK")
                    return False
                row = self.conn.execute(
                    f"SELECT copied_upto, last_rowid FROM {PROGRESS_TABLE} WHERE tbl = ?",
                    (self.table,),
                ).fetchone()
                if row is None:
                    self.conn.execute("ROLLBACK")
                    return False
                start, last = row
                if start >= last:
                    self.conn.execute("COMMIT")
                    return True
                end = self.conn.execute(upper, (start, last, self.batch)).fetchone()[0]
                end = last if end is None else end
                copied = self.conn.execute(copy, (start, end)).rowcount
                self.conn.execute(
                    f"UPDATE {PROGRESS_TABLE} SET copied_upto = ? WHERE tbl = ?", (end, self.table)
                )
                self.conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
            done += max(copied, 0)
            self._after_batch(time.perf_counter() - began, "copy", done, total)

    def _swap(self) -> None:
        """Put the copy in the table's place in one short transaction."""
        with self._transaction():
            if not self._exists(self.new) or self._exists(self.old):
                return
            triggers = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                (self.table,),
            ).fetchall()
            for name, _sql in triggers:
                self.conn.execute(f"DROP TRIGGER {_q(str(name))}")
            self.conn.execute(f"ALTER TABLE {_q(self.table)} RENAME TO {_q(self.old)}")
            self.conn.execute(f"ALTER TABLE {_q(self.new)} RENAME TO {_q(self.table)}")
            for name, sql in triggers:
                if not str(name).startswith(SYNC_PREFIX):
                    self.conn.execute(str(sql))
            renames = [
                (name, OLD_PREFIX + name, sql, self.old)
                for name, sql in self._indexes(self.old).items()
            ] + [
                (name, name.removeprefix(NEW_PREFIX), sql, self.table)
                for name, sql in self._indexes(self.table).items()
            ]
            self._rename_indexes(renames)
            self.conn.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE tbl = ?", (self.table,))

    def _rename_indexes(self, renames: list[tuple[str, str, str, str]]) -> None:
        """Rename indexes in the schema table itself (SQLite has no ALTER INDEX): the name is
        not stored in the index's pages, so only its schema row changes; the schema version
        goes up so every connection reads the schema again."""
        version = self.conn.execute("PRAGMA schema_version").fetchone()[0]
        self.conn.execute("PRAGMA writable_schema = ON")
        try:
            for name, new_name, sql, table in renames:
                self.conn.execute(
                    "UPDATE sqlite_master SET name = ?, sql = ? WHERE type = 'index' AND name = ?",
                    (new_name, _renamed_index(sql, new_name, table), name),
                )
            self.conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
        finally:
            self.conn.execute("PRAGMA writable_schema = OFF")

    def _retire(self) -> None:
        """Delete the old rows in batches, then drop the emptied table."""
        if not self._exists(self.old):
            return
        total = self._count(self.old)
        done = 0
        delete = (
            f"DELETE FROM {_q(self.old)} WHERE rowid IN "
            f"(SELECT rowid FROM {_q(self.old)} ORDER BY rowid LIMIT ?)"
        )
        while True:
            self.conn.execute("BEGIN IMMEDIATE")
            began = time.perf_counter()
            try:
                if not self._exists(self.old):
                    self.conn.execute("ROLLBACK")
                    return
                deleted = self.conn.execute(delete, (self.batch,)).rowcount
                if deleted <= 0:
                    self.conn.execute(f"DROP TABLE {_q(self.old)}")
                    left = self.conn.execute(f"SELECT count(*) FROM {PROGRESS_TABLE}").fetchone()
                    if left[0] == 0:
                        self.conn.execute(f"DROP TABLE {PROGRESS_TABLE}")
                self.conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
            if deleted <= 0:
                return
            done += deleted
            self._after_batch(time.perf_counter() - began, "retire", done, total)

    def _count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0])

    def _after_batch(self, seconds: float, phase: str, done: int, total: int) -> None:
        """Size the next batch to take about BATCH_SECONDS, report, checkpoint and pause."""
        self.batch = resized(self.batch, seconds, MAX_BATCH)
        if self.on_progress is not None:
            self.on_progress(BatchProgress(self.table, phase, done, max(total, done)))
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        time.sleep(PAUSE_SECONDS)


def _renamed_index(sql: str, name: str, table: str) -> str:
    """An index's CREATE statement with another name, on another table."""

    def head(match: re.Match[str]) -> str:
        return f"CREATE {match.group(1) or ''}INDEX {_q(name)} ON {_q(table)} "

    renamed, found = _INDEX_HEAD.subn(head, sql, count=1)
    if not found:
        raise StoreError(f"cannot rebuild an index written as {sql!r}")
    return renamed


def _release_free_pages(backend: SQLiteBackend) -> None:
    """Give the old table's pages back to the disk in steps sized like the batches (moving a
    page from the end of the file into a free slot costs more here than after a cleanup, as
    the rebuilt table is what sits at the end), where the store allows."""
    if backend.space().mode != "incremental":
        return
    pages = FIRST_RELEASE_PAGES
    while True:
        began = time.perf_counter()
        shrank, left = backend.release_free_pages(pages)
        pages = resized(pages, time.perf_counter() - began, MAX_RELEASE_PAGES)
        backend.checkpoint()
        time.sleep(PAUSE_SECONDS)
        if not (shrank and left):
            return
