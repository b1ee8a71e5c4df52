"""`pipetrace serve --host NAME` listens on every address NAME resolves to, in a real server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipetrace.app.cli import main
from pipetrace.store import open_store

SECRET = "s3cret-" + "x" * 40
ROOT = Path(__file__).resolve().parents[2]
ELSEWHERE = "192.0.2.1"
"""A documentation address (TEST-NET-1) no test machine has, so binding it is refused."""
RESOLVING = """
import socket
system = socket.getaddrinfo
names = {names!r}
def resolve(host, *args, **kwargs):
    if host not in names:
        return system(host, *args, **kwargs)
    return [entry for address in names[host] for entry in system(address, *args, **kwargs)]
socket.getaddrinfo = resolve
from pipetrace.app.cli import main
main()
"""
"""Runs the CLI with `names` resolving as a hosts file would list them (the rest as usual)."""


def _bindable(address: str) -> bool:
    """Whether this machine can listen on `address` (::1 needs IPv6 loopback)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.create_server((address, 0), family=family):
            return True
    except OSError:
        return False


def _url(address: str, port: int) -> str:
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
            return json.loads(response.read()) == {"ok": True}
    except OSError:
        return False


def _system_localhost() -> list[str]:
    found = socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@pytest.mark.parametrize(
    "names",
    [
        {},  # localhost as this machine resolves it
        {"localhost": ["::1", "127.0.0.1"]},  # as a dual-stack hosts file lists it, ::1 first
        {"localhost": [ELSEWHERE, "127.0.0.1", "127.0.0.1"]},
    ],
    ids=["system", "dual-stack", "unavailable-first"],
)
def test_serving_localhost_answers_on_every_address_it_resolves_to(
    tmp_path: Path, kit, names: dict[str, list[str]]
) -> None:
    resolved = names.get("localhost") or _system_localhost()
    expected = [a for a in dict.fromkeys(resolved) if _bindable(a)]
    assert "127.0.0.1" in expected
    db = str(tmp_path / "t.db")
    open_store(db).close()
    port = kit.free_port()
    urls = [_url(address, port) for address in expected]
    args = ["serve", "--host", "localhost", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-c", RESOLVING.format(names=names), *args],
        cwd=ROOT,
        env={**os.environ, "CRON_SECRET": SECRET, "PIPETRACE_DB": db},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(_healthy(url) for url in urls):
            assert process.poll() is None and time.monotonic() < deadline, process.stderr
            time.sleep(0.1)
        answering = [url for url in urls if _healthy(url)]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert answering == urls
    assert f"pipetrace: serving {db} on {', '.join(urls)}\n" in stderr.decode()


def test_an_address_it_cannot_listen_on_is_one_line_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy port on any address fails; so do names with no address this machine has."""
    system = socket.getaddrinfo
    names = {"both.test": [ELSEWHERE, "127.0.0.1"], "elsewhere.test": [ELSEWHERE, ELSEWHERE]}

    def resolve(host: str, *args: object, **kwargs: object) -> list:
        return [entry for address in names[host] for entry in system(address, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setenv("CRON_SECRET", SECRET)
    db = str(tmp_path / "t.db")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        cases = [
            ("both.test", f"--port {port}: Address already in use (on 127.0.0.1)"),
            ("elsewhere.test", f"--port {port}: Cannot assign requested address"),
        ]
        for host, fragment in cases:
            result = CliRunner().invoke(main, ["serve", "--host", host, "--port", port, "--db", db])
            lines = result.stderr.strip().splitlines()
            assert result.exit_code == 2
            assert lines == [f"pipetrace: serve: cannot listen on --host {host} {fragment}"]
    assert not Path(db).exists()
