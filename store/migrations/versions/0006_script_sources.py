"""Script sources: the text of every script version the engine ran, stored once by its sha256,
so `show` and the viewer can print the line a script failed at after its file has changed.

Additive: one new table; no existing table or index changes.

Revision ID: 0006_script_sources
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_script_sources"
down_revision = "0005"
branch_labels = None
depends_on = None
breaking = False
"""A new table only: older versions never read it, and their traces simply have no source."""
needed_to_read = False
"""Without it a store is read as before; `show` and the viewer say the source was not kept."""


def upgrade() -> None:
    """Create the table of script sources."""
    op.create_table(
        "pipeline_script_sources",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.Column("used_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_pipeline_script_sources"),
    )


def downgrade() -> None:
    """Drop the table (the traces keep their scripts' sha256)."""
    op.drop_table("pipeline_script_sources")
