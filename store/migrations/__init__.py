"""Alembic migration scripts for the trace store."""
