"""A pipetrace from the future for schema tests: this version's migrations plus one more
revision, recorded as applied by pipetrace 9.0.0, so the running code can play the newer
version and then, back to itself, the older one."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipetrace.store import bookkeeping, revisions

FUTURE_VERSION = "9.0.0"
FUTURE_REVISION = "9000_future"
_MIGRATION = '''"""{doc}

Revision ID: 9000_future
Revises: {before}
"""

import sqlalchemy as sa
from alembic import op

revision = "9000_future"
down_revision = "{before}"
branch_labels = None
depends_on = None
breaking = {breaking}
needed_to_read = {needed_to_read}


def upgrade() -> None:
    op.add_column("pipeline_traces", sa.Column("future_note", sa.Text(), nullable=True))
    op.create_table(
        "future_rollup",
        sa.Column("day", sa.BigInteger(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("future_rollup")
'''


@contextlib.contextmanager
def future_version(
    folder: Path, *, breaking: bool = False, needed_to_read: bool = False
) -> Iterator[None]:
    """Run as pipetrace 9.0.0, whose one revision beyond this version's adds a nullable column
    and a table and is declared `breaking` or not; back to this version afterwards."""
    migrations = folder / f"future-migrations-{breaking}-{needed_to_read}"
    if not migrations.exists():
        shutil.copytree(
            revisions.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__")
        )
        doc = "A breaking future revision" if breaking else "An additive future revision"
        text = _MIGRATION.format(
            doc=doc,
            before=revisions.head_revision(),
            breaking=breaking,
            needed_to_read=needed_to_read,
        )
        (migrations / "versions" / "9000_future.py").write_text(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(revisions, "MIGRATIONS_DIR", migrations)
        patch.setattr(bookkeeping, "pipetrace_version", lambda: FUTURE_VERSION)
        yield
