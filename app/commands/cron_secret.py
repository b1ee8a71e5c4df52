"""The shared secrets the servers start with (`serve`'s CRON_SECRET, `receive`'s
PIPETRACE_OTLP_TOKEN): set, long enough and sendable before anything listens."""

from __future__ import annotations

from pipetrace.errors import PipetraceError

from ..settings import CRON_SECRET_ENV

MIN_SECRET_LENGTH = 32


class SecretError(PipetraceError):
    """The server cannot start because the shared secret is missing, too short or unsendable."""

    title = "Bad secret"


def checked_secret(secret: str, variable: str = CRON_SECRET_ENV, command: str = "serve") -> str:
    """The secret `variable` holds, or a one-line reason why `command` must not start with it."""
    if not secret:
        raise SecretError(
            f"{command}: {variable} is not set (or empty); set it to a random string of at "
            f"least {MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)"
        )
    odd = next((n for n, c in enumerate(secret) if not "!" <= c <= "~"), None)
    if odd is not None:
        raise SecretError(
            f"{command}: {variable} holds {_named(secret[odd])} at character {odd + 1} of "
            f"{len(secret)}; no client could send it, since a Bearer header carries only visible "
            "ASCII (e.g. `openssl rand -hex 32`; strip the line break a file read keeps)"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise SecretError(
            f"{command}: {variable} is {len(secret)} characters long; it needs at least "
            f"{MIN_SECRET_LENGTH} (e.g. `openssl rand -hex 32`)"
        )
    return secret


_NAMES = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", " ": "a space"}


def _named(char: str) -> str:
    """A character no Bearer header can carry, named so the line says what to remove."""
    return _NAMES.get(char, f"the character U+{ord(char):04X}")
