"""Alembic environment: online on a SQLAlchemy connection, offline as SQL text for libSQL."""

from alembic import context

from pipetrace.store.schema import metadata

config = context.config

if context.is_offline_mode():
    context.configure(
        dialect_name="sqlite",
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
else:
    context.configure(
        connection=config.attributes["connection"],
        target_metadata=metadata,
        render_as_batch=True,
    )

with context.begin_transaction():
    context.run_migrations()
