"""The limits uvicorn's HTTP/1.1 protocol lacks, so idle and slow clients cannot hold `serve`:
a request must arrive whole within a deadline, and connections past a cap are turned away.

uvicorn times out only an idle keep-alive connection after a response; a connection that never
sends a request, or trickles its header a byte a second, stays open for ever, and it accepts
every connection (its `limit_concurrency` answers 503 only once a whole request has come in)."""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_TIMEOUT_S = 10.0
"""Seconds a client has, from connecting or from the previous response, to send a whole request
(line, headers and body); a scheduler's request takes milliseconds."""
MAX_CONNECTIONS = 64
"""Open connections past which a new one is answered 503 and closed at once."""
KEEP_ALIVE_S = 5
"""Seconds an idle connection is kept after a response (uvicorn's default, stated here)."""
MAX_HEADER_BYTES = 16 * 1024
"""The request line and headers, at most (h11's default, stated here)."""
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 22\r\n"
    b"connection: close\r\n\r\ntoo many connections\r\n"
)
_WAITING = (h11.IDLE, h11.SEND_BODY)
"""The client's h11 states while the server still waits for the rest of its request."""


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a whole-request deadline and a connection cap."""

    request_timeout = REQUEST_TIMEOUT_S
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.logger.warning("Refused a connection: %d are open already", self.max_connections)
            transport.write(_BUSY)
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state not in _WAITING:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        """Give the client request_timeout seconds to send its next request whole."""
        self._disarm()
        if self.conn.their_state in _WAITING and not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        """Close a connection whose request did not arrive whole in time."""
        self._deadline = None
        if self.conn.their_state in _WAITING and not self.transport.is_closing():
            self.logger.warning(
                "Closed a connection that sent no whole request within %g s", self.request_timeout
            )
            self.transport.close()


def guarded_config(app: Any, *, log_level: str = "info") -> uvicorn.Config:
    """A uvicorn configuration for `app` that serves HTTP/1.1 through GuardedH11Protocol."""
    return uvicorn.Config(
        app,
        http=GuardedH11Protocol,
        log_level=log_level,
        timeout_keep_alive=KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
