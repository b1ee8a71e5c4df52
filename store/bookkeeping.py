"""The tables that say which migrations a store has and which pipetrace versions may use it,
kept by the migration runner after every step, online and in the SQL rendered for libSQL.

- `pipetrace_revision` is Alembic's version table: the store's newest revision.
- `pipetrace_migrations` logs every revision applied: whether it is breaking, and which
  pipetrace version applied it, so an older version can tell what a newer one changed.
- `alembic_version` keeps its old meaning for every pipetrace version, older ones included:
  the revision a version must know to use the store. It moves only with the revisions that
  pipetrace recorded there before this log existed and with breaking ones, so an additive
  revision leaves older versions able to open the store.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any, cast

from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    insert,
)
from sqlalchemy.schema import CreateTable

from .revisions import pipetrace_version
from .schema_state import COMPATIBILITY_MARKER, MIGRATION_LOG, VERSION_TABLE

LEGACY_REVISIONS = ("0001", "0002", "0003", "0004_replays", "0005")
"""Revisions that versions from before the log recorded in `alembic_version` alone: those
versions upgrade any store at a revision they know, so it must name the newest of these applied
(else they would run one again)."""

bookkeeping = MetaData()

migration_log = Table(
    MIGRATION_LOG,
    bookkeeping,
    Column("revision", String(32), primary_key=True),
    Column("breaking", Boolean(create_constraint=False), nullable=False),
    Column("pipetrace_version", String(64), nullable=False),
    Column("applied_at", BigInteger, nullable=False, comment="Unix ns"),
)

compatibility_marker = Table(
    COMPATIBILITY_MARKER,
    bookkeeping,
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)

TABLES = frozenset({VERSION_TABLE, migration_log.name, compatibility_marker.name})
ADOPT_SQL = (
    f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
    f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))",
    f"INSERT INTO {VERSION_TABLE} SELECT version_num FROM alembic_version "
    f"WHERE NOT EXISTS (SELECT 1 FROM {VERSION_TABLE})",
)
"""A store made before the migration log records its revision in alembic_version only: copy it
into Alembic's version table before the first migration this version applies."""


def revision_guard(revision: str) -> str:
    """A statement that fails, and its transaction with it, unless the store is at `revision`
    (it copies any other revision into the version table, whose key refuses the copy), so a
    write meant for one revision never lands on a store another process has moved on."""
    return (
        f"INSERT INTO {VERSION_TABLE} (version_num) SELECT version_num FROM {VERSION_TABLE} "
        f"WHERE version_num <> '{revision}'"
    )


def is_breaking(script: Script) -> bool:
    """What a migration declares: True locks older pipetrace versions out of the store."""
    declared = getattr(script.module, "breaking", None)
    if not isinstance(declared, bool):
        raise TypeError(f"migration {script.revision} must declare breaking = True or False")
    return declared


def record_step(
    ctx: MigrationContext,
    step: MigrationInfo,
    heads: Collection[Any],
    run_args: Mapping[str, Any],
) -> None:
    """Alembic's on_version_apply hook: log the revision just applied, and move the
    compatibility marker when older versions must know the revision to use the store."""
    if not step.is_upgrade or step.up_revision is None:
        return
    script = cast(Script, step.up_revision)
    breaking = is_breaking(script)
    ctx.execute(CreateTable(migration_log, if_not_exists=True))
    ctx.execute(
        insert(migration_log)
        .prefix_with("OR REPLACE")
        .values(
            revision=script.revision,
            breaking=breaking,
            pipetrace_version=pipetrace_version(),
            applied_at=time.time_ns(),
        )
    )
    if breaking or script.revision in LEGACY_REVISIONS:
        ctx.execute(CreateTable(compatibility_marker, if_not_exists=True))
        ctx.execute(delete(compatibility_marker))
        ctx.execute(insert(compatibility_marker).values(version_num=script.revision))
