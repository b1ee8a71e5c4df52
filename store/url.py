"""Parses the one database URL (`--db`, `PIPETRACE_DB`) into the backend it names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import StoreError

ENV_URL = "PIPETRACE_DB"
ENV_TOKEN = "PIPETRACE_DB_AUTH_TOKEN"
REMOTE_SCHEMES = ("libsql", "http", "https", "ws", "wss")


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """Which backend to open and where: a SQLite file path or a libSQL server URL."""

    kind: str
    """"sqlite" or "libsql"."""
    location: str
    """The file path for SQLite, the server URL for libSQL."""
    auth_token: str | None = None

    @property
    def display(self) -> str:
        """The URL as shown to users, never with the token."""
        return self.location


def default_database_path() -> Path:
    """The embedded store's file in the user's data folder (XDG on Linux)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pipetrace" / "traces.db"


def parse_database_url(url: str | None) -> DatabaseTarget:
    """Resolve a URL (or the environment, or the default file) to a target, or explain why not."""
    raw = url if url is not None else os.environ.get(ENV_URL) or ""
    raw = raw.strip()
    if not raw:
        return DatabaseTarget("sqlite", str(default_database_path()))
    if "://" not in raw:
        return DatabaseTarget("sqlite", str(Path(raw).expanduser()))
    scheme = raw.split("://", 1)[0].lower()
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        path = raw.split("://", 1)[1]
        if not path.startswith("/") or path in ("/", "/:memory:"):
            raise StoreError(
                f"{raw}: expected sqlite:///relative/path or sqlite:////absolute/path to a file"
            )
        return DatabaseTarget("sqlite", str(Path(path[1:]).expanduser()))
    if scheme in REMOTE_SCHEMES:
        parts = urlsplit(raw)
        if not parts.hostname:
            raise StoreError(f"{raw}: the URL has no host")
        try:
            parts.port  # noqa: B018 - validates the port
        except ValueError as exc:
            raise StoreError(f"{raw}: bad port ({exc})") from None
        token = os.environ.get(ENV_TOKEN) or None
        return DatabaseTarget("libsql", raw, token)
    raise StoreError(
        f"{raw}: unsupported database URL scheme {scheme!r}; use a file path, sqlite:///PATH, "
        "libsql://, http:// or https://"
    )
