"""The command line behaves like a Unix tool: a reader that stops early (`| head`) ends it quietly
with status 0, `show` cuts a huge name or message, and a --trigger nothing has says so."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_trace

from pipetrace.app.cli import main
from pipetrace.store import open_store

TRACES = 400
HUGE = 1_000_000


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A store of TRACES traces, the first with a user, a span name and a span message of HUGE
    characters."""
    path = str(tmp_path / "t.db")
    items = [make_trace(n, spans=5) for n in range(1, TRACES + 1)]
    first = items[0]
    spans = [
        dataclasses.replace(first.spans[1], name="n" * HUGE, status_message="m" * HUGE),
        *first.spans[2:],
    ]
    trace = dataclasses.replace(first.trace, user_id="u" * HUGE)
    items[0] = dataclasses.replace(first, trace=trace, spans=[first.spans[0], *spans])
    repo = open_store(path)
    try:
        repo.save_traces(items)
    finally:
        repo.close()
    return path


def piped_to_head(args: list[str], cwd: Path) -> tuple[int, bytes, str]:
    """`pipetrace ARGS | head -c 100`: the command's exit status, what head printed and the
    command's stderr."""
    command = subprocess.Popen(
        [sys.executable, "-m", "pipetrace", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout is not None
    head = subprocess.run(["head", "-c", "100"], stdin=command.stdout, capture_output=True)
    command.stdout.close()  # only head holds the pipe's reading end now
    _, err = command.communicate(timeout=120)
    return command.returncode, head.stdout, err.decode()


def closed_at_once(args: list[str], cwd: Path) -> tuple[int, str]:
    """The command with a stdout whose reader left before it wrote anything."""
    command = subprocess.Popen(
        [sys.executable, "-m", "pipetrace", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout is not None
    command.stdout.close()
    _, err = command.communicate(timeout=120)
    return command.returncode, err.decode()


@pytest.mark.parametrize(
    "args",
    [
        ["export"],
        ["traces", "--limit", str(TRACES)],
        ["traces", "--limit", str(TRACES), "--json"],
        ["show", f"{1:032x}"],
        ["show", f"{1:032x}", "--json"],
        ["cleanup", "--dry-run", "--json"],
    ],
    ids=["export", "traces", "traces-json", "show", "show-json", "cleanup"],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(
    db: str, tmp_path: Path, args: list[str]
) -> None:
    code, shown, err = piped_to_head([*args, "--db", db], tmp_path)
    assert (code, err) == (0, "")
    assert len(shown) == 100 or args[0] == "cleanup"
    assert closed_at_once([*args, "--db", db], tmp_path) == (0, "")


def test_show_cuts_a_huge_name_and_message_and_says_how_long_they_were(db: str) -> None:
    result = CliRunner().invoke(main, ["show", f"{1:032x}", "--db", db])
    assert result.exit_code == 0, result.stderr
    note = f"…(cut:{HUGE}charactersinall;show--jsonhasthem)"
    squeezed = "".join(result.stdout.split())  # the lines a wrapped message took, joined
    assert "user" + "u" * 200 + note in squeezed and "m" * 2000 + note in squeezed
    assert "u" * 201 not in squeezed and "m" * 2001 not in squeezed and "n" * 201 not in squeezed
    assert len(result.stdout) < 50_000  # 13 MB when the name and message were printed whole
    whole = CliRunner().invoke(main, ["show", f"{1:032x}", "--db", db, "--json"])
    assert all(c * HUGE in whole.stdout for c in "unm")


@pytest.mark.parametrize("as_json", [[], ["--json"]], ids=["text", "json"])
def test_a_trigger_no_stored_trace_has_is_named_with_the_ones_there_are(
    db: str, as_json: list[str]
) -> None:
    args = ["traces", "--trigger", "befor_signup", "--trigger", "before_signup", *as_json]
    result = CliRunner().invoke(main, [*args, "--db", db])
    assert result.exit_code == 0
    assert result.stderr == (
        "pipetrace: no stored trace has --trigger 'befor_signup'; the store has 'before_signup'\n"
    )
    if as_json:
        assert json.loads(result.stdout)["total"] == TRACES
    known = CliRunner().invoke(main, ["traces", "--trigger", "before_signup", "--db", db])
    assert known.stderr == ""


def test_an_unknown_trigger_in_an_empty_store_says_the_store_is_empty(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    open_store(path).close()
    result = CliRunner().invoke(main, ["traces", "--trigger", "x", "--db", path])
    assert result.exit_code == 0
    assert (
        result.stderr == "pipetrace: no stored trace has --trigger 'x'; the store holds no traces\n"
    )
