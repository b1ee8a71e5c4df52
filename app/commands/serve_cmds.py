"""`serve`: checks the secret, the address and the store, then runs the HTTP app under uvicorn."""

from __future__ import annotations

import click

from ..frontends import Frontends
from ..settings import Settings
from .common import db_option, fail, opened_store, say
from .context import pass_frontends
from .cron_secret import checked_secret
from .listening import listening_sockets, url_of
from .server_logs import show_server_logs

INSTALL_HINT = "pip install 'pipetrace[serve]'"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True)
@db_option
@pass_frontends
def serve(frontends: Frontends, host: str, port: int, settings: Settings) -> None:
    """Serve POST /api/internal/cleanup-traces for schedulers that can only call a URL.

    Requests need `Authorization: Bearer $CRON_SECRET`; the server refuses to start unless
    CRON_SECRET holds at least 32 visible ASCII characters. A client must send its whole request
    within 10 s, and past 64 open connections a new one is answered 503. Needs the optional
    extra `serve`.
    """
    try:
        import uvicorn

        from .http_limits import guarded_config

        create_app = frontends.load_cleanup_app()
    except ImportError as exc:
        fail(f"serve needs the optional extra ({exc.name} is missing): {INSTALL_HINT}")
    secret = checked_secret(settings.cron_secret)
    with listening_sockets(host, port) as sockets, opened_store(settings, writes=True) as repo:
        urls = ", ".join(url_of(sock) for sock in sockets)
        say(f"pipetrace: serving {repo.url} on {urls}", err=True)
        # The app closes the store at shutdown: uvicorn re-raises SIGTERM before this block ends.
        app = create_app(repo, secret, close_store=True)
        config = guarded_config(app)
        show_server_logs()
        uvicorn.Server(config).run(sockets=sockets)
