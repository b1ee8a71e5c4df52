"""The `serve` command: checks the secret and the store, then runs the app under uvicorn."""

from __future__ import annotations

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
    with opened_store(db_url) as repo:
        click.echo(f"pipetrace: serving {repo.url} on http://{host}:{port}", err=True)
        # The app closes the store at shutdown: uvicorn re-raises SIGTERM before this block ends.
        app = create_app(repo, secret, close_store=True)
        uvicorn.run(app, host=host, port=port, log_level="info")
