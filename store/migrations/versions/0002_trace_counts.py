"""Hourly trace counts per trigger and status, kept by SQL triggers, for a flat COUNT.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
breaking = False
"""Older versions write rows as before; the triggers keep the counts for them too."""
needed_to_read = False
"""Without the counts, a count reads the rows instead (slower, same answer)."""

HOUR = "3600000000000"
BUMP = (
    "INSERT INTO pipeline_trace_counts (trigger_event, status, hour, n) "
    f"VALUES (NEW.trigger_event, NEW.status, NEW.started_at / {HOUR}, 1) "
    "ON CONFLICT (trigger_event, status, hour) DO UPDATE SET n = n + 1"
)
DROP = (
    "UPDATE pipeline_trace_counts SET n = n - 1 WHERE trigger_event = OLD.trigger_event "
    f"AND status = OLD.status AND hour = OLD.started_at / {HOUR}"
)


def upgrade() -> None:
    """Create the counts, fill them from the rows already stored, and keep them by triggers."""
    op.create_table(
        "pipeline_trace_counts",
        sa.Column("trigger_event", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("trigger_event", "status", "hour", name="pk_pipeline_trace_counts"),
    )
    op.execute(
        "INSERT INTO pipeline_trace_counts (trigger_event, status, hour, n) "
        f"SELECT trigger_event, status, started_at / {HOUR}, count(*) FROM pipeline_traces "
        f"GROUP BY trigger_event, status, started_at / {HOUR}"
    )
    # Trigger bodies stay on one line: the offline SQL for libSQL is split at ";" + newline.
    op.execute(
        "CREATE TRIGGER trg_pipeline_traces_count_insert AFTER INSERT ON pipeline_traces "
        f"BEGIN {BUMP}; END"
    )
    op.execute(
        "CREATE TRIGGER trg_pipeline_traces_count_delete AFTER DELETE ON pipeline_traces "
        f"BEGIN {DROP}; END"
    )
    op.execute(
        "CREATE TRIGGER trg_pipeline_traces_count_update AFTER UPDATE OF trigger_event, status, "
        f"started_at ON pipeline_traces BEGIN {DROP}; {BUMP}; END"
    )


def downgrade() -> None:
    """Drop the triggers and the counts."""
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_pipeline_traces_count_{name}")
    op.drop_table("pipeline_trace_counts")
