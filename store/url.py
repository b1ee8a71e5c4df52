"""Parses the one database URL (`--db`, `PIPETRACE_DB`) into the backend it names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from .errors import StoreError

DEFAULT_TIMEOUT_S = 15.0
REMOTE_SCHEMES = ("libsql", "http", "https", "ws", "wss")

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")
_TOKEN_PARAM = re.compile(r"(?i)([?&](?:auth_?token|token|password|secret)=)[^&#\s]*")


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """Which backend to open and where: a SQLite file path or a libSQL server URL."""

    kind: str
    """"sqlite" or "libsql"."""
    location: str
    """The file path for SQLite, the server URL for libSQL."""
    auth_token: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT_S
    """Seconds a libSQL server has to answer one request."""
    is_default: bool = False
    """The default file nobody named, which may be created on first use by any command."""

    @property
    def display(self) -> str:
        """The URL as shown to users, never with the token or a password."""
        return mask_credentials(self.location)


def mask_credentials(text: str) -> str:
    """The text with every URL's user:password and auth token replaced, so messages leak none."""
    return _TOKEN_PARAM.sub(r"\1***", _USERINFO.sub(r"\1***@", text))


def parse_database_url(
    url: str, *, auth_token: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> DatabaseTarget:
    """Resolve a URL to a target, or explain why not; a libSQL server gets the auth token and
    the seconds it has to answer each request (the store reads no environment: callers do)."""
    raw = url.strip()
    if not raw:
        raise StoreError(
            "the store URL (--db / PIPETRACE_DB) is empty: give a file path or a URL, "
            "or unset PIPETRACE_DB for the default store"
        )
    scheme = _SCHEME.match(raw)
    if scheme is None:
        return _sqlite_file(raw, Path(raw).expanduser())
    name = scheme.group(1).lower()
    if name == "sqlite" or name.startswith("sqlite+"):
        return _sqlite_url(raw)
    if name in REMOTE_SCHEMES:
        return _remote(raw, auth_token, timeout)
    raise StoreError(
        f"{mask_credentials(raw)}: unsupported database URL scheme {name!r}; use a file path, "
        "sqlite:///PATH, libsql://, http:// or https://"
    )


def _sqlite_file(raw: str, path: Path) -> DatabaseTarget:
    """A file path taken literally; SQLite's in-memory name is refused, as it keeps nothing."""
    if str(path) == ":memory:":
        raise StoreError(f"{raw}: an in-memory store keeps nothing; give a file path")
    return DatabaseTarget("sqlite", str(path))


def _sqlite_url(raw: str) -> DatabaseTarget:
    """A sqlite:/// URL: percent-escapes decoded; query parameters and fragments refused."""
    shown = mask_credentials(raw)
    parts = _split(raw)
    if parts.query:
        names = ", ".join(dict.fromkeys(k for k, _ in parse_qsl(parts.query, True))) or "?"
        raise StoreError(
            f"{shown}: unsupported query parameters ({names}); a sqlite:/// URL names only a file"
        )
    if parts.fragment:
        raise StoreError(f"{shown}: unexpected #fragment; write # in a file name as %23")
    path = unquote(parts.path)
    if parts.netloc or not path.startswith("/") or path in ("/", "/:memory:"):
        raise StoreError(
            f"{shown}: expected sqlite:///relative/path or sqlite:////absolute/path to a file"
        )
    return _sqlite_file(raw, Path(path[1:]).expanduser())


def _remote(raw: str, auth_token: str | None, timeout: float) -> DatabaseTarget:
    """A libSQL server URL, checked for a host and port before any connection is tried."""
    shown = mask_credentials(raw)
    parts = _split(raw)
    if not parts.hostname:
        raise StoreError(f"{shown}: the URL has no host")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise StoreError(f"{shown}: bad port ({exc})") from None
    return DatabaseTarget("libsql", raw, auth_token, timeout)


def _split(raw: str) -> SplitResult:
    """The URL's parts, or one line saying why it is not a URL (an unclosed IPv6 bracket)."""
    try:
        return urlsplit(raw)
    except ValueError as exc:
        raise StoreError(f"{mask_credentials(raw)}: not a valid URL ({exc})") from None
