"""Files a user names are refused before they are read whole: a FIFO, a device or a file over
what the command takes is one line and exit status 2, never a hang or a memory blow-up."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipetrace.engine import bundled_pipelines_dir

MEMORY_CAP = 1 << 30
"""Address space each command may take, so a reader that would read /dev/zero whole fails at
once instead of taking the machine's memory."""
TIMEOUT = 60
"""Seconds a command may take; a reader that waits on a FIFO no one writes runs past it."""


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def pipetrace(*args: str, cwd: Path, stdin: int = subprocess.DEVNULL) -> tuple[int, str]:
    """Run the command line in its own process; return its exit status and stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "pipetrace", *args],
        cwd=cwd,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_cap_memory,
    )
    return result.returncode, result.stderr


def sparse_file(path: Path, size: int) -> Path:
    """A file of `size` zero bytes that takes no disk space."""
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("/dev/zero", "--input /dev/zero: a device, not a regular file"),
        ("fifo.json", "--input fifo.json: a FIFO (named pipe), not a regular file"),
        ("big.json", "--input big.json: 70,000,000 bytes, over the 67,108,864 bytes accepted"),
        (".", "--input .: a folder, not a regular file"),
    ],
)
def test_run_refuses_an_input_file_it_cannot_take(tmp_path: Path, name: str, needle: str) -> None:
    os.mkfifo(tmp_path / "fifo.json")
    sparse_file(tmp_path / "big.json", 70_000_000)
    code, err = pipetrace(
        "run", "before_signup", "--input", f"@{name}", "--db", "t.db", cwd=tmp_path
    )
    assert (code, err) == (2, f"pipetrace: {needle}\n")
    assert not (tmp_path / "t.db").exists()


def test_run_reads_standard_input_up_to_the_limit(tmp_path: Path) -> None:
    (tmp_path / "in.json").write_text('{"email": "ana@example.com"}')
    run = ("run", "before_signup", "--input", "@-", "--db", "t.db")
    with open(tmp_path / "in.json", "rb") as given:
        code, err = pipetrace(*run, cwd=tmp_path, stdin=given.fileno())
    assert (code, err) == (0, "")
    with open("/dev/zero", "rb") as zeros:
        code, err = pipetrace(*run, cwd=tmp_path, stdin=zeros.fileno())
    assert (code, err) == (2, "pipetrace: --input @-: over the 67,108,864 bytes accepted\n")


def test_import_refuses_a_device_and_a_fifo_and_streams_a_huge_file(tmp_path: Path) -> None:
    """A file of any size is read as it goes (in bounded memory): 300 MB of NUL bytes is
    refused for what it holds, not for its size."""
    os.mkfifo(tmp_path / "fifo.json")
    sparse_file(tmp_path / "huge.json", 300 * 1024 * 1024)
    code, err = pipetrace(
        "import", "/dev/zero", "fifo.json", "huge.json", "--db", "t.db", cwd=tmp_path
    )
    assert code == 2
    assert err.splitlines() == [
        "pipetrace: /dev/zero: a device, not a regular file; import takes a regular file",
        "pipetrace: fifo.json: a FIFO (named pipe), not a regular file; import takes a regular "
        "file",
        "pipetrace: huge.json:1: not valid JSON (lexical error: invalid char in json text.)",
    ]


@pytest.mark.parametrize(
    ("fifo", "needle"),
    [
        (
            "ip_denylist.lua",
            "script 'ip_denylist': file 'ip_denylist.lua' is a FIFO (named pipe), not a regular "
            "file",
        ),
        ("pipelines.toml", "pipelines.toml in p: a FIFO (named pipe), not a regular file"),
    ],
)
def test_a_fifo_in_a_pipelines_folder_is_refused_at_load(
    tmp_path: Path, fifo: str, needle: str
) -> None:
    shutil.copytree(bundled_pipelines_dir(), tmp_path / "p")
    (tmp_path / "p" / fifo).unlink()
    os.mkfifo(tmp_path / "p" / fifo)
    code, err = pipetrace("run", "before_signup", "--pipelines", "p", "--db", "t.db", cwd=tmp_path)
    assert code == 2 and needle in err and len(err.splitlines()) == 1


def test_a_huge_pipelines_toml_is_refused_before_it_is_read(tmp_path: Path) -> None:
    shutil.copytree(bundled_pipelines_dir(), tmp_path / "p")
    sparse_file(tmp_path / "p" / "pipelines.toml", 2 * MEMORY_CAP)
    code, err = pipetrace("run", "before_signup", "--pipelines", "p", "--db", "t.db", cwd=tmp_path)
    assert (code, err) == (
        2,
        "pipetrace: pipelines.toml in p: 2,147,483,648 bytes, over the 1,048,576 bytes accepted\n",
    )
