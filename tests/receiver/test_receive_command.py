"""`pipetrace receive` as a command: what it refuses before listening, each in one line with exit
status 2, and what it says when it starts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from receiver.receiving import receiving

from pipetrace.app.cli import main
from pipetrace.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def _refusal(args: list[str], env: dict[str, str] | None = None) -> str:
    """The one line `receive` refuses with (exit status 2)."""
    result = CliRunner(env=env).invoke(main, ["receive", *args])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        ("short", "PIPETRACE_OTLP_TOKEN is 5 characters long; it needs at least 32"),
        ("x" * 40 + "\n", "PIPETRACE_OTLP_TOKEN holds a line break at character 41 of 41"),
    ],
)
def test_an_unusable_token_is_refused_before_anything_listens(
    tmp_path: Path, token: str, fragment: str
) -> None:
    db = tmp_path / "t.db"
    line = _refusal(["--port", "0", "--db", str(db)], {"PIPETRACE_OTLP_TOKEN": token})
    assert line.startswith(f"pipetrace: receive: {fragment}")
    assert not db.exists()


def test_ports_it_cannot_listen_on_are_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        line = _refusal(["--port", port, "--db", db])
        assert line.startswith(  # the HTTP port
            f"pipetrace: receive: cannot listen on --host 127.0.0.1 --port {port}:"
        )
        line = _refusal(["--port", "0", "--grpc-port", port, "--db", db])
        assert line.startswith(f"pipetrace: receive: --grpc-port {port}: cannot listen on")


def test_a_bad_pipelines_folder_is_refused_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "pipelines.toml").write_text("[redact]\nkeys = 5\n")
    line = _refusal(["--port", "0", "--pipelines", str(folder), "--db", str(tmp_path / "t.db")])
    assert "pipelines.toml" in line


def test_without_the_extra_it_names_the_install_command(tmp_path: Path) -> None:
    for missing, args, hint in (
        ("uvicorn", [], "pipetrace[serve]"),
        ("grpc", ["--grpc-port", "0"], "pipetrace[grpc]"),
    ):
        code = (
            f"import sys; sys.modules[{missing!r}] = None; "
            "from pipetrace.app.cli import main; main()"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, "receive", "--port", "0", *args,
             "--db", str(tmp_path / "t.db")],
            capture_output=True, text=True, cwd=ROOT, timeout=60, env=dict(os.environ),
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert f"({missing} is missing)" in line and hint in line


def test_the_redact_table_of_a_pipelines_folder_applies_and_a_public_host_is_warned(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "pipelines.toml").write_text('[redact]\nkeys = ["member_number"]\n')
    store = tmp_path / "received.db"
    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "GET /",
        "startTimeUnixNano": "1700000000000000000",
        "attributes": [{"key": "member_number", "value": {"stringValue": "M-0042"}}],
    }
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
    with receiving(
        tmp_path, str(store), "--host", "0.0.0.0", "--pipelines", str(folder)
    ) as rx:  # fmt: skip
        assert rx.post(body, "application/json")[0] == 200
        rx.settled()
        log = rx.log.read_text()
    assert "warning: PIPETRACE_OTLP_TOKEN is not set, so anyone who can reach" in log
    repo = open_store(str(store), migrate=False, create=False)
    try:
        found = repo.get_trace_with_spans("ab" * 16)
        assert found is not None
        assert found.spans[0].attributes["member_number"] == "[REDACTED]"
    finally:
        repo.close()
