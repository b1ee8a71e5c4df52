"""The cron secret `serve` starts with: it must be set and long enough before anything listens."""

from __future__ import annotations

from pipetrace.errors import PipetraceError

from ..settings import CRON_SECRET_ENV

MIN_SECRET_LENGTH = 32


class SecretError(PipetraceError):
    """The server cannot start because the shared secret is missing or too short."""

    title = "Bad secret"


def checked_secret(secret: str) -> str:
    """The CRON_SECRET setting, or a one-line reason why the server must not start with it."""
    if not secret:
        raise SecretError(
            f"serve: {CRON_SECRET_ENV} is not set; set it to a random string of at least "
            f"{MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise SecretError(
            f"serve: {CRON_SECRET_ENV} is {len(secret)} characters long; it needs at least "
            f"{MIN_SECRET_LENGTH} (e.g. `openssl rand -hex 32`)"
        )
    return secret
