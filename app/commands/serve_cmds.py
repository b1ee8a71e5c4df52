"""`serve`: checks the secret, the address and the store, then runs the HTTP app under uvicorn."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterator

import click

from pipetrace.errors import PipetraceError

from ..frontends import Frontends
from ..settings import Settings
from .common import db_option, fail, opened_store, say
from .context import pass_frontends
from .cron_secret import checked_secret
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
        urls = ", ".join(_url(sock) for sock in sockets)
        say(f"pipetrace: serving {repo.url} on {urls}", err=True)
        # The app closes the store at shutdown: uvicorn re-raises SIGTERM before this block ends.
        app = create_app(repo, secret, close_store=True)
        config = guarded_config(app)
        show_server_logs()
        uvicorn.Server(config).run(sockets=sockets)


class ListenError(PipetraceError):
    """The host or port cannot be listened on; the command line prints it as one line, exit 2."""

    title = "Cannot listen"


UNAVAILABLE = (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)
"""Binding errors of an address this machine does not have (::1 without IPv6): skipped."""


@contextlib.contextmanager
def listening_sockets(host: str, port: int) -> Iterator[list[socket.socket]]:
    """A bound socket for every address `host` resolves to (localhost: ::1 and 127.0.0.1), so a
    bad host or a port busy on any of them is one line before anything is served."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        raise ListenError(
            f"serve: --host {host!r} is neither an address nor a name that resolves ({reason})"
        ) from None
    with contextlib.ExitStack() as stack:
        bound: list[socket.socket] = []
        unavailable = OSError(errno.EADDRNOTAVAIL, os.strerror(errno.EADDRNOTAVAIL))
        for family, address in dict.fromkeys((info[0], info[4]) for info in found):
            if bound and port == 0:  # every address on the port the first one was given
                address = (address[0], bound[0].getsockname()[1], *address[2:])
            try:
                bound.append(stack.enter_context(socket.create_server(address, family=family)))
            except OSError as exc:
                if exc.errno not in UNAVAILABLE:
                    raise ListenError(_cannot_listen(host, port, exc, str(address[0]))) from None
                unavailable = exc
        if not bound:
            raise ListenError(_cannot_listen(host, port, unavailable, host))
        yield bound


def _cannot_listen(host: str, port: int, exc: OSError, address: str) -> str:
    """One line naming the option values, the reason and (if not the --host) the address."""
    # create_server adds the address to strerror; the line already names it.
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    where = "" if address == host else f" (on {address})"
    return f"serve: cannot listen on --host {host} --port {port}: {reason}{where}"


def _url(sock: socket.socket) -> str:
    """The http:// URL a bound socket answers on."""
    address, port = sock.getsockname()[:2]
    return (
        f"http://[{address}]:{port}"
        if sock.family == socket.AF_INET6
        else f"http://{address}:{port}"
    )
