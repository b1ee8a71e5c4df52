"""Takes the trigger that files each span's run off `pipeline_spans` for the length of one large
write that files its own spans' runs, and puts it back in the same transaction from the very text
the store holds: SQLite pays about 4 µs a row for an AFTER INSERT trigger even when its WHEN is
false (a cheaper WHEN saves nothing, measured), and no other connection ever sees the store
without it (the transaction is atomic and writers take turns).

The trigger's text is read before the write; a guard in the write fails it, as a trace stored
meanwhile does (`TriggerChanged`), if another process changed or dropped the trigger since.
"""

from __future__ import annotations

from collections.abc import Sequence

from .backends import Backend
from .errors import StoreError
from .schema_state import VERSION_TABLE
from .sql import Operation, Statement

SPAN_FILING = "trg_pipeline_spans_run_insert"
PAUSE_FROM = 2000
"""Spans a write needs before the trigger is taken off: every connection reads the schema again
after it, which costs more than a smaller write saves."""
_TEXT = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?"
_UNCHANGED = (
    f"INSERT INTO {VERSION_TABLE} (version_num) SELECT version_num FROM {VERSION_TABLE} "
    "WHERE NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ? "
    "AND sql = ?)"
)
"""Fails its transaction (the version table's key refuses the copy) unless the trigger's text is
still the one read."""
CHANGED = f"UNIQUE constraint failed: {VERSION_TABLE}.version_num"
"""How both backends word the guard's refusal."""


class TriggerChanged(StoreError):
    """The span-filing trigger changed between its lookup and the write: look again."""


def filing_trigger(backend: Backend) -> str | None:
    """The text of the store's span-filing trigger, None if it has none."""
    rows = backend.query(Statement(_TEXT, (SPAN_FILING,)))
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def without_filing_trigger(text: str, span_inserts: Sequence[Operation]) -> list[Operation]:
    """`span_inserts` run with the trigger of `text` off, inside a claimed write (see
    store/rollup_writes.py). The guard, an INSERT, goes first: Python's sqlite3 begins the
    transaction before the first INSERT, not before a DROP, which would be committed alone."""
    return [
        Statement(_UNCHANGED, (SPAN_FILING, text)),
        Statement(f"DROP TRIGGER {SPAN_FILING}"),
        *span_inserts,
        Statement(text),
    ]


def changed_trigger(exc: StoreError) -> TriggerChanged | None:
    """`exc` as a TriggerChanged when it is the guard's refusal."""
    return TriggerChanged(exc.message) if CHANGED in exc.message else None
