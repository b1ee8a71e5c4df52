"""The command line's settings: read once from its flags and the environment, then passed down."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from pipetrace.errors import PipetraceError
from pipetrace.store import DatabaseTarget, parse_database_url
from pipetrace.store.url import DEFAULT_TIMEOUT_S, mask_credentials

DB_ENV = "PIPETRACE_DB"
DB_AUTH_TOKEN_ENV = "PIPETRACE_DB_AUTH_TOKEN"
DB_TIMEOUT_ENV = "PIPETRACE_DB_TIMEOUT"
DEMO_TIMEOUT_ENV = "PIPETRACE_DEMO_TIMEOUT"
CRON_SECRET_ENV = "CRON_SECRET"
OTLP_TOKEN_ENV = "PIPETRACE_OTLP_TOKEN"
DEBUG_ENV = "PIPETRACE_DEBUG"
SECRET_ENV_PREFIX = "PIPETRACE_SECRET_"
"""PIPETRACE_SECRET_NAME=value hands a replay's scripts helpers.secret("NAME")."""
DEFAULT_DEMO_TIMEOUT_S = 15.0
_FLAG_VALUES = {
    **dict.fromkeys(("", "0", "false", "no", "off"), False),
    **dict.fromkeys(("1", "true", "yes", "on"), True),
}


class SettingsError(PipetraceError):
    """An environment variable whose value cannot be used; the message names it."""

    title = "Bad setting"


def default_store_path() -> Path:
    """The embedded store in the user's data folder (platformdirs: on Linux
    $XDG_DATA_HOME/pipetrace, else ~/.local/share/pipetrace)."""
    import platformdirs  # a few ms, paid only by commands that use the default store

    return Path(platformdirs.user_data_dir("pipetrace")) / "traces.db"


NO_VALUES: Mapping[str, str] = MappingProxyType({})


class Settings(NamedTuple):
    """What the commands, the viewer and the server are configured by, so nothing below the
    command line reads the environment and nothing writes it (a NamedTuple: a command makes
    one before it starts, and a frozen dataclass costs a millisecond to define)."""

    db_url: str | None = None
    """The store URL (--db, else PIPETRACE_DB) as given; None for the default store."""
    db_auth_token: str | None = None
    """PIPETRACE_DB_AUTH_TOKEN, sent to a libSQL server."""
    db_timeout: float = DEFAULT_TIMEOUT_S
    """PIPETRACE_DB_TIMEOUT: seconds a libSQL server has to answer each request."""
    demo_timeout: float = DEFAULT_DEMO_TIMEOUT_S
    """PIPETRACE_DEMO_TIMEOUT: seconds `demo` waits for the store to take a thousand traces."""
    cron_secret: str = ""
    """CRON_SECRET, which `serve` checks before it starts."""
    otlp_token: str = ""
    """PIPETRACE_OTLP_TOKEN: the bearer token `receive` requires when set (checked as it
    starts)."""
    debug: bool = False
    """PIPETRACE_DEBUG: show a bug's traceback."""
    default_store: Path | None = None
    """The file used when no URL is given; None: the user's data folder's
    (`default_store_path`)."""
    script_secrets: Mapping[str, str] = NO_VALUES
    """PIPETRACE_SECRET_NAME variables: what helpers.secret("NAME") hands a replay's scripts."""
    environ: Mapping[str, str] = NO_VALUES
    """The environment as read at start: `replay --env NAME` lets a name of it through to
    helpers.env."""

    def __repr__(self) -> str:
        """The settings without the token, the secrets and the environment (and the URL's
        password masked), so a log or a traceback never shows them."""
        url = None if self.db_url is None else mask_credentials(self.db_url)
        return (
            f"Settings(db_url={url!r}, db_timeout={self.db_timeout!r}, "
            f"demo_timeout={self.demo_timeout!r}, debug={self.debug!r}, "
            f"default_store={self.default_store!r})"
        )

    @classmethod
    def read(cls, environ: Mapping[str, str], *, db_url: str | None = None) -> Settings:
        """The settings from a flag (None when not given) and the environment; the flag wins
        over its variable, and a variable that is set but unusable is refused naming it."""
        return cls(
            db_url=db_url if db_url is not None else environ.get(DB_ENV),
            db_auth_token=environ.get(DB_AUTH_TOKEN_ENV) or None,
            db_timeout=_seconds(environ, DB_TIMEOUT_ENV, DEFAULT_TIMEOUT_S),
            demo_timeout=_seconds(environ, DEMO_TIMEOUT_ENV, DEFAULT_DEMO_TIMEOUT_S),
            cron_secret=environ.get(CRON_SECRET_ENV, ""),
            otlp_token=environ.get(OTLP_TOKEN_ENV, ""),
            debug=_flag(environ, DEBUG_ENV),
            script_secrets={
                name[len(SECRET_ENV_PREFIX) :]: value
                for name, value in environ.items()
                if name.startswith(SECRET_ENV_PREFIX) and len(name) > len(SECRET_ENV_PREFIX)
            },
            environ=dict(environ),
        )

    def with_db(self, db_url: str | None) -> Settings:
        """These settings with a sub-command's own --db, when it was given (it wins)."""
        return self if db_url is None else self._replace(db_url=db_url)

    def store(self) -> DatabaseTarget:
        """The store to open: the URL parsed with the libSQL token and timeout, or the default
        file; a malformed URL is a StoreError naming it."""
        if self.db_url is None:
            path = self.default_store or default_store_path()
            return DatabaseTarget("sqlite", str(path), is_default=True)
        return parse_database_url(
            self.db_url, auth_token=self.db_auth_token, timeout=self.db_timeout
        )


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds above 0 from a variable; unset or blank gives the default."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{name}={text!r}: expected a number of seconds above 0")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    """An on/off variable: 1, true, yes or on; 0, false, no, off or unset."""
    text = environ.get(name, "").strip()
    if text.lower() not in _FLAG_VALUES:
        raise SettingsError(f"{name}={text!r}: expected 1 (on) or 0 (off)")
    return _FLAG_VALUES[text.lower()]
