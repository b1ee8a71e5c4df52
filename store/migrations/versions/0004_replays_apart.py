"""Replays are not traffic: the hourly counts leave out traces with `replay_of` set.

Additive: no table or column changes; the count triggers are recreated to skip replays, the
counts are rebuilt from the traffic rows (one GROUP BY, as 0002 filled them), and a partial
index lists the replays newest first for `--replays only`.

Revision ID: 0004_replays
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

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


def _create_triggers(bump: str, drop: str, update_of: str) -> None:
    """The three triggers that keep the counts; bodies on one line (the offline SQL for libSQL
    is split at ";" + newline)."""
    op.execute(
        "CREATE TRIGGER trg_pipeline_traces_count_insert AFTER INSERT ON pipeline_traces "
        f"BEGIN {bump}; END"
    )
    op.execute(
        "CREATE TRIGGER trg_pipeline_traces_count_delete AFTER DELETE ON pipeline_traces "
        f"BEGIN {drop}; END"
    )
    op.execute(
        f"CREATE TRIGGER trg_pipeline_traces_count_update AFTER UPDATE OF {update_of} "
        f"ON pipeline_traces BEGIN {drop}; {bump}; END"
    )


def _drop_triggers() -> None:
    """Drop the count triggers of either revision."""
    for name in NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS trg_pipeline_traces_count_{name}")


def _recount(where: str) -> None:
    """Rebuild the hourly counts from the rows `where` selects (idempotent, one GROUP BY)."""
    op.execute("DELETE FROM pipeline_trace_counts")
    op.execute(
        "INSERT INTO pipeline_trace_counts (trigger_event, status, hour, n) "
        f"SELECT trigger_event, status, started_at / {HOUR}, count(*) FROM pipeline_traces "
        f"{where} GROUP BY trigger_event, status, started_at / {HOUR}"
    )


def upgrade() -> None:
    """Count traffic only (new triggers, counts rebuilt) and index the replays newest first."""
    _drop_triggers()
    _recount("WHERE replay_of IS NULL")
    _create_triggers(BUMP, DROP, "trigger_event, status, started_at, replay_of")
    op.create_index(
        INDEX,
        "pipeline_traces",
        ["started_at", "id"],
        sqlite_where=sa.text("replay_of IS NOT NULL"),
    )


def downgrade() -> None:
    """Count every trace again."""
    op.drop_index(INDEX, "pipeline_traces")
    _drop_triggers()
    _recount("")
    _create_triggers(OLD_BUMP, OLD_DROP, "trigger_event, status, started_at")
