"""An exception no code expected is a bug: one line saying so, its traceback only on request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WITH_BUGGY_COMMANDS = """
from pipetrace.app.cli import main
from pipetrace.store import StoreError

@main.command()
def boom() -> None:
    raise KeyError("no such key")

@main.command()
def refuse() -> None:
    raise StoreError("t.db: the store refused a value (out of range)")

main()
"""


def _run(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real group in a process of its own, with one extra command that raises."""
    return subprocess.run(
        [sys.executable, "-c", WITH_BUGGY_COMMANDS, command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=60,
    )


def test_a_bug_is_one_line_saying_so_with_exit_status_1() -> None:
    done = _run("boom")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "pipetrace hit a bug: KeyError: 'no such key'; run with PIPETRACE_DEBUG=1 for the traceback"
    ]


def test_pipetrace_debug_prints_the_traceback_before_the_line() -> None:
    done = _run("boom", PIPETRACE_DEBUG="1")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert ", in boom" in done.stderr and lines[-2] == "KeyError: 'no such key'"
    assert lines[-1] == "pipetrace hit a bug: KeyError: 'no such key'"


def test_a_user_error_stays_one_line_with_exit_status_2_even_when_debugging() -> None:
    for env in ({}, {"PIPETRACE_DEBUG": "1"}):
        done = _run("refuse", **env)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            "pipetrace: t.db: the store refused a value (out of range)"
        ]
