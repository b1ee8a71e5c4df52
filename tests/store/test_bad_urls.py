"""Every bad database a user can name ends in one line naming it, and exit status 2."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

from conftest import running_sqld

from pipetrace.store import open_store

# The public key of RFC 8032's first Ed25519 test vector: any token we send is wrong for it.
RFC8032_PUBLIC_KEY = (
    base64.urlsafe_b64encode(
        bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    )
    .decode()
    .rstrip("=")
)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess, as a user or cron would run it."""
    return subprocess.run(
        [sys.executable, "-m", "pipetrace", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_malformed_and_unsupported_urls() -> None:
    assert_one_line_error(run_cli("traces", "--db", "postgres://db/x"), "postgres://db/x", "scheme")
    assert_one_line_error(run_cli("traces", "--db", "http://"), "http://", "no host")
    assert_one_line_error(run_cli("traces", "--db", "http://h:99999"), "bad port")


def test_unreachable_server() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert_one_line_error(run_cli("traces", "--db", url), url, "cannot connect")


def test_wrong_auth_token(tmp_path: Path) -> None:
    with running_sqld(tmp_path, env={"SQLD_AUTH_JWT_KEY": RFC8032_PUBLIC_KEY}) as url:
        result = run_cli("traces", "--db", url, env={"PIPETRACE_DB_AUTH_TOKEN": "not-a-jwt"})
    assert_one_line_error(result, url, "auth token")


def test_read_only_store(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(folder)], check=False)
    if not os.path.ismount(folder):
        # Without mount rights (not root), file permissions make the same read-only store.
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = run_cli("traces", "--db", str(folder / "traces.db"))
        assert_one_line_error(result, str(folder / "traces.db"))
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_not_a_database_and_another_application(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("hello, I am a text file\n" * 100)
    assert_one_line_error(run_cli("traces", "--db", str(junk)), str(junk), "not a SQLite database")
    folder = tmp_path / "folder.db"
    folder.mkdir()
    assert_one_line_error(run_cli("traces", "--db", str(folder)), "is a folder")
    import sqlite3

    shop = tmp_path / "shop.db"
    with sqlite3.connect(shop) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    assert_one_line_error(run_cli("traces", "--db", str(shop)), "not a pipetrace database")


def test_bad_filters_are_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    open_store(db).close()
    assert_one_line_error(run_cli("traces", "--db", db, "--since", "yesterday-ish"), "bad time")
    assert_one_line_error(run_cli("show", "abc", "--db", db), "no trace 'abc'")


def test_empty_store_url_is_refused(tmp_path: Path) -> None:
    default_store = Path(os.environ["XDG_DATA_HOME"]) / "pipetrace" / "traces.db"
    default_store.unlink(missing_ok=True)
    assert_one_line_error(run_cli("traces", "--db", ""), "--db / PIPETRACE_DB", "empty")
    assert_one_line_error(run_cli("--db", " ", "traces"), "--db / PIPETRACE_DB", "empty")
    assert_one_line_error(run_cli("traces", env={"PIPETRACE_DB": ""}), "PIPETRACE_DB", "empty")
    assert not default_store.exists()


def test_a_plain_path_is_taken_literally(tmp_path: Path) -> None:
    for name in ("a?b.db", "p%20q.db", "c#d.db"):
        result = run_cli("db", "upgrade", "--db", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a?b.db", "c#d.db", "p%20q.db"]
    result = run_cli("traces", "--db", f"sqlite:///{tmp_path}/p%2520q.db", "--json")
    assert result.returncode == 0, result.stderr
    url = f"sqlite:///{tmp_path}/a.db?mode=ro"
    assert_one_line_error(run_cli("traces", "--db", url), url, "query parameters (mode)")
    assert not (tmp_path / "a").exists() and not (tmp_path / "a.db").exists()


def test_read_commands_refuse_a_store_that_does_not_exist(tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "dir" / "x.db"
    for command in (["traces"], ["show", "abc"], ["export"], ["cleanup", "--yes"]):
        assert_one_line_error(run_cli(*command, "--db", str(typo)), f"no store at {typo}")
    assert not (tmp_path / "typo").exists()
    typo.parent.mkdir(parents=True)
    zipkin = tmp_path / "zipkin.json"
    zipkin.write_text('[{"traceId": "1", "id": "2", "name": "n", "timestamp": 1}]')
    result = run_cli("import", str(zipkin), "--db", str(typo))
    assert result.returncode == 0, result.stderr
    assert json.loads(run_cli("traces", "--db", str(typo), "--json").stdout)["total"] == 1


def test_commands_that_create_a_store_refuse_a_missing_folder(tmp_path: Path) -> None:
    zipkin = tmp_path / "zipkin.json"
    zipkin.write_text('[{"traceId": "1", "id": "2", "name": "n", "timestamp": 1}]')
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    creating = (
        ["demo", "--no-open", "--traces", "1"],
        ["run", "before_signup"],
        ["import", str(zipkin)],
        ["db", "upgrade"],
    )
    for command in creating:
        for store, needle in (
            (tmp_path / "typo" / "dir" / "x.db", f"the folder {tmp_path / 'typo' / 'dir'} does "),
            (a_file / "x.db", f"{a_file} is a file"),
        ):
            result = run_cli(*command, "--db", str(store))
            assert result.returncode == 2, (command, result.stderr)
            [line] = result.stderr.splitlines()
            assert f"{store}: " in line and needle in line, line
    assert not (tmp_path / "typo").exists()
    url = f"sqlite:///{tmp_path}/typo/x.db"
    assert_one_line_error(run_cli("db", "upgrade", "--db", url), "does not exist")
    assert not (tmp_path / "typo").exists()


def test_the_default_store_gets_its_folders(tmp_path: Path) -> None:
    data_home = tmp_path / "fresh" / "data"
    result = run_cli("db", "upgrade", env={"XDG_DATA_HOME": str(data_home)})
    assert result.returncode == 0, result.stderr
    assert (data_home / "pipetrace" / "traces.db").is_file()


def test_memory_and_broken_urls_are_one_line_without_credentials(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("traces", "--db", ":memory:"), ":memory:", "in-memory")
    for url, needle in (
        ("http://ana:s3cret@[::1", "not a valid URL"),
        ("http://ana:s3cret@h:99999", "bad port"),
        ("libsql://h?authToken=s3cret&tls=0", "explicit port"),
        ("sqlite:///x.db?password=s3cret", "unsupported query parameters"),
    ):
        result = run_cli("traces", "--db", url)
        assert_one_line_error(result, needle)
        assert "s3cret" not in result.stderr, result.stderr
    db = str(tmp_path / "t.db")
    open_store(db).close()
    for endpoint, needle in (
        ("http://ana:s3cret@[::1", "not a valid URL"),
        ("http://ana:s3cret@127.0.0.1:4318", "user:password in the URL is not sent"),
    ):
        result = run_cli("export", "--db", db, "--endpoint", endpoint)
        assert_one_line_error(result, "endpoint", needle)
        assert "s3cret" not in result.stderr, result.stderr


def _never_answer(server: socket.socket) -> None:
    """Accept every connection and keep it open without a byte, until the server closes."""
    held = []
    with contextlib.suppress(OSError):
        while True:
            held.append(server.accept()[0])


def test_server_that_accepts_and_never_answers() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        threading.Thread(target=_never_answer, args=(server,), daemon=True).start()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        result = run_cli("traces", "--db", url, env={"PIPETRACE_DB_TIMEOUT": "1"})
    assert_one_line_error(result, f"the libSQL server at {url} did not answer within 1 s")
    result = run_cli("traces", "--db", url, env={"PIPETRACE_DB_TIMEOUT": "soon"})
    assert_one_line_error(result, "PIPETRACE_DB_TIMEOUT='soon'")
