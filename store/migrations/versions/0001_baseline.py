"""Baseline: pipeline_traces and pipeline_spans with the viewer's indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
breaking = False
"""The first revision: there is no older pipetrace for it to lock out."""
needed_to_read = True
"""Reads need its tables: a store without them is not a pipetrace store."""


def upgrade() -> None:
    """Create both tables and the indexes the list, filters and COUNT use."""
    op.create_table(
        "pipeline_traces",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("trigger_event", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_message", sa.Text()),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger()),
        sa.Column("duration_ms", sa.Float()),
        sa.Column("user_id", sa.String(200)),
        sa.Column("request_ip", sa.String(64)),
        sa.Column("context_snapshot", sa.Text()),
        sa.Column("result_data", sa.Text()),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("allowed", sa.Boolean(create_constraint=False)),
        sa.Column("replay_of", sa.String(32)),
        sa.Column("pipeline_version", sa.String(64)),
        sa.Column("span_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("source", sa.String(16), nullable=False, server_default="engine"),
        sa.Column("attributes", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_traces"),
    )
    op.create_index("ix_pipeline_traces_started_at_id", "pipeline_traces", ["started_at", "id"])
    op.create_index(
        "ix_pipeline_traces_trigger_status_started",
        "pipeline_traces",
        ["trigger_event", "status", "started_at"],
    )
    op.create_index(
        "ix_pipeline_traces_status_started", "pipeline_traces", ["status", "started_at"]
    )
    op.create_index("ix_pipeline_traces_duration", "pipeline_traces", ["duration_ms"])
    op.create_index("ix_pipeline_traces_user_id", "pipeline_traces", ["user_id"])
    op.create_index("ix_pipeline_traces_request_ip", "pipeline_traces", ["request_ip"])
    op.create_index("ix_pipeline_traces_replay_of", "pipeline_traces", ["replay_of"])
    op.create_table(
        "pipeline_spans",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="INTERNAL"),
        sa.Column("script_id", sa.String(200)),
        sa.Column("layer_index", sa.Integer()),
        sa.Column("parallel_index", sa.Integer()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_message", sa.Text()),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger()),
        sa.Column("duration_ms", sa.Float()),
        sa.Column("attributes", sa.Text()),
        sa.Column("extra", sa.Text()),
        sa.PrimaryKeyConstraint("pk", name="pk_pipeline_spans"),
        sa.ForeignKeyConstraint(
            ["trace_id"],
            ["pipeline_traces.id"],
            name="fk_pipeline_spans_trace_id_pipeline_traces",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_pipeline_spans_trace_id_started", "pipeline_spans", ["trace_id", "started_at"]
    )


def downgrade() -> None:
    """Drop everything the baseline created."""
    op.drop_table("pipeline_spans")
    op.drop_table("pipeline_traces")
