"""Brings any backend's schema to the newest revision, or refuses a database it cannot use."""

from __future__ import annotations

import contextlib
import functools
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from .backends import Backend
from .backends.sqlite import SQLiteBackend
from .errors import SchemaError, StoreError, StoreUnavailable
from .sql import Statement

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
UPGRADE_ATTEMPTS = 3
_ALEMBIC = threading.Lock()
"""Alembic keeps its running environment in module globals: one command at a time per process."""
OUR_TABLES = {
    "pipeline_traces",
    "pipeline_spans",
    "pipeline_trace_counts",
    "pipeline_import_spans",
    "pipeline_import_traces",
    "alembic_version",
}
REVISION_MARKS = (
    ("0005", "pipeline_import_spans"),
    ("0004_replays", "ix_pipeline_traces_replays_started"),
    ("0003", "ix_pipeline_traces_user_started"),
    ("0002", "pipeline_trace_counts"),
)
"""Newest first: a table or index each revision created, to tell a store's revision by."""


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations, with no ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision this version of pipetrace knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every revision in the packaged history."""
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(backend: Backend) -> str | None:
    """The database's revision, None for an empty database; refuses another application's."""
    return _read_revision(backend.query, backend.target.display)


def _read_revision(query: Callable[[Statement], list[tuple[Any, ...]]], where: str) -> str | None:
    """The revision as `query` sees it, so a caller holding a write lock reads through it."""
    names = query(
        Statement("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index')")
    )
    tables = {
        str(name)
        for kind, name in names
        if kind == "table" and not str(name).startswith(("sqlite_", "_litestream", "libsql_"))
    }
    if "alembic_version" in tables:
        rows = query(Statement("SELECT version_num FROM alembic_version"))
        if rows:
            return str(rows[0][0])
    foreign = sorted(tables - OUR_TABLES)
    if tables == {"alembic_version"}:
        return None  # an empty version table and nothing else: a store never created
    if not foreign and "alembic_version" in tables:
        indexes = {str(name) for kind, name in names if kind == "index"}
        raise SchemaError(_missing_version(where, tables | indexes))
    if foreign or tables:
        shown = ", ".join(foreign or sorted(tables))
        raise SchemaError(f"{where}: not a pipetrace database (it has tables: {shown})")
    return None


def _missing_version(where: str, names: set[str]) -> str:
    """Pipetrace's tables with an empty version table: say which revision they look like."""
    looks_like = next((rev for rev, mark in REVISION_MARKS if mark in names), "0001")
    return (
        f"{where}: its schema version is missing (the alembic_version table is empty, the other "
        f"tables are pipetrace's); its tables look like revision {looks_like}: record it with "
        f"INSERT INTO alembic_version VALUES ('{looks_like}'), then run pipetrace db upgrade"
    )


def _checked(revision: str | None, where: str) -> str | None:
    """`revision`, refused when a newer pipetrace wrote it."""
    if revision is not None and revision not in known_revisions():
        raise SchemaError(
            f"{where}: the database is at schema revision {revision}, newer than "
            f"this pipetrace knows (up to {head_revision()}); upgrade pipetrace"
        )
    return revision


def upgrade(backend: Backend, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade to `revision`; returns (before, after). Refuses a database newer than the code.

    Another process may be upgrading the same database at the same moment: the revision is
    read again where the upgrade cannot race (under SQLite's write lock; after a libSQL batch
    that lost), so whoever loses carries on from where the winner left the schema.
    """
    where = backend.target.display
    before = _checked(current_revision(backend), where)
    target = head_revision() if revision == "head" else revision
    if before == target:
        return before, target
    if isinstance(backend, SQLiteBackend):
        before = _upgrade_online(backend, revision, target)
    else:
        before = _upgrade_through_sql(backend, before, revision, target)
    return before, target


def _upgrade_online(backend: SQLiteBackend, revision: str, target: str) -> str | None:
    """Run Alembic on a live connection inside BEGIN IMMEDIATE; returns the revision it found.

    The write lock is taken before the revision is read, so two processes never both run the
    same migration; the one that waited finds the schema already upgraded.
    """
    where = backend.target.display
    with backend.connection() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")  # our BEGIN, not the driver's
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            query = functools.partial(_query_on, conn)
            before = _checked(_read_revision(query, where), where)
            if before != target:
                config = alembic_config()
                config.attributes["connection"] = conn
                with _ALEMBIC:
                    command.upgrade(config, revision)
            conn.exec_driver_sql("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.exec_driver_sql("ROLLBACK")
            raise
    return before


def _query_on(conn: Connection, statement: Statement) -> list[tuple[Any, ...]]:
    """Run a read on one given connection."""
    return [tuple(row) for row in conn.exec_driver_sql(statement.sql, statement.params)]


def _upgrade_through_sql(
    backend: Backend, before: str | None, revision: str, target: str
) -> str | None:
    """Render the migrations as SQL offline and apply them as one atomic batch.

    A batch that fails because another client upgraded meanwhile ("table ... already exists")
    is retried from the revision read again, and needs nothing when that is the target.
    """
    where = backend.target.display
    for _attempt in range(UPGRADE_ATTEMPTS):
        try:
            backend.write([Statement(sql) for sql in _rendered(before, revision)])
            return before
        except StoreUnavailable:
            raise
        except StoreError:
            now = _checked(current_revision(backend), where)
            if now == before:
                raise
            if now == target:
                return now
            before = now
    raise SchemaError(f"{where}: other clients kept changing the schema during the upgrade")


def _rendered(before: str | None, revision: str) -> list[str]:
    """The statements that bring `before` to `revision`, rendered offline."""
    buffer = io.StringIO()
    config = alembic_config()
    config.output_buffer = buffer
    span = f"{before}:{revision}" if before else revision
    with _ALEMBIC:
        command.upgrade(config, span, sql=True)
    return split_sql_script(buffer.getvalue())


def split_sql_script(script: str) -> list[str]:
    """Alembic's offline output as separate statements, without comments."""
    statements = []
    for chunk in script.split(";\n"):
        lines = [line for line in chunk.splitlines() if not line.lstrip().startswith("--")]
        sql = "\n".join(lines).strip()
        if sql and sql.upper() not in ("BEGIN", "COMMIT", "BEGIN TRANSACTION"):
            statements.append(sql)
    return statements
