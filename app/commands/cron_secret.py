"""The cron secret `serve` starts with: it must be set and long enough before anything listens."""

from __future__ import annotations

import os

SECRET_ENV = "CRON_SECRET"
MIN_SECRET_LENGTH = 32


class SecretError(ValueError):
    """The server cannot start because the shared secret is missing or too short."""

    title = "Bad secret"


def secret_from_env() -> str:
    """CRON_SECRET, or a one-line reason why the server must not start without it."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise SecretError(
            f"serve: {SECRET_ENV} is not set; set it to a random string of at least "
            f"{MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise SecretError(
            f"serve: {SECRET_ENV} is {len(secret)} characters long; it needs at least "
            f"{MIN_SECRET_LENGTH} (e.g. `openssl rand -hex 32`)"
        )
    return secret
