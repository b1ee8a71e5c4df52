"""`pipetrace serve`: the cleanup endpoint behind the cron secret, on a real uvicorn on loopback."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from conftest import running_sqld

from pipetrace.app.cli import main
from pipetrace.app.server.api import CLEANUP_PATH, create_app
from pipetrace.store import Repository, open_store

SECRET = "s3cret-" + "x" * 40
ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def serving(repo: Repository, port: int) -> Iterator[str]:
    """The app under a real uvicorn in a thread on 127.0.0.1; stopped when the block ends."""
    config = uvicorn.Config(
        create_app(repo, SECRET), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def call(url: str, token: str | None = None, body: Any = None, query: str = "") -> tuple[int, Any]:
    """POST to the cleanup endpoint; (status, decoded JSON answer)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url + CLEANUP_PATH + query, data=data, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def served(repo: Repository, kit) -> Iterator[tuple[str, Repository]]:
    """A server over a store with 4 expired and 2 fresh traces, on both backends."""
    kit.seed(repo, old=4, new=2)
    with serving(repo, kit.free_port()) as url:
        yield url, repo


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "Bearer wrong",
        f"Bearer {SECRET[:-1]}",
        SECRET,
        f"Basic {SECRET}",
        f"Bearer  {SECRET}",
    ],
)
def test_without_the_right_secret_it_answers_401_and_deletes_nothing(
    served: tuple[str, Repository], token: str | None
) -> None:
    url, repo = served

    status, answer = call(url, token)

    assert status == 401
    assert "unauthorized" in answer["error"]
    assert repo.count_traces() == 6


def test_the_right_secret_deletes_and_answers_the_counts(
    served: tuple[str, Repository], kit
) -> None:
    url, repo = served

    status, answer = call(url, f"Bearer {SECRET}")

    assert status == 200
    assert {k: answer[k] for k in ("traces", "spans", "dry_run", "cancelled")} == {
        "traces": 4,
        "spans": 12,
        "dry_run": False,
        "cancelled": False,
    }
    assert answer["older_than"] == "30d"
    assert answer["cutoff"].endswith("Z") and isinstance(answer["cutoff_ns"], int)
    assert (
        answer["space_mode"]
        == {"sqlite": "incremental", "libsql": "server"}[repo.backend.target.kind]
    )
    assert answer["size_bytes"] == repo.space().size_bytes
    assert repo.count_traces() == 2
    assert kit.orphan_spans(repo) == 0


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_the_scheme_name_is_case_insensitive(served: tuple[str, Repository], scheme: str) -> None:
    url, repo = served

    status, answer = call(url, f"{scheme} {SECRET}")

    assert (status, answer["traces"]) == (200, 4)
    assert repo.count_traces() == 2


def test_age_from_body_or_query_and_dry_run(sqlite_repo: Repository, kit) -> None:
    kit.seed(sqlite_repo, old=4, new=2)
    with serving(sqlite_repo, kit.free_port()) as url:
        dry = call(url, f"Bearer {SECRET}", body={"older_than": "12h", "dry_run": True})
        assert dry == (200, {**dry[1], "traces": 6, "spans": 18, "dry_run": True})
        assert sqlite_repo.count_traces() == 6

        by_query = call(url, f"Bearer {SECRET}", query="?older_than=12h")
        assert (by_query[0], by_query[1]["traces"], by_query[1]["older_than"]) == (200, 6, "12h")
        assert sqlite_repo.count_traces() == 0


@pytest.mark.parametrize(
    ("body", "query", "fragment"),
    [
        (b"not json", "", "not JSON"),
        ([1, 2], "", "JSON object"),
        ({"older_than": 30}, "", "older_than must be a string"),
        ({"older_than": "soon"}, "", "older_than: bad age 'soon'"),
        (None, "?dry_run=maybe", "dry_run must be true or false"),
        ({"older_than": "1d", "dryrun": True}, "", "unknown body key 'dryrun'"),
        ({"olderThan": "3650d"}, "", "unknown body key 'olderThan'"),
        (None, "?older_than=1d&dryrun=1", "unknown query parameter 'dryrun'"),
        (None, "?older_than=1s&older_than=30d", "query parameter 'older_than' is given more"),
        (b'{"older_than": "1s", "older_than": "30d"}', "", "body key 'older_than' is given more"),
        pytest.param(
            b'{"older_than": ' + b"[" * 2_000 + b"]" * 2_000 + b"}",
            "",
            "nested too deeply",
            id="nested-2000-deep",
        ),
        ({"older_than": "99999999999d"}, "", "older_than: age '99999999999d' is too large"),
        ({"dry_run": False}, "?dry_run=true", "dry_run is False in the body but 'true' in the"),
        ({"older_than": "30d"}, "?older_than=1d", "older_than is '30d' in the body but '1d' in"),
        ({"older_than": "59m"}, "", "older_than: age '59m' is under 1h, the least allowed here"),
        (None, "?older_than=0s", "older_than: age '0s' is under 1h"),
        pytest.param(
            {"older_than": "1" + "0" * 400 + "d"}, "", "older_than: age '1000", id="age-1e400d"
        ),
    ],
)
def test_bad_requests_answer_400_and_delete_nothing(
    sqlite_repo: Repository, kit, body: Any, query: str, fragment: str
) -> None:
    kit.seed(sqlite_repo, old=2, new=0)
    with serving(sqlite_repo, kit.free_port()) as url:
        status, answer = call(url, f"Bearer {SECRET}", body=body, query=query)

    assert status == 400
    assert fragment in answer["error"]
    assert sqlite_repo.count_traces() == 2


def test_a_value_given_alike_in_the_body_and_the_query_is_taken(
    sqlite_repo: Repository, kit
) -> None:
    kit.seed(sqlite_repo, old=2, new=0)
    with serving(sqlite_repo, kit.free_port()) as url:
        status, answer = call(
            url, f"Bearer {SECRET}", body={"dry_run": True, "older_than": "1h"}, query="?dry_run=1"
        )
    assert (status, answer["dry_run"], answer["traces"]) == (200, True, 2)
    assert sqlite_repo.count_traces() == 2


def test_two_authorization_headers_answer_400(served: tuple[str, Repository]) -> None:
    url, repo = served
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
    connection.putrequest("POST", CLEANUP_PATH)
    connection.putheader("Authorization", f"Bearer {SECRET}")
    connection.putheader("Authorization", "Bearer other")
    connection.putheader("Content-Length", "0")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 400
    assert json.loads(response.read()) == {
        "error": "the Authorization header is given more than once"
    }
    connection.close()
    assert repo.count_traces() == 6


def test_a_body_over_the_limit_answers_413_unread(sqlite_repo: Repository, kit) -> None:
    kit.seed(sqlite_repo, old=2, new=0)
    padded = b'{"older_than": "30d"' + b" " * 5000 + b"}"
    with serving(sqlite_repo, kit.free_port()) as url:
        status, answer = call(url, f"Bearer {SECRET}", body=padded)
    assert (status, answer) == (
        413,
        {"error": "the body is over 4096 bytes; a cleanup request is tiny"},
    )
    assert sqlite_repo.count_traces() == 2


@pytest.mark.parametrize(
    ("secret", "fragment"),
    [
        (None, "CRON_SECRET is not set"),
        ("", "CRON_SECRET is not set (or empty)"),
        ("x" * 31, "CRON_SECRET is 31 characters long"),
        ("x" * 40 + "\n", "CRON_SECRET holds a line break at character 41 of 41; no client"),
        ("x" * 20 + " " + "x" * 20, "CRON_SECRET holds a space at character 21 of 41"),
        ("x" * 20 + "\t" + "x" * 20, "CRON_SECRET holds a tab at character 21"),
        ("é" * 40, "CRON_SECRET holds the character U+00E9 at character 1"),
    ],
    ids=["unset", "empty", "short", "trailing-newline", "space", "tab", "non-ascii"],
)
def test_refuses_to_start_without_a_long_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str | None, fragment: str
) -> None:
    monkeypatch.delenv("CRON_SECRET", raising=False)
    if secret is not None:
        monkeypatch.setenv("CRON_SECRET", secret)

    result = CliRunner().invoke(main, ["serve", "--port", "0", "--db", str(tmp_path / "t.db")])

    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]
    assert not (tmp_path / "t.db").exists()


def test_a_host_or_port_it_cannot_listen_on_is_one_line_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRON_SECRET", SECRET)
    db = str(tmp_path / "t.db")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        cases = [
            (["--port", port], f"cannot listen on --host 127.0.0.1 --port {port}: Address already"),
            (["--host", "999.1.1.1"], "--host '999.1.1.1' is neither an address nor a name"),
            (["--host", "nonexistent.invalid"], "--host 'nonexistent.invalid' is neither"),
        ]
        for args, fragment in cases:
            result = CliRunner().invoke(main, ["serve", *args, "--db", db])
            lines = result.stderr.strip().splitlines()
            assert result.exit_code == 2
            assert len(lines) == 1 and lines[0].startswith(f"pipetrace: serve: {fragment}"), lines


def test_without_the_extra_it_names_the_install_command(tmp_path: Path) -> None:
    code = "import sys; sys.modules['uvicorn'] = None; from pipetrace.app.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "serve", "--db", str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CRON_SECRET": SECRET},
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "pipetrace: serve needs the optional extra (uvicorn is missing): "
        "pip install 'pipetrace[serve]'"
    ]


def test_the_serve_command_runs_until_stopped(tmp_path: Path, kit) -> None:
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    kit.seed(repo, old=3, new=1)
    port = kit.free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pipetrace.app.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={**os.environ, "CRON_SECRET": SECRET, "PIPETRACE_DB": db},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not _healthy(url):
            assert process.poll() is None and time.monotonic() < deadline, process.stderr
            time.sleep(0.1)
        assert call(url, "Bearer nope")[0] == 401
        status, answer = call(url, f"Bearer {SECRET}")
        assert (status, answer["traces"], answer["spans"]) == (200, 3, 9)
        assert repo.count_traces() == 1
    finally:
        repo.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the parent sees why it stopped.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert f"serving {db} on http://127.0.0.1:{port}" in stderr.decode()
    assert "Application shutdown complete" in stderr.decode()
    assert not Path(db + "-wal").exists()  # the last connection closed: the store was closed


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
            return json.loads(response.read()) == {"ok": True}
    except OSError:
        return False


def test_a_second_cleanup_while_one_runs_answers_409(tmp_path: Path, kit) -> None:
    repo = open_store(str(tmp_path / "t.db"))
    kit.seed(repo, old=4, new=2)
    blocker = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the first cleanup waits for this write lock
    try:
        with serving(repo, kit.free_port()) as url, ThreadPoolExecutor(2) as pool:
            first = pool.submit(call, url, f"Bearer {SECRET}")
            time.sleep(0.3)
            second = pool.submit(call, url, f"Bearer {SECRET}")
            done, waiting = wait([first, second], timeout=10, return_when=FIRST_COMPLETED)
            assert len(done) == 1, "one cleanup must wait for the lock, the other be refused"
            assert done.pop().result() == (409, {"error": "a cleanup is already running"})
            status, preview = call(url, f"Bearer {SECRET}", {"dry_run": True})
            assert (status, preview["traces"], preview["dry_run"]) == (200, 4, True)
            blocker.execute("ROLLBACK")
            status, answer = waiting.pop().result(timeout=30)
        assert status == 200 and answer["traces"] == 4
        assert repo.count_traces() == 2
    finally:
        blocker.close()
        repo.close()


def test_a_store_that_goes_away_answers_503_in_one_line(tmp_path: Path, kit) -> None:
    with running_sqld(tmp_path) as sqld:
        repo = open_store(sqld)
        kit.seed(repo, old=4, new=2)
    try:
        with serving(repo, kit.free_port()) as url:
            status, answer = call(url, f"Bearer {SECRET}")
        assert status == 503
        assert sqld in answer["error"] and "\n" not in answer["error"]
    finally:
        repo.close()


def test_a_store_failure_midway_answers_503_with_what_was_deleted(tmp_path: Path, kit) -> None:
    repo = open_store(str(tmp_path / "t.db"))
    kit.seed(repo, old=600, new=2)
    with sqlite3.connect(tmp_path / "t.db") as conn:  # the second batch of 500 fails
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE DELETE ON pipeline_traces WHEN old.id = '{550:032x}' "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )
    try:
        with serving(repo, kit.free_port()) as url:
            status, answer = call(url, f"Bearer {SECRET}")
        assert status == 503
        assert (answer["traces"], answer["spans"], answer["dry_run"]) == (500, 1500, False)
        assert "disk I/O error" in answer["error"]
        assert "after deleting 500 traces" in answer["error"]
        assert repo.count_traces() == 102
    finally:
        repo.close()
