"""Opening a store behind a URL: an auther database read in place, or pipetrace's own schema
checked (and, for writers, brought forward) before the repository is handed out."""

from __future__ import annotations

from .auther import open_auther_store
from .backends import open_backend
from .errors import StoreUnavailable
from .repository import Repository
from .schema_check import open_schema
from .sql import Statement
from .url import DatabaseTarget, parse_database_url


def open_store(
    store: str | DatabaseTarget, *, migrate: bool = True, create: bool = True
) -> Repository:
    """Open the store a URL or a parsed target names; an auther database (the original
    project's own) is recognised first and opened read-only, unmigrated.

    With `migrate` (commands that write) the additive revisions this version knows are applied;
    without it the schema is used as it is, or refused in one line where this version cannot
    read it. With `create` False nothing that is not a store already is opened: a missing or
    empty file, a pipe, a device, a database without pipetrace's tables. Raises StoreError with
    one line naming the URL and the cause when it cannot be used.
    """
    target = parse_database_url(store) if isinstance(store, str) else store
    auther = open_auther_store(target)
    if auther is not None:
        return auther
    backend = open_backend(target, create=create)
    if migrate and backend.read_only:
        backend.close()
        raise StoreUnavailable(
            f"{target.display}: the store is read-only here (its file, folder or mount): "
            "traces, show, export and the viewer read it, but nothing can change it"
        )
    try:
        backend.query(Statement("SELECT 1"))
        schema = open_schema(backend, migrate=migrate, create=create)
    except BaseException:
        backend.close()
        raise
    return Repository(backend, schema=schema)
