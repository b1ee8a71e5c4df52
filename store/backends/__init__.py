"""The two ways to reach a trace database: an embedded SQLite file and a libSQL server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..models import StoreSpace, VacuumResult
from ..sql import Operation, Statement
from ..url import DatabaseTarget


class Backend(Protocol):
    """What the repository needs from a database: reads, and atomic groups of writes."""

    target: DatabaseTarget
    read_only: bool
    """Whether the store can only be read where it is (a read-only file, folder or mount)."""

    def query(self, statement: Statement) -> list[tuple[Any, ...]]:
        """Run a read and return all rows as tuples."""
        ...

    def query_many(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        """Run several reads in one request (one round trip to a server); each one's rows."""
        ...

    def write(self, operations: Sequence[Operation]) -> list[int]:
        """Run the operations in one transaction: all or nothing; rows each one changed."""
        ...

    def checkpoint(self) -> None:
        """Move the write-ahead log back into the database file, where the backend has one."""
        ...

    def data_version(self) -> int | None:
        """A number that changes whenever a commit (by anyone) may have changed the database,
        for a watcher to skip reads when nothing did; None where the backend cannot tell."""
        ...

    def space(self) -> StoreSpace:
        """The database's size, its free pages, and who can give them back to the disk."""
        ...

    def release_free_pages(self, max_pages: int) -> tuple[int, int]:
        """Give up to `max_pages` free pages back to the disk in one short write transaction,
        where the store allows it; returns (bytes the database shrank by, free bytes left)."""
        ...

    def vacuum(self, wait: float, on_start: Callable[[int], None] | None = None) -> VacuumResult:
        """Rewrite the database compactly in incremental auto-vacuum mode, or refuse in one line
        (not enough disk, the write lock not free within `wait` seconds, or not allowed);
        `on_start` hears the bytes of data to rewrite once the checks have passed."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def open_backend(target: DatabaseTarget, *, create: bool = True) -> Backend:
    """Connect to the target's backend (without touching the schema); with `create` False a
    SQLite file that does not exist is refused, so a mistyped path is not made into a store."""
    if target.kind == "sqlite":
        from .sqlite import SQLiteBackend

        return SQLiteBackend(target, create=create)
    from .libsql import LibsqlBackend

    return LibsqlBackend(target)
