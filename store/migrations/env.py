"""Alembic environment: online on a SQLAlchemy connection, offline as SQL text for libSQL; after
each step the bookkeeping tables are brought up to date (store/bookkeeping.py)."""

from alembic import context

from pipetrace.store.bookkeeping import record_step
from pipetrace.store.schema import metadata
from pipetrace.store.schema_state import VERSION_TABLE

config = context.config

if context.is_offline_mode():
    context.configure(
        dialect_name="sqlite",
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        version_table=VERSION_TABLE,
        on_version_apply=record_step,
    )
else:
    context.configure(
        connection=config.attributes["connection"],
        target_metadata=metadata,
        render_as_batch=True,
        version_table=VERSION_TABLE,
        on_version_apply=record_step,
    )

with context.begin_transaction():
    context.run_migrations()
