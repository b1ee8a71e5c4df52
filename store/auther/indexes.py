"""Indexes an operator may add to an auther database on purpose (`pipetrace db indexes`), so a
filtered first page, the plot and capped counts read one index range newest first instead of
sorting every match; never created unasked. SQLite's planner picks them when they are there.

auther indexes pipeline_traces by trigger_event, status and created_at apiece: a filter on
one of them reads its matches in no useful order (all of them are sorted to show 50), and a
user or IP filter reads the whole table. Each index here pairs a filter column with
created_at, the order of every list."""

from __future__ import annotations

from dataclasses import dataclass

from ..backends import Backend
from ..sql import Statement


@dataclass(frozen=True, slots=True)
class OptionalIndex:
    """One index pipetrace can add, what it serves, and whether the database has it."""

    name: str
    columns: tuple[str, ...]
    serves: str
    present: bool = False

    @property
    def create_sql(self) -> str:
        """The statement that adds it (IF NOT EXISTS: another operator may have just run it)."""
        columns = ", ".join(f"`{c}`" for c in self.columns)
        return f"CREATE INDEX IF NOT EXISTS `{self.name}` ON `pipeline_traces` ({columns})"

    @property
    def drop_sql(self) -> str:
        """The statement that removes it again."""
        return f"DROP INDEX IF EXISTS `{self.name}`"


INDEXES = (
    OptionalIndex("pipetrace_traces_trigger_created", ("trigger_event", "created_at"), "--trigger"),
    OptionalIndex("pipetrace_traces_status_created", ("status", "created_at"), "--status"),
    OptionalIndex("pipetrace_traces_user_created", ("user_id", "created_at"), "--user"),
    OptionalIndex("pipetrace_traces_ip_created", ("request_ip", "created_at"), "--ip"),
)
PRESENT = Statement(
    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'pipeline_traces'"
)


def optional_indexes(backend: Backend) -> list[OptionalIndex]:
    """Every index pipetrace can add, each saying whether the database has it now."""
    names = {str(row[0]) for row in backend.query(PRESENT)}
    return [OptionalIndex(i.name, i.columns, i.serves, present=i.name in names) for i in INDEXES]
