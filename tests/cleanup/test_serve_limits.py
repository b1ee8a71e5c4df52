"""A real `pipetrace serve` on loopback cuts idle and slow clients and caps its connections,
so no client can hold it open; checked with raw sockets."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipetrace.app.commands.http_limits import MAX_CONNECTIONS, REQUEST_TIMEOUT_S
from pipetrace.store import open_store

SECRET = "s3cret-" + "x" * 40
ROOT = Path(__file__).resolve().parents[2]
CUT_WITHIN = REQUEST_TIMEOUT_S + 20
"""Seconds by which a slow client must have been cut (its deadline and room for a busy machine)."""


@contextlib.contextmanager
def serve(tmp_path: Path, port: int) -> Iterator[tuple[str, int]]:
    """`pipetrace serve` in its own process until the block ends; yields its host and port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipetrace", "serve", "--port", str(port)],
        cwd=tmp_path,
        env={**os.environ, "CRON_SECRET": SECRET, "PIPETRACE_DB": str(tmp_path / "t.db")},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _closed_after(sock: socket.socket, limit: float) -> float:
    """Seconds until the server closes `sock` (reading whatever it answers first); infinite
    when it is still open after `limit` seconds."""
    started = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return math.inf
    return time.monotonic() - started


@pytest.fixture
def server(tmp_path: Path, kit) -> Iterator[tuple[str, int]]:
    open_store(str(tmp_path / "t.db"), create=True).close()
    with serve(tmp_path, kit.free_port()) as address:
        yield address


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as idle:
        took = _closed_after(idle, CUT_WITHIN)
    assert REQUEST_TIMEOUT_S - 1 <= took < CUT_WITHIN


def test_a_header_trickled_a_byte_a_second_is_cut(server: tuple[str, int]) -> None:
    request = b"POST /api/internal/cleanup-traces HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    started = time.monotonic()
    with socket.create_connection(server, timeout=5) as slow:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for byte in request:
                slow.sendall(bytes([byte]))
                if time.monotonic() - started > CUT_WITHIN:
                    break
                time.sleep(1)
        took = _closed_after(slow, 5) + time.monotonic() - started
    assert took < CUT_WITHIN + 5, "the trickling client was never cut"
    assert _healthy(server[1])


def test_connections_past_the_cap_are_turned_away_until_the_idle_ones_are_cut(
    server: tuple[str, int],
) -> None:
    held = [socket.create_connection(server, timeout=5) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.5)  # the server has accepted them all
        with socket.create_connection(server, timeout=5) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            with contextlib.suppress(ConnectionResetError):
                while chunk := extra.recv(4096):
                    answer += chunk
        assert answer.startswith(b"HTTP/1.1 503 ") and answer.endswith(b"too many connections\r\n")
        deadline = time.monotonic() + CUT_WITHIN
        while not _healthy(server[1]):
            assert time.monotonic() < deadline, "the idle connections were never cut"
            time.sleep(0.5)
    finally:
        for sock in held:
            sock.close()
