"""Every bad database a user can name ends in one line naming it, and exit status 2."""

from __future__ import annotations

import base64
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

from conftest import running_sqld

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
        [sys.executable, "-m", "app", *args],
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
    assert_one_line_error(run_cli("traces", "--db", db, "--since", "yesterday-ish"), "bad time")
    assert_one_line_error(run_cli("show", "abc", "--db", db), "no trace 'abc'")
