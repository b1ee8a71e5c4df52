"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}
breaking = False
"""True only if older pipetrace versions cannot read and write the store once it is applied
(a dropped or renamed column, a new NOT NULL column without a default, a changed meaning);
new tables, nullable columns, indexes and triggers older code tolerates are additive."""
needed_to_read = False
"""True if this version's reads fail on a store without it (then read-only commands ask for
`pipetrace db upgrade` instead of reading the store as it is). New indexes are declared as
`index_changes = IndexChanges(...)` and made in upgrade() by index_changes.apply() (see 0003), so
SQLite builds them without holding the write lock for the whole build."""


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
