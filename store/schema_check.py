"""Decides whether this version can use a store as it is, from its bookkeeping tables and the
migrations' own declarations; Alembic is imported only when a revision is actually due.

A store may be shared by several pipetrace versions. One that finds revisions it does not know
uses the store anyway when they are all additive (it says once which version wrote them), and
is refused only by a breaking one. Commands that only read never migrate; writers apply
additive revisions themselves, while a breaking one waits for `pipetrace db upgrade`.
"""

from __future__ import annotations

from typing import NamedTuple

from .backends import Backend
from .errors import SchemaError
from .revisions import includes, known_revisions, pending, pipetrace_version
from .schema_state import StoreSchema, read_schema


class OpenedSchema(NamedTuple):
    """The schema a command found (and maybe upgraded), and what to tell its user once."""

    schema: StoreSchema
    notice: str | None = None
    """Set when a newer pipetrace added revisions this one does not know but can ignore."""

    def includes(self, revision: str) -> bool:
        """Whether the store has `revision` (a newer store than this version has them all)."""
        return includes(self.schema.revision, revision)


def check_compatible(schema: StoreSchema, where: str) -> str | None:
    """None when this version knows the store's revision; a notice when a newer version only
    added what this one can ignore; refused when a newer version made a breaking change."""
    known = known_revisions()
    marker, revision = schema.marker, schema.revision
    if marker is not None and marker not in known:
        applied = schema.applied(marker)
        if applied is None:
            raise _unknown_revision(where, marker, known[-1])
        raise SchemaError(
            f"{where}: pipetrace {applied.pipetrace_version} made a breaking change to the "
            f"store's schema (revision {marker}) that this pipetrace ({pipetrace_version()}, "
            f"revisions up to {known[-1]}) cannot use; install pipetrace "
            f"{applied.pipetrace_version} or newer"
        )
    if revision is None or revision in known:
        return None
    newer = [row for row in schema.log if row.revision not in known]
    if not newer or newer[-1].revision != revision:
        raise _unknown_revision(where, revision, known[-1])
    return (
        f"{where} was last upgraded by pipetrace {newer[-1].pipetrace_version} (schema "
        f"revision {revision}); this pipetrace ({pipetrace_version()}, revisions up to "
        f"{known[-1]}) uses it as it is: the newer revisions only add what it can ignore"
    )


def _unknown_revision(where: str, revision: str, head: str) -> SchemaError:
    """A revision this version does not know, with no log row to say who wrote it."""
    return SchemaError(
        f"{where}: the database is at schema revision {revision}, newer than this pipetrace "
        f"knows (up to {head}); upgrade pipetrace"
    )


def open_schema(backend: Backend, *, migrate: bool, create: bool) -> OpenedSchema:
    """Check the store before a command uses it; writers (`migrate`) apply additive revisions.

    A database without pipetrace's tables is opened only by a command that may create a store
    (and made one when it also migrates); one that only reads is refused where it would need
    `pipetrace db upgrade`.
    """
    where = backend.target.display
    schema = read_schema(backend.query, where)
    notice = check_compatible(schema, where)
    if schema.revision is None and not create:
        raise SchemaError(
            f"{where}: not a pipetrace store (the database has no tables); make one with "
            "pipetrace demo, run, import or db upgrade"
        )
    if not migrate:
        _check_readable(schema, where)
    elif migration_due(schema):
        apply_additive_revisions(backend)
        schema = read_schema(backend.query, where)
    return OpenedSchema(schema, notice)


def migration_due(schema: StoreSchema) -> bool:
    """Whether this version knows revisions the store lacks (a store a newer version upgraded
    lacks none: it is used as it is)."""
    if schema.revision is not None and schema.revision not in known_revisions():
        return False
    return bool(pending(schema.revision))


def apply_additive_revisions(backend: Backend) -> tuple[str | None, str | None]:
    """Apply the additive revisions this version knows, refusing a breaking one; returns the
    store's revision (before, after). Alembic and SQLAlchemy are imported here, where a
    migration is due, and by `pipetrace db`."""
    from .migrate import upgrade

    return upgrade(backend, breaking=False)


def _check_readable(schema: StoreSchema, where: str) -> None:
    """Refuse a store older than this version's reads can handle, naming the command to run."""
    if schema.revision not in known_revisions():
        return
    needed = [step for step in pending(schema.revision) if step.needed_to_read]
    if needed:
        raise SchemaError(
            f"{where}: the store is at schema revision {schema.revision}, older than this "
            f"pipetrace reads (it needs revision {needed[-1].revision}); run pipetrace db "
            "upgrade, or read it with the pipetrace version that wrote it"
        )
