"""`serve` logs what it serves and what clients send only as text a terminal shows: a store
whose name holds terminal controls, and request lines whatever the HTTP parser lets through."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_text import Hostile, hostile_classes
from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter, DefaultFormatter

from pipetrace.app.commands.server_logs import show_server_logs
from pipetrace.store import open_store

SECRET = "s3cret-" + "x" * 40
ROOT = Path(__file__).resolve().parents[2]


@hostile_classes
def test_serve_names_a_hostile_store_and_logs_requests_with_escapes(
    tmp_path: Path, hostile: Hostile
) -> None:
    db = tmp_path / f"traces{hostile.in_names}.db"
    open_store(str(db)).close()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipetrace", "serve", "--port", "0", "--db", str(db)],
        cwd=ROOT,
        env={**os.environ, "CRON_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stderr is not None
        serving = process.stderr.readline().decode()
        url = serving.rsplit(" on ", 1)[-1].strip()
        hostile.check(serving, f"pipetrace: serving {tmp_path}/traces{hostile.names_shown}.db on")
        quoted = "".join(f"%{byte:02x}" for byte in hostile.raw.encode())
        for path in (f"/{quoted}?older_than={quoted}", f"/api/internal/cleanup-traces?{quoted}"):
            request = urllib.request.Request(url + path, method="POST")
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    hostile.check(out.decode() + err.decode(), '"POST /', " 404", " 401")


@pytest.fixture
def server_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """uvicorn's access and error loggers writing through uvicorn's own formatters (as `serve`
    configures them) to a buffer, handlers, filters and levels put back afterwards."""
    buffer = io.StringIO()
    formats = LOGGING_CONFIG["formatters"]
    levels = {}
    for name, formatter in (
        ("uvicorn.access", AccessFormatter(formats["access"]["fmt"], use_colors=False)),
        ("uvicorn.error", DefaultFormatter(formats["default"]["fmt"], use_colors=False)),
    ):
        logger = logging.getLogger(name)
        handler = logging.StreamHandler(buffer)
        handler.setFormatter(formatter)
        for attribute, value in (("handlers", [handler]), ("filters", []), ("propagate", False)):
            monkeypatch.setattr(logger, attribute, value)
        levels[logger] = logger.level
        logger.setLevel(logging.INFO)
    yield buffer
    for logger, level in levels.items():
        logger.setLevel(level)


@hostile_classes
def test_server_log_lines_show_what_clients_send_with_escapes(
    hostile: Hostile, server_log: io.StringIO
) -> None:
    """Whatever reaches uvicorn's access and error logs (h11 refuses controls in a request
    line; another HTTP parser may not) is shown."""
    show_server_logs()
    client = ("127.0.0.1", 5)
    access = logging.getLogger("uvicorn.access")
    access.info('%s - "%s %s HTTP/%s" %d', client, "GET", f"/{hostile.raw}", "1.1", 404)
    logging.getLogger("uvicorn.error").warning("Invalid request: %s", hostile.raw)
    hostile.check(
        server_log.getvalue(),
        f'"GET /{hostile.shown} HTTP/1.1" 404',
        f"Invalid request: {hostile.shown}",
    )
