"""The `serve` command: checks the secret and the store, then runs the app under uvicorn."""

from __future__ import annotations

import os
import socket

import click

from ..commands.common import db_option, fail, opened_store
from .auth import secret_from_env

INSTALL_HINT = "pip install 'pipetrace[serve]'"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True)
@db_option
def serve(host: str, port: int, db_url: str | None) -> None:
    """Serve POST /api/internal/cleanup-traces for schedulers that can only call a URL.

    Requests need `Authorization: Bearer $CRON_SECRET`; the server refuses to start unless
    CRON_SECRET holds at least 32 characters. Needs the optional extra `serve`.
    """
    try:
        import uvicorn

        from .api import create_app
    except ImportError as exc:
        fail(f"serve needs the optional extra ({exc.name} is missing): {INSTALL_HINT}")
        return
    secret = secret_from_env()
    with listening_socket(host, port) as sock, opened_store(db_url) as repo:
        where = f"[{host}]" if ":" in host else host
        click.echo(
            f"pipetrace: serving {repo.url} on http://{where}:{sock.getsockname()[1]}", err=True
        )
        # The app closes the store at shutdown: uvicorn re-raises SIGTERM before this block ends.
        app = create_app(repo, secret, close_store=True)
        uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])


class ListenError(Exception):
    """The host or port cannot be listened on; the command line prints it as one line, exit 2."""

    title = "Cannot listen"


def listening_socket(host: str, port: int) -> socket.socket:
    """The bound socket, so a bad host or a busy port is one line before anything is served."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        raise ListenError(
            f"serve: --host {host!r} is neither an address nor a name that resolves ({reason})"
        ) from None
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        # create_server adds the address to strerror; the line already names it.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ListenError(
            f"serve: cannot listen on --host {host} --port {port}: {reason}"
        ) from None
