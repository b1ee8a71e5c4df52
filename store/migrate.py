"""Brings a store's schema forward with Alembic: online on SQLite, revision by revision, and as
rendered SQL on libSQL. Imported only where a migration is due (see store/schema_check.py,
which decides that without Alembic) and by `pipetrace db`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from . import revisions
from .backends import Backend
from .backends.sqlite import SQLiteBackend
from .backends.sqlite_rebuild import rebuild_with_indexes
from .backfill import BACKFILLED, Backfill
from .backfill_run import backfill_in_batches
from .bookkeeping import ADOPT_SQL, is_breaking, revision_guard
from .errors import SchemaError, StoreError, StoreUnavailable
from .index_changes import IndexChanges
from .revisions import head_revision, includes, known_revisions, pipetrace_version
from .schema_check import check_compatible
from .schema_state import StoreSchema, read_schema
from .sql import Statement
from .upgrade_batches import Progress

_ALEMBIC = threading.Lock()
"""Alembic keeps its running environment in module globals: one command at a time per process."""
__all__ = [
    "ADOPT_SQL",
    "backfills",
    "check_compatible",
    "current_revision",
    "head_revision",
    "includes",
    "known_revisions",
    "pending_scripts",
    "render_sql",
    "split_sql_script",
    "upgrade",
]


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations, with no ini file."""
    config = Config()
    config.set_main_option("script_location", str(revisions.MIGRATIONS_DIR))
    return config


def script_directory() -> ScriptDirectory:
    """The packaged migration scripts (read once per folder)."""
    return _scripts(str(revisions.MIGRATIONS_DIR))


@functools.cache
def _scripts(folder: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def pending_scripts(before: str | None, target: str) -> list[Script]:
    """The migrations that bring a store at `before` to `target`, oldest first."""
    script = script_directory()
    return list(reversed(list(script.iterate_revisions(target, before or "base"))))


def current_revision(backend: Backend) -> str | None:
    """The database's revision, None for an empty database; refuses another application's."""
    return read_schema(backend.query, backend.target.display).revision


def backfills(script: Script) -> tuple[Backfill, ...]:
    """The derived tables a migration declares it refills (`backfills`), which the runner
    refills in batches before the migration's own transaction."""
    return tuple(b for b in getattr(script.module, "backfills", ()) if isinstance(b, Backfill))


def _refuse_breaking(steps: list[Script], before: str, where: str) -> None:
    """A writer does not apply a breaking revision on its own: older versions would lose the
    store under everyone using it, so it waits for `pipetrace db upgrade`."""
    breaking = [s.revision for s in steps if is_breaking(s)]
    if breaking:
        raise SchemaError(
            f"{where}: the store is at schema revision {before}; this pipetrace needs revision "
            f"{breaking[0]}, a breaking change that locks older pipetrace versions out: run "
            f"pipetrace db upgrade once everything that uses the store runs pipetrace "
            f"{pipetrace_version()} or newer"
        )


def upgrade(
    backend: Backend,
    revision: str = "head",
    *,
    breaking: bool = True,
    on_progress: Progress | None = None,
) -> tuple[str | None, str | None]:
    """Upgrade to `revision`; returns (before, after). With `breaking` False a breaking
    revision is refused; a store that a newer version upgraded is left as it is.

    A revision's declared backfills are first refilled a range per short transaction, on
    both backends. Then on SQLite the indexes it declares are built online and the revision is
    its own short transaction; on libSQL the rendered SQL goes as one batch (cut where a
    revision has backfills). Another process may be upgrading at the same moment: the revision
    is read again where the upgrade cannot race (under SQLite's write lock; after a libSQL
    batch that lost), so whoever loses carries on from where the winner left the schema.
    """
    where = backend.target.display
    schema = read_schema(backend.query, where)
    check_compatible(schema, where)
    before = schema.revision
    if before is not None and before not in known_revisions():
        return before, before
    target = head_revision() if revision == "head" else revision
    steps = pending_scripts(before, target)
    if not steps:
        return before, target
    if not breaking and before is not None:
        _refuse_breaking(steps, before, where)
    if isinstance(backend, SQLiteBackend):
        for step in steps:
            backfilled = _backfill_before(backend, step, on_progress)
            changes = getattr(step.module, "index_changes", None)
            if isinstance(changes, IndexChanges):
                rebuild_with_indexes(backend, changes, on_progress)
            _apply_online(backend, step, backfilled)
    else:
        _upgrade_through_sql(backend, schema, target, on_progress)
    return before, target


def _backfill_before(
    backend: Backend, step: Script, on_progress: Progress | None
) -> frozenset[str]:
    """Refill the tables `step` derives, in batches, while the store is at the revision before
    it; the targets refilled (none when the store is elsewhere: another process went on)."""
    declared = backfills(step)
    if not declared:
        return frozenset()
    schema = read_schema(backend.query, backend.target.display)
    before = schema.revision
    if before is None or before != step.down_revision:
        return frozenset()
    done: set[str] = set()
    for backfill in declared:
        adopt = not schema.adopted and not done
        if backfill_in_batches(backend, backfill, before, adopt=adopt, on_progress=on_progress):
            done.add(backfill.target)
    return frozenset(done)


def _apply_online(backend: SQLiteBackend, step: Script, backfilled: frozenset[str]) -> None:
    """Run one migration with Alembic on a live connection inside BEGIN IMMEDIATE.

    The write lock is taken before the revision is read, so two processes never both run the
    same migration; the one that waited finds it applied and does nothing.
    """
    where = backend.target.display
    with _alembic_connection(backend) as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")  # our BEGIN, not the driver's
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            schema = read_schema(functools.partial(_query_on, conn), where)
            check_compatible(schema, where)
            if schema.revision == step.down_revision:
                if schema.revision is not None and not schema.adopted:
                    for sql in ADOPT_SQL:
                        conn.exec_driver_sql(sql)
                config = alembic_config()
                config.attributes["connection"] = conn
                config.attributes[BACKFILLED] = backfilled
                with _ALEMBIC:
                    command.upgrade(config, step.revision)
            elif not includes(schema.revision, step.revision):
                raise SchemaError(
                    f"{where}: expected schema revision {step.down_revision} before applying "
                    f"{step.revision}, found {schema.revision}"
                )
            conn.exec_driver_sql("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.exec_driver_sql("ROLLBACK")
            raise


@contextlib.contextmanager
def _alembic_connection(backend: SQLiteBackend) -> Iterator[Connection]:
    """A SQLAlchemy connection for Alembic over a new connection to the store, set up as the
    backend's own are, and closed afterwards; driver errors as one-line store errors."""
    engine = create_engine("sqlite://", creator=backend.connect, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    except DBAPIError as exc:
        raise backend.explain(exc.orig) from None
    except sqlite3.Error as exc:
        raise backend.explain(exc) from None
    finally:
        engine.dispose()


def _query_on(conn: Connection, statement: Statement) -> list[tuple[Any, ...]]:
    """Run a read on one given connection."""
    return [tuple(row) for row in conn.exec_driver_sql(statement.sql, statement.params)]


def _upgrade_through_sql(
    backend: Backend, schema: StoreSchema, target: str, on_progress: Progress | None
) -> None:
    """Render the migrations as SQL offline and apply them as atomic batches: one for all of
    them, except that a revision with backfills starts a batch of its own, sent once those are
    refilled in batches.

    A batch starts with the revision guard, so one that another client's upgrade overtook
    fails; the upgrade carries on from the revision read again. Each such failure means the
    store moved on, so there are at most as many as there are revisions.
    """
    where = backend.target.display
    failures = 0
    while not includes(schema.revision, target):
        steps = pending_scripts(schema.revision, target)
        end = next((s for s in steps[1:] if backfills(s)), None)
        last = steps[-1].revision if end is None else str(end.down_revision)
        backfilled = _backfill_before(backend, steps[0], on_progress)
        try:
            backend.write([Statement(sql) for sql in rendered_upgrade(schema, last, backfilled)])
        except StoreUnavailable:
            raise
        except StoreError:
            now = read_schema(backend.query, where)
            check_compatible(now, where)
            failures += 1
            if now.revision == schema.revision:
                raise
            if failures > len(known_revisions()):
                raise SchemaError(
                    f"{where}: other clients kept changing the schema during the upgrade"
                ) from None
            schema = now
            continue
        schema = read_schema(backend.query, where)


def rendered_upgrade(
    schema: StoreSchema, target: str, backfilled: frozenset[str] = frozenset()
) -> list[str]:
    """The statements that bring a store from its revision to `target`, rendered offline:
    first those that adopt a store made before the migration log, and the guard that fails
    unless the store is still at its revision; `backfilled` as for `render_sql`."""
    if schema.revision is None:
        return render_sql(None, target, backfilled)
    adopt = [] if schema.adopted else list(ADOPT_SQL)
    guard = revision_guard(schema.revision)
    return [*adopt, guard, *render_sql(schema.revision, target, backfilled)]


def render_sql(
    before: str | None, revision: str, backfilled: frozenset[str] = frozenset()
) -> list[str]:
    """The statements that bring `before` to `revision` as Alembic renders them offline,
    without refilling the `backfilled` tables (the runner did that in batches before)."""
    buffer = io.StringIO()
    config = alembic_config()
    config.attributes[BACKFILLED] = backfilled
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
