"""The OTLP receiver `pipetrace receive` runs: OTLP/HTTP on /v1/traces (and OTLP/gRPC when asked)
into the store through one intake, a health check with its counts, and at shutdown every span
it took written (or counted as failed) before the store closes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pipetrace.store import Repository

from ..otlp_limits import DEFAULT_QUEUE_SPANS
from .otlp_http import traces_route
from .otlp_intake import Intake, Scrub

if TYPE_CHECKING:
    import grpc

GRPC_GRACE_S = 5
"""Seconds gRPC calls under way have to finish at shutdown."""
log = logging.getLogger("uvicorn.error")
"""uvicorn's own log, where `receive` shows its messages (escaped, see commands/server_logs)."""


class Receiver:
    """The receiver over an open store, which it closes at shutdown; each received trace goes
    through `scrub` (the secret redaction `import --scrub` applies) before it is stored."""

    def __init__(
        self,
        repo: Repository,
        token: str | None,
        scrub: Scrub,
        *,
        queue_spans: int = DEFAULT_QUEUE_SPANS,
    ) -> None:
        self.repo = repo
        self.token = token
        self.intake = Intake(repo, scrub, queue_spans=queue_spans)
        self._grpc: grpc.Server | None = None
        self.app = Starlette(
            lifespan=self._lifespan,
            routes=[traces_route(self.intake, token), Route("/healthz", self._healthz)],
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        yield
        self.close()

    def serve_grpc(self, host: str, port: int) -> int:
        """Take OTLP/gRPC on `host`:`port` too (needs the extra `grpc`: ImportError without it,
        OSError when it cannot listen there); returns the port it listens on."""
        from .otlp_grpc import grpc_server

        self._grpc, bound = grpc_server(self.intake, self.token, host, port)
        return bound

    def close(self) -> None:
        """Stop taking spans, write what is queued, report the counts, and close the store."""
        if self._grpc is not None:
            self._grpc.stop(grace=GRPC_GRACE_S).wait()
        counts = self.intake.close()
        log.info(
            "received %d spans: %d written, %d failed, %d rejected, %d refused while busy",
            counts.received,
            counts.written,
            counts.failed,
            counts.rejected,
            counts.refused,
        )
        self.repo.close()

    async def _healthz(self, _request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "spans": self.intake.counts().as_json()})
