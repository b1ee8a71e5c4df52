"""An auther SQLite file opened read-only; only cleanup opens a writing connection, briefly.

Our own SQLite backend switches a file to WAL and sets pragmas when it connects: on another
application's database that would be a write. Here every read goes through one `mode=ro`
connection, which changes nothing in the file and creates no -wal or -shm beside a database in
rollback-journal mode (auther's default); writes open a `mode=rw` connection that sets no pragma.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from ..backends.sqlite_files import is_read_only
from ..errors import StoreError, StoreUnavailable
from ..models import StoreSpace, VacuumResult
from ..sql import InsertMany, Operation, Statement
from ..url import DatabaseTarget

BUSY_TIMEOUT_S = 10.0
SPACE_SQL = "SELECT * FROM pragma_page_size(), pragma_page_count(), pragma_freelist_count()"


def file_uri(path: str, mode: str) -> str:
    """SQLite's URI for `path` opened in `mode` ("ro" or "rw"), so it is never created."""
    return Path(path).resolve().as_uri() + f"?mode={mode}"


def probe(path: str, query: Callable[[Callable[[Statement], list[tuple[Any, ...]]]], bool]) -> bool:
    """Run `query` on a read-only connection to an existing file; False if it is no database."""
    if not Path(path).is_file():
        return False
    try:
        with closing(sqlite3.connect(file_uri(path, "ro"), uri=True)) as conn:
            return query(lambda s: [tuple(r) for r in conn.execute(s.sql, s.params)])
    except sqlite3.Error:
        return False


class AutherFileBackend:
    """Reads on one read-only connection (serialised by a lock); writes, rare, on their own."""

    def __init__(self, target: DatabaseTarget) -> None:
        self.target = target
        self.read_only = is_read_only(Path(target.location))
        self.lock = threading.Lock()
        try:
            self.conn = sqlite3.connect(
                file_uri(target.location, "ro"),
                uri=True,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_S,
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{target.display}: cannot open the file ({exc})") from None

    def query(self, statement: Statement) -> list[tuple[Any, ...]]:
        """Run a read and return all rows as tuples."""
        with self.lock, self._errors():
            return [tuple(r) for r in self.conn.execute(statement.sql, statement.params)]

    def query_many(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        """Run several reads, each one's rows."""
        return [self.query(statement) for statement in statements]

    def write(self, operations: Sequence[Operation]) -> list[int]:
        """Run the operations in one transaction on a connection of their own that sets no
        pragma (the file keeps its journal mode); rows each one changed."""
        changed = []
        with self._errors(), closing(self._writer()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for op in operations:
                    if isinstance(op, InsertMany):
                        raise StoreError(f"{self.target.display}: pipetrace adds nothing here")
                    changed.append(max(conn.execute(op.sql, op.params).rowcount, 0))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return changed

    def _writer(self) -> sqlite3.Connection:
        """A writing connection in autocommit mode, so BEGIN and COMMIT are ours."""
        return sqlite3.connect(
            file_uri(self.target.location, "rw"),
            uri=True,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
        )

    def checkpoint(self) -> None:
        """Nothing: the file's own journal mode and its application decide about checkpoints."""

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version` on the read connection, which never writes, so every
        commit (the application's, or cleanup's on its own connection) changes it."""
        with self.lock, self._errors():
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def space(self) -> StoreSpace:
        """The file's pages and free pages; its space is the application's to manage."""
        page_size, pages, free = self.query(Statement(SPACE_SQL))[0]
        return StoreSpace(pages * page_size, free * page_size, "server")

    def release_free_pages(self, max_pages: int) -> tuple[int, int]:
        """Nothing is given back: pipetrace does not change another application's file layout."""
        return 0, self.space().free_bytes

    def vacuum(self, wait: float, on_start: Callable[[int], None] | None = None) -> VacuumResult:
        """Refused: a VACUUM would rewrite every table of the application, not only traces."""
        raise StoreError(
            f"{self.target.display}: an auther database is the application's; pipetrace does "
            "not VACUUM it (nothing was changed)"
        )

    def close(self) -> None:
        """Close the read connection."""
        self.conn.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """sqlite3 errors as one line naming the file."""
        try:
            yield
        except sqlite3.Error as exc:
            text = str(exc)
            where = self.target.display
            if "locked" in text or "busy" in text:
                raise StoreUnavailable(f"{where}: the database stayed locked ({text})") from None
            if "readonly" in text or "unable to open" in text:
                raise StoreUnavailable(f"{where}: cannot write the file ({text})") from None
            raise StoreError(f"{where}: {text}") from None
