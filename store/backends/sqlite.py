"""The embedded default: a SQLite file through the standard library's driver, in WAL mode with
a busy timeout, its connections pooled between threads."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StoreDamaged, StoreError, StoreUnavailable
from ..models import StoreSpace, VacuumResult
from ..sql import InsertMany, Operation, Statement
from ..url import DatabaseTarget
from .sqlite_files import check_store_file, is_read_only, read_only_uri, read_write_uri
from .sqlite_pool import ConnectionPool

SPACE_SQL = (
    "SELECT * FROM pragma_page_size(), pragma_page_count(), pragma_freelist_count(), "
    "pragma_auto_vacuum()"
)
AUTO_VACUUM_MODES = {0: "none", 1: "full", 2: "incremental"}
BUSY_TIMEOUT_MS = 10_000
WAL_SIZE_LIMIT = 4 * 1024 * 1024
"""A write-ahead log a big import or delete grew is cut back to this when it starts over
(about what SQLite's automatic checkpoint lets it reach), so its disk space comes back too."""


class SQLiteBackend:
    """Runs compiled statements on pooled connections to one SQLite file."""

    def __init__(self, target: DatabaseTarget, *, create: bool = True) -> None:
        self.target = target
        path = Path(target.location)
        check_store_file(target, path, create=create)
        if create:
            _check_folder(target, path.parent)
        self.read_only = not create and is_read_only(path)
        """A store on a read-only file, folder or mount: opened for reading only."""
        if create:
            self._open = functools.partial(sqlite3.connect, str(path))  # the path as is
        else:
            uri = read_only_uri(path) if self.read_only else read_write_uri(path)
            self._open = functools.partial(sqlite3.connect, uri, uri=True)
        self._new = create
        self.pool = ConnectionPool(self.connect)
        self._watch: sqlite3.Connection | None = None
        """The connection `data_version` asks, opened on first use; it never writes."""
        self._watch_lock = threading.Lock()

    def connect(self) -> sqlite3.Connection:
        """A new connection to the file, set up for this store (see `_configure_connection`)."""
        conn = self._open(check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            _configure_connection(conn, read_only=self.read_only, new=self._new)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection with driver errors turned into one-line store errors."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except sqlite3.Error as exc:
            raise self.explain(exc) from None
        except (OverflowError, UnicodeEncodeError) as exc:
            # Python's driver refuses these values itself, outside sqlite3.Error: an integer
            # beyond 64 bits, text holding a lone surrogate (which UTF-8 cannot encode).
            raise StoreError(f"{self.target.display}: the store refused a value ({exc})") from None

    def query(self, statement: Statement) -> list[tuple[Any, ...]]:
        """Run a read and return all rows as tuples."""
        with self.connection() as conn:
            return conn.execute(statement.sql, statement.params).fetchall()

    def query_many(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        """Run several reads on one connection, each one's rows."""
        with self.connection() as conn:
            return [conn.execute(s.sql, s.params).fetchall() for s in statements]

    def write(self, operations: Sequence[Operation]) -> list[int]:
        """Run the operations in one transaction: all or nothing; rows each one changed."""
        changed = []
        with self.connection() as conn:
            try:
                for op in operations:
                    if isinstance(op, InsertMany):
                        if not op.rows:
                            changed.append(0)
                            continue
                        cursor = conn.executemany(op.single_row_sql(), op.rows)
                    else:
                        cursor = conn.execute(op.sql, op.params)
                    changed.append(max(cursor.rowcount, 0))
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        return changed

    def checkpoint(self) -> None:
        """Fold the WAL back into the file so it does not grow without bound."""
        with self.connection() as conn:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version` on a connection of its own that never writes, so a
        commit on any other connection, this process's pooled ones included, changes it."""
        with self._watch_lock:
            try:
                if self._watch is None:
                    self._watch = self.connect()
                return int(self._watch.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as exc:
                raise self.explain(exc) from None

    def space(self) -> StoreSpace:
        """The file's pages, its free pages, and its auto-vacuum mode."""
        with self.connection() as conn:
            page_size, pages, free, mode = conn.execute(SPACE_SQL).fetchone()
        return StoreSpace(pages * page_size, free * page_size, AUTO_VACUUM_MODES.get(mode, "none"))

    def release_free_pages(self, max_pages: int) -> tuple[int, int]:
        """`PRAGMA incremental_vacuum` one page at a time inside BEGIN IMMEDIATE, so the pages
        counted are exactly this transaction's; a store without incremental auto-vacuum gives
        nothing back. The file shrinks when the next checkpoint folds the log in."""
        with self.connection() as conn:
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                page_size, before, free, mode = cursor.execute(SPACE_SQL).fetchone()
                if AUTO_VACUUM_MODES.get(mode) == "incremental":
                    # Python's driver steps a statement once: one page per call.
                    for _ in range(min(free, max_pages)):
                        cursor.execute("PRAGMA incremental_vacuum(1)")
                _, after, left, _ = cursor.execute(SPACE_SQL).fetchone()
                cursor.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.close()
        return (before - after) * page_size, left * page_size

    def vacuum(self, wait: float, on_start: Callable[[int], None] | None = None) -> VacuumResult:
        """The full VACUUM, on a connection of its own with a short busy timeout."""
        from .sqlite_space import vacuum  # its disk checks' imports, only for `db vacuum`

        return vacuum(self.target, wait, on_start)

    def close(self) -> None:
        """Close the pooled connections and the one `data_version` asks."""
        self.pool.close()
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    def explain(self, exc: BaseException | None) -> StoreError:
        """One line naming the file and what SQLite said."""
        text = str(exc) if exc is not None else "unknown error"
        where = self.target.display
        if "readonly" in text:
            return StoreUnavailable(f"{where}: the file is read-only ({text})")
        if "not a database" in text:
            return StoreUnavailable(f"{where}: not a SQLite database ({text})")
        if "malformed" in text:
            return StoreDamaged(
                f"{where}: the store is damaged (SQLite: {text}); pipetrace db check lists "
                "what is wrong",
                sqlite_says=text,
            )
        if "unable to open" in text:
            return StoreUnavailable(f"{where}: cannot open the file ({text})")
        if "locked" in text or "busy" in text:
            return StoreUnavailable(f"{where}: the database stayed locked ({text})")
        return StoreError(f"{where}: {text}")


def _check_folder(target: DatabaseTarget, folder: Path) -> None:
    """The folder the file goes in: created for the default store only, since a missing folder
    in a named path is a typo, not a place to start a store."""
    if target.is_default:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"{target.display}: cannot create its folder ({exc})") from None
    elif not folder.is_dir():
        what = f"{folder} is a file" if folder.exists() else f"the folder {folder} does not exist"
        raise StoreUnavailable(
            f"{target.display}: {what} (pipetrace creates a store file, not the folders it goes in)"
        )


def _configure_connection(dbapi_conn: sqlite3.Connection, *, read_only: bool, new: bool) -> None:
    """A busy timeout for writers and foreign keys on; a store a command may create (`new`)
    also gets WAL for concurrent readers and, while it has no pages, incremental auto-vacuum, so
    cleanup can give the space it frees back to the disk. Any other file keeps its modes: a
    command that may not create a store never changes the file it opens into one."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if read_only:
            return
        cursor.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        cursor.execute("PRAGMA synchronous = NORMAL")
        if not new:
            return
        if cursor.execute("PRAGMA page_count").fetchone()[0] == 0:
            # Only a file with no pages takes the mode, and switching to WAL writes its first
            # page; an older store keeps its mode until `pipetrace db vacuum` converts it.
            cursor.execute("PRAGMA auto_vacuum = INCREMENTAL")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            # A file that cannot be written keeps its journal mode; its writes report the cause.
            with contextlib.suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()
