"""Staging tables for imports: a file's spans and its traces' summaries wait there until one
transaction moves them into pipeline_spans and pipeline_traces. Additive: no existing table or
index changes.

Revision ID: 0005
Revises: 0004_replays
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004_replays"
branch_labels = None
depends_on = None
breaking = False
"""New tables only: older versions never read them."""
needed_to_read = False
"""Only imports use the staging tables: without them a store is read as before."""


def _span_columns() -> list[sa.Column[object]]:
    """The columns of pipeline_spans (without its key), as staged spans carry them."""
    return [
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
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
    ]


def _trace_columns() -> list[sa.Column[object]]:
    """The columns of pipeline_traces but its id, as staged summaries carry them."""
    return [
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
        sa.Column("span_count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("attributes", sa.Text()),
    ]


def upgrade() -> None:
    """Create the two staging tables and their indexes."""
    op.create_table(
        "pipeline_import_spans",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.String(32), nullable=False),
        sa.Column("staged_at", sa.BigInteger(), nullable=False),
        sa.Column("identity", sa.String(32), nullable=False),
        sa.Column("carried", sa.Text()),
        sa.Column("user_hint", sa.Text()),
        sa.Column("ip_hint", sa.Text()),
        *_span_columns(),
        sa.PrimaryKeyConstraint("pk", name="pk_pipeline_import_spans"),
    )
    op.create_index(
        "ux_pipeline_import_spans_identity",
        "pipeline_import_spans",
        ["import_id", "trace_id", "identity"],
        unique=True,
    )
    op.create_table(
        "pipeline_import_traces",
        sa.Column("import_id", sa.String(32), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("staged_at", sa.BigInteger(), nullable=False),
        sa.Column("existed", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        *_trace_columns(),
        sa.CheckConstraint("stale = 0", name="fresh"),
        sa.PrimaryKeyConstraint("import_id", "trace_id", name="pk_pipeline_import_traces"),
    )


def downgrade() -> None:
    """Drop the staging tables (anything staged in them is an unfinished import)."""
    op.drop_table("pipeline_import_traces")
    op.drop_index("ux_pipeline_import_spans_identity", "pipeline_import_spans")
    op.drop_table("pipeline_import_spans")
