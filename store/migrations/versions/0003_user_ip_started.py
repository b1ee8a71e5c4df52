"""The user and IP indexes carry the start time and id, so the user and IP filters page by index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace the one-column user and IP indexes with (column, started_at, id) ones."""
    op.drop_index("ix_pipeline_traces_user_id", "pipeline_traces")
    op.drop_index("ix_pipeline_traces_request_ip", "pipeline_traces")
    op.create_index(
        "ix_pipeline_traces_user_started", "pipeline_traces", ["user_id", "started_at", "id"]
    )
    op.create_index(
        "ix_pipeline_traces_ip_started", "pipeline_traces", ["request_ip", "started_at", "id"]
    )


def downgrade() -> None:
    """Put the one-column indexes back."""
    op.drop_index("ix_pipeline_traces_user_started", "pipeline_traces")
    op.drop_index("ix_pipeline_traces_ip_started", "pipeline_traces")
    op.create_index("ix_pipeline_traces_user_id", "pipeline_traces", ["user_id"])
    op.create_index("ix_pipeline_traces_request_ip", "pipeline_traces", ["request_ip"])
