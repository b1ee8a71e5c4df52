"""What a migration declares about a table it derives from another table's rows (the hourly
counts, rollups), so the runner can refill it a range at a time while writers keep writing,
instead of in one statement that holds the write lock over every row."""

from __future__ import annotations

from dataclasses import dataclass

BACKFILLED = "pipetrace_backfilled"
"""Alembic config attribute: the targets the runner refilled in batches before the revision's
own transaction, which then leaves them as they are."""


@dataclass(frozen=True, slots=True)
class Backfill:
    """A table summarising another table's rows by whole units of one of its columns (the
    hours of `started_at`), refilled range by range.

    `keep` holds the statements (triggers) that keep the target right for every write made
    after them. Once they are in place, each range of units is cleared and filled again from
    the source's rows in one transaction. A write to a range already refilled goes through
    `keep`; a range not refilled yet is refilled from the rows as they are by then. So the
    target is exact when the last range is done, whatever writers insert, update and delete
    meanwhile, and refilling a range again never hurts (an interrupted backfill is simply run
    again). `keep` runs again inside the migration, so it must be repeatable: a new target is
    made there with CREATE TABLE IF NOT EXISTS, triggers are dropped IF EXISTS first.
    """

    target: str
    unit_column: str
    """The target's column holding the unit: `column` divided by `unit`, with SQL's `/`."""
    source: str
    column: str
    """The source's column the units divide; an index on it lets a range read only its rows."""
    unit: int
    fill: str
    """INSERT INTO target ... SELECT ... FROM source WHERE {rows} ... GROUP BY ...: `{rows}`
    stands for the range's condition on `column`."""
    keep: tuple[str, ...] = ()

    def range_sql(self, first: int | None, last: int | None) -> list[str]:
        """Clear and refill the units from `first` up to, not including, `last` (None: no
        bound). A bound is a unit above 0, so that `column / unit`, which SQL truncates
        toward zero, puts every row in the same range as its unit; damaged rows whose column
        is text or a BLOB (unit 0 in SQL's arithmetic) go with the first range."""
        for bound in (first, last):
            if bound is not None and bound < 1:
                raise ValueError(f"a backfill range ends at a unit above 0, not {bound}")
        units = " AND ".join(_between(self.unit_column, first, last))
        clear = f"DELETE FROM {self.target}" + (f" WHERE {units}" if units else "")
        return [clear, self.fill.replace("{rows}", self._rows(first, last))]

    def _rows(self, first: int | None, last: int | None) -> str:
        """The condition on `column` for the source rows of units `first` to `last`. Text and
        BLOBs sort after every number, so `< ''` bounds the numbers, which keeps SQLite on the
        column's index (for a range open at one end it guesses a quarter of the rows and scans
        a whole index instead); the first range reads the numbers below its end and what is
        not a number as two ranges of the index, each marked unlikely for the same reason."""
        column = self.column
        high = "''" if last is None else str(last * self.unit)
        if first is not None:
            return f"{column} >= {first * self.unit} AND {column} < {high}"
        if last is None:
            return "TRUE"
        return f"(unlikely({column} < {high}) OR unlikely({column} >= ''))"

    def apply(self) -> None:
        """Inside the migration: `keep`, then the whole refill in one go, unless the runner
        refilled the target in batches before the transaction."""
        from alembic import context, op

        for sql in self.keep:
            op.execute(sql)
        if self.target not in context.config.attributes.get(BACKFILLED, ()):
            for sql in self.range_sql(None, None):
                op.execute(sql)


def _between(column: str, low: int | None, high: int | None) -> list[str]:
    """The conditions `low <= column < high`, for the bounds there are."""
    conditions = []
    if low is not None:
        conditions.append(f"{column} >= {low}")
    if high is not None:
        conditions.append(f"{column} < {high}")
    return conditions
