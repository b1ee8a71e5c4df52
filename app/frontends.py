"""What the commands start but must not import: the viewer, its screenshots and the HTTP apps,
handed to them by app/cli.py through click's context object so commands, tui and server stay
apart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from pipetrace.store import Repository, TraceWithSpans

    from .settings import Settings


class CleanupApp(Protocol):
    """Builds the HTTP cleanup app over an open store, closing it at shutdown if asked."""

    def __call__(self, repo: Repository, secret: str, *, close_store: bool = False) -> Starlette:
        """The ASGI app that answers the cleanup endpoint with `secret` as its bearer token."""


class ReceiverApp(Protocol):
    """The OTLP receiver over an open store: its ASGI app closes the store at shutdown, after
    writing every span it took."""

    @property
    def app(self) -> Starlette:
        """OTLP/HTTP on /v1/traces and a health check."""

    def serve_grpc(self, host: str, port: int) -> int:
        """Take OTLP/gRPC on `host`:`port` too, until the app shuts down; returns the port it
        listens on (ImportError without the extra `grpc`, OSError when it cannot listen)."""


class ReceiverFactory(Protocol):
    """Builds the OTLP receiver over an open store."""

    def __call__(
        self,
        repo: Repository,
        token: str | None,
        scrub: Callable[[TraceWithSpans], None],
        *,
        queue_spans: int,
    ) -> ReceiverApp:
        """A receiver requiring `token` when set, each received trace put through `scrub`
        before it is stored, holding at most `queue_spans` spans not yet written."""


class Frontends(NamedTuple):
    """The composition root's callables; each imports its heavy modules only when called."""

    open_viewer: Callable[[Settings, Path | None], None]
    """Run the viewer on the store the settings name, with the pipelines folder its replays run
    (None: the bundled set), exiting with the viewer's code when it crashed."""
    write_screenshots: Callable[[Path], list[Path]]
    """Write an SVG of every viewer state into a folder and return their paths."""
    load_cleanup_app: Callable[[], CleanupApp]
    """The HTTP app's factory; ImportError when the optional extra `serve` is missing."""
    load_receiver: Callable[[], ReceiverFactory]
    """The OTLP receiver's factory; ImportError when the optional extra `serve` is missing."""
