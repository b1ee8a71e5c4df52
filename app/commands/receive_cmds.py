"""`receive`: checks the token, the pipelines' redaction rules, the address and the store, then
runs the OTLP receiver under uvicorn."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from ..frontends import Frontends, ReceiverApp
from ..import_scrub import ImportScrub
from ..otlp_limits import (
    DEFAULT_GRPC_PORT,
    DEFAULT_HTTP_PORT,
    DEFAULT_QUEUE_SPANS,
    MAX_ATTRIBUTES,
    MAX_BODY_BYTES,
    MAX_DECODED_BYTES,
    MAX_SPANS_PER_REQUEST,
)
from ..settings import OTLP_TOKEN_ENV, Settings
from .common import db_option, fail, opened_store, say
from .context import pass_frontends
from .cron_secret import checked_secret
from .listening import ListenError, listening_sockets, url_of
from .pipelines_option import pipelines_option
from .serve_cmds import INSTALL_HINT
from .server_logs import show_server_logs

MIB = 2**20
GRPC_INSTALL_HINT = "pip install 'pipetrace[grpc]'"
HELP = f"""Receive traces from any OpenTelemetry exporter over OTLP/HTTP (POST /v1/traces).

Point an application at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{DEFAULT_HTTP_PORT}.
Spans of a trace sent in several requests become one trace and a span sent twice is stored
once, as `import` does; secrets are redacted first (as `import --scrub` does, by the [redact]
table of --pipelines DIR when given). With {OTLP_TOKEN_ENV} set (32 or more visible ASCII
characters), requests need `Authorization: Bearer ${OTLP_TOKEN_ENV}`.

Limits: a body of {MAX_BODY_BYTES // MIB} MiB as sent and {MAX_DECODED_BYTES // MIB} MiB
inflated, {MAX_SPANS_PER_REQUEST:,} spans a request (413 past them), {MAX_ATTRIBUTES:,}
attributes a span, event, link, resource or scope (such a span is left out and reported in
the answer). Needs the optional extra `serve`.
"""


@click.command(help=HELP)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback: only programs on this machine can send).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_HTTP_PORT,
    show_default=True,
    help="OTLP/HTTP port.",
)
@click.option(
    "--grpc-port",
    type=click.IntRange(0, 65535),
    help=f"Also take OTLP/gRPC on this port ({DEFAULT_GRPC_PORT} is its own) on --host; needs "
    "the optional extra `grpc`.",
)
@click.option(
    "--queue-spans",
    type=click.IntRange(min=1),
    default=DEFAULT_QUEUE_SPANS,
    show_default=True,
    help="Spans received and not yet written that the receiver holds; past them it answers "
    "429 (503 while the store is unreachable) and exporters send again.",
)
@pipelines_option
@db_option
@pass_frontends
def receive(
    frontends: Frontends,
    host: str,
    port: int,
    grpc_port: int | None,
    queue_spans: int,
    pipelines_dir: Path | None,
    settings: Settings,
) -> None:
    """Run the OTLP receiver until it is stopped (Ctrl-C, SIGTERM)."""
    try:
        import uvicorn

        from .http_limits import guarded_config

        create_receiver = frontends.load_receiver()
    except ImportError as exc:
        fail(f"receive needs the optional extra ({exc.name} is missing): {INSTALL_HINT}")
    token = settings.otlp_token
    if token:
        checked_secret(token, OTLP_TOKEN_ENV, "receive")
    scrub = ImportScrub(pipelines_dir)
    with (
        listening_sockets(host, port, "receive") as sockets,
        opened_store(settings, writes=True, create=True) as repo,
    ):
        # The receiver writes what it took and closes the store at shutdown.
        receiver = create_receiver(repo, token or None, scrub, queue_spans=queue_spans)
        urls = ", ".join(f"{url_of(sock)}/v1/traces" for sock in sockets)
        if grpc_port is not None:
            urls += f", gRPC on port {_grpc(receiver, host, grpc_port)}"
        say(f"pipetrace: receiving OTLP into {repo.url} on {urls}", err=True)
        if not token and not _loopback(sockets[0].getsockname()[0]):
            say(
                f"pipetrace: warning: {OTLP_TOKEN_ENV} is not set, so anyone who can reach "
                f"--host {host} can write traces into the store",
                err=True,
            )
        config = guarded_config(receiver.app)
        show_server_logs()
        uvicorn.Server(config).run(sockets=sockets)


def _grpc(receiver: ReceiverApp, host: str, port: int) -> int:
    """Start OTLP/gRPC beside OTLP/HTTP; the port it listens on."""
    try:
        return receiver.serve_grpc(host, port)
    except ImportError as exc:
        raise ListenError(
            f"receive: --grpc-port needs the optional extra ({exc.name} is missing): "
            f"{GRPC_INSTALL_HINT}"
        ) from None
    except OSError as exc:
        raise ListenError(f"receive: --grpc-port {port}: {exc}") from None


def _loopback(address: str) -> bool:
    """Whether a bound address only takes connections from this machine."""
    return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
