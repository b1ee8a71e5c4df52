"""Replays are not traffic: the hourly counts leave out traces with `replay_of` set.

Additive: no table or column changes; the count triggers are recreated to skip replays, the
counts are rebuilt from the traffic rows, and a partial index lists the replays newest first
for `--replays only`. The runner rebuilds the counts a range of hours per short transaction
once the new triggers are in, and builds the index online on SQLite, before this revision's
own transaction, which then finds both done.

Revision ID: 0004_replays
Revises: 0003
Create Date: 2026-12-06
"""

from alembic import op

from pipetrace.store.backfill import Backfill
from pipetrace.store.index_changes import IndexChanges, NewIndex

revision = "0004_replays"
down_revision = "0003"
branch_labels = None
depends_on = None
breaking = False
"""Older versions write as before; the new triggers keep their rows' counts too."""
needed_to_read = False
"""Without it the hourly counts include replays, so counts read the rows instead."""

HOUR = "3600000000000"
INDEX = "ix_pipeline_traces_replays_started"
NAMES = ("insert", "delete", "update")
BUMP = (
    "INSERT INTO pipeline_trace_counts (trigger_event, status, hour, n) "
    f"SELECT NEW.trigger_event, NEW.status, NEW.started_at / {HOUR}, 1 "
    "WHERE NEW.replay_of IS NULL "
    "ON CONFLICT (trigger_event, status, hour) DO UPDATE SET n = n + 1"
)
DROP = (
    "UPDATE pipeline_trace_counts SET n = n - 1 WHERE OLD.replay_of IS NULL "
    "AND trigger_event = OLD.trigger_event "
    f"AND status = OLD.status AND hour = OLD.started_at / {HOUR}"
)
OLD_BUMP = (
    "INSERT INTO pipeline_trace_counts (trigger_event, status, hour, n) "
    f"VALUES (NEW.trigger_event, NEW.status, NEW.started_at / {HOUR}, 1) "
    "ON CONFLICT (trigger_event, status, hour) DO UPDATE SET n = n + 1"
)
OLD_DROP = (
    "UPDATE pipeline_trace_counts SET n = n - 1 WHERE trigger_event = OLD.trigger_event "
    f"AND status = OLD.status AND hour = OLD.started_at / {HOUR}"
)
DROP_TRIGGERS = tuple(f"DROP TRIGGER IF EXISTS trg_pipeline_traces_count_{name}" for name in NAMES)
"""The count triggers of either revision."""


def _triggers(bump: str, drop: str, update_of: str) -> tuple[str, ...]:
    """The three triggers that keep the counts; bodies on one line (the offline SQL for libSQL
    is split at ";" + newline)."""
    return (
        "CREATE TRIGGER trg_pipeline_traces_count_insert AFTER INSERT ON pipeline_traces "
        f"BEGIN {bump}; END",
        "CREATE TRIGGER trg_pipeline_traces_count_delete AFTER DELETE ON pipeline_traces "
        f"BEGIN {drop}; END",
        f"CREATE TRIGGER trg_pipeline_traces_count_update AFTER UPDATE OF {update_of} "
        f"ON pipeline_traces BEGIN {drop}; {bump}; END",
    )


def _fill(where: str) -> str:
    """The counts of the rows `where` selects, by trigger, status and hour; `+replay_of` keeps
    SQLite on the start-time index (on the replay_of index it reads every traffic row)."""
    return (
        "INSERT INTO pipeline_trace_counts (trigger_event, status, hour, n) "
        f"SELECT trigger_event, status, started_at / {HOUR}, count(*) FROM pipeline_traces "
        f"WHERE {where} GROUP BY trigger_event, status, started_at / {HOUR}"
    )


backfills = (
    Backfill(
        target="pipeline_trace_counts",
        unit_column="hour",
        source="pipeline_traces",
        column="started_at",
        unit=int(HOUR),
        fill=_fill("{rows} AND +replay_of IS NULL"),
        keep=(
            *DROP_TRIGGERS,
            *_triggers(BUMP, DROP, "trigger_event, status, started_at, replay_of"),
        ),
    ),
)
"""The counts, rebuilt without replays once the new triggers count traffic only."""
index_changes = IndexChanges(
    "pipeline_traces",
    create=(NewIndex(INDEX, ("started_at", "id"), where="replay_of IS NOT NULL"),),
)
"""Built online on SQLite (the runner rebuilds the table in short batches first)."""


def upgrade() -> None:
    """Count traffic only (new triggers, counts rebuilt) and index the replays newest first."""
    for backfill in backfills:
        backfill.apply()
    index_changes.apply()


def downgrade() -> None:
    """Count every trace again."""
    op.drop_index(INDEX, "pipeline_traces")
    for sql in (
        *DROP_TRIGGERS,
        "DELETE FROM pipeline_trace_counts",
        _fill("TRUE"),
        *_triggers(OLD_BUMP, OLD_DROP, "trigger_event, status, started_at"),
    ):
        op.execute(sql)
