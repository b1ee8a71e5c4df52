"""Brings any backend's schema to the newest revision, or refuses a database it cannot use."""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from .backends import Backend
from .backends.sqlite import SQLiteBackend
from .errors import SchemaError
from .sql import Statement

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
OUR_TABLES = {"pipeline_traces", "pipeline_spans", "pipeline_trace_counts", "alembic_version"}


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
    tables = {
        row[0]
        for row in backend.query(Statement("SELECT name FROM sqlite_master WHERE type = 'table'"))
        if not str(row[0]).startswith(("sqlite_", "_litestream", "libsql_"))
    }
    if "alembic_version" in tables:
        rows = backend.query(Statement("SELECT version_num FROM alembic_version"))
        if rows:
            return str(rows[0][0])
    foreign = sorted(tables - OUR_TABLES)
    if foreign or tables:
        shown = ", ".join(foreign or sorted(tables))
        raise SchemaError(
            f"{backend.target.display}: not a pipetrace database (it has tables: {shown})"
        )
    return None


def upgrade(backend: Backend, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade to `revision`; returns (before, after). Refuses a database newer than the code."""
    before = current_revision(backend)
    if before is not None and before not in known_revisions():
        raise SchemaError(
            f"{backend.target.display}: the database is at schema revision {before}, newer than "
            f"this pipetrace knows (up to {head_revision()}); upgrade pipetrace"
        )
    target = head_revision() if revision == "head" else revision
    if before == target:
        return before, target
    if isinstance(backend, SQLiteBackend):
        _upgrade_online(backend, revision)
    else:
        _upgrade_through_sql(backend, before, revision)
    return before, target


def _upgrade_online(backend: SQLiteBackend, revision: str) -> None:
    """Run Alembic on a live SQLAlchemy connection, in one transaction."""
    config = alembic_config()
    with backend.connection() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _upgrade_through_sql(backend: Backend, before: str | None, revision: str) -> None:
    """Render the migrations as SQL offline and apply them as one atomic batch."""
    buffer = io.StringIO()
    config = alembic_config()
    config.output_buffer = buffer
    span = f"{before}:{revision}" if before else revision
    command.upgrade(config, span, sql=True)
    backend.write([Statement(sql) for sql in split_sql_script(buffer.getvalue())])


def split_sql_script(script: str) -> list[str]:
    """Alembic's offline output as separate statements, without comments."""
    statements = []
    for chunk in script.split(";\n"):
        lines = [line for line in chunk.splitlines() if not line.lstrip().startswith("--")]
        sql = "\n".join(lines).strip()
        if sql and sql.upper() not in ("BEGIN", "COMMIT", "BEGIN TRANSACTION"):
            statements.append(sql)
    return statements
