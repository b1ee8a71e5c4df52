"""The embedded default: a SQLite file through SQLAlchemy, in WAL mode with a busy timeout."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from ..errors import StoreError, StoreUnavailable
from ..sql import InsertMany, Operation, Statement
from ..url import DatabaseTarget

BUSY_TIMEOUT_MS = 10_000


class SQLiteBackend:
    """Runs compiled statements on a pooled SQLAlchemy engine over one SQLite file."""

    def __init__(self, target: DatabaseTarget, *, create: bool = True) -> None:
        self.target = target
        path = Path(target.location)
        if path.is_dir():
            raise StoreUnavailable(f"{target.display}: is a folder, not a database file")
        if not (create or target.is_default or path.exists()):
            raise StoreUnavailable(
                f"no store at {target.display} (check --db / PIPETRACE_DB; "
                "only commands that add traces create one)"
            )
        _check_folder(target, path.parent)
        self.engine: Engine = create_engine(
            URL.create("sqlite", database=str(path)),  # the path as is: no URL parsing
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=8,
        )
        event.listen(self.engine, "connect", _configure_connection)

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection with driver errors turned into one-line store errors."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            raise self._explain(exc.orig) from None
        except sqlite3.Error as exc:
            raise self._explain(exc) from None

    def query(self, statement: Statement) -> list[tuple[Any, ...]]:
        """Run a read and return all rows as tuples."""
        with self.connection() as conn:
            result = conn.exec_driver_sql(statement.sql, statement.params)
            return [tuple(row) for row in result.fetchall()]

    def write(self, operations: Sequence[Operation]) -> list[int]:
        """Run the operations in one transaction: all or nothing; rows each one changed."""
        changed = []
        with self.connection() as conn, conn.begin():
            for op in operations:
                if isinstance(op, InsertMany):
                    if not op.rows:
                        changed.append(0)
                        continue
                    result = conn.exec_driver_sql(op.single_row_sql(), list(op.rows))
                else:
                    result = conn.exec_driver_sql(op.sql, op.params)
                changed.append(max(result.rowcount, 0))
        return changed

    def checkpoint(self) -> None:
        """Fold the WAL back into the file so it does not grow without bound."""
        with self.connection() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def _explain(self, exc: BaseException | None) -> StoreError:
        """One line naming the file and what SQLite said."""
        text = str(exc) if exc is not None else "unknown error"
        where = self.target.display
        if "readonly" in text:
            return StoreUnavailable(f"{where}: the file is read-only ({text})")
        if "not a database" in text:
            return StoreUnavailable(f"{where}: not a SQLite database ({text})")
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


def _configure_connection(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    """WAL for concurrent readers, a busy timeout for writers, foreign keys on."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            # A read-only file keeps its journal mode; its writes will report the cause.
            with contextlib.suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()
