"""What a migration declares about the indexes it changes, so the runner can build them without
holding the write lock for a whole index build where the backend allows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class NewIndex:
    """An index a migration creates: its name, its columns in order, and for a partial index
    the condition on the rows it lists (SQL, as written after WHERE)."""

    name: str
    columns: tuple[str, ...]
    where: str | None = None


@dataclass(frozen=True, slots=True)
class IndexChanges:
    """The indexes one migration creates on and drops from one table.

    On SQLite the runner builds them before the migration's own transaction by rebuilding the
    table in short batches (store/backends/sqlite_rebuild.py); `apply` then finds them in place.
    On a libSQL server, which refuses what that rebuild needs, `apply` builds them under the
    write lock.
    """

    table: str
    create: tuple[NewIndex, ...] = ()
    drop: tuple[str, ...] = ()

    def apply(self) -> None:
        """Drop and create the indexes inside the migration; a no-op for those already done."""
        import sqlalchemy as sa
        from alembic import op

        for name in self.drop:
            op.drop_index(name, table_name=self.table, if_exists=True)
        for index in self.create:
            partial: dict[str, Any] = {}
            if index.where:
                partial["sqlite_where"] = sa.text(index.where)
            op.create_index(
                index.name, self.table, list(index.columns), if_not_exists=True, **partial
            )
