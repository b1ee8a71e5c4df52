"""Recognises an auther database behind a URL before anything could change it, and opens it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backends import Backend, open_backend
from ..url import DatabaseTarget
from .detect import is_auther_schema
from .file_backend import AutherFileBackend, probe

if TYPE_CHECKING:
    from .repository import AutherRepository


def open_auther_store(target: DatabaseTarget) -> AutherRepository | None:
    """The auther store at `target`, or None when it is not one (then nothing was written:
    a file is looked at through a read-only connection)."""
    backend: Backend
    if target.kind == "sqlite":
        if not probe(target.location, is_auther_schema):
            return None
        backend = AutherFileBackend(target)
    else:
        backend = open_backend(target)
        try:
            if not is_auther_schema(backend.query):
                backend.close()
                return None
        except BaseException:
            backend.close()
            raise
    from .repository import AutherRepository  # its queries and rows, only for an auther store

    return AutherRepository(backend)
