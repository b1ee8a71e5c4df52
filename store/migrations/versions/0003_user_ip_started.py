"""The user and IP indexes carry the start time and id, so the user and IP filters page by index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

from pipetrace.store.index_changes import IndexChanges, NewIndex

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
breaking = False
"""Only indexes change: older versions run the same queries, planned over other indexes."""
needed_to_read = False
"""Without the new indexes the user and IP filters still answer, by sorting their matches."""
index_changes = IndexChanges(
    "pipeline_traces",
    create=(
        NewIndex("ix_pipeline_traces_user_started", ("user_id", "started_at", "id")),
        NewIndex("ix_pipeline_traces_ip_started", ("request_ip", "started_at", "id")),
    ),
    drop=("ix_pipeline_traces_user_id", "ix_pipeline_traces_request_ip"),
)
"""Built online on SQLite (the runner rebuilds the table in short batches first)."""


def upgrade() -> None:
    """Replace the one-column user and IP indexes with (column, started_at, id) ones."""
    index_changes.apply()


def downgrade() -> None:
    """Put the one-column indexes back."""
    op.drop_index("ix_pipeline_traces_user_started", "pipeline_traces")
    op.drop_index("ix_pipeline_traces_ip_started", "pipeline_traces")
    op.create_index("ix_pipeline_traces_user_id", "pipeline_traces", ["user_id"])
    op.create_index("ix_pipeline_traces_request_ip", "pipeline_traces", ["request_ip"])
