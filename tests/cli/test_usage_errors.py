"""Every usage error of every command is one line naming the command and what is wrong."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from factories import make_trace

from pipetrace.app.cli import main
from pipetrace.engine import bundled_pipelines_dir
from pipetrace.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every leaf command under the group (loading the lazily registered ones)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, name
        command = found
    return command


def _bad_value(param: click.Parameter) -> str | None:
    """A value the parameter's type refuses, or None for a type that takes any text."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return "not-a-choice"
    if isinstance(kind, click.IntRange | click.FloatRange):
        return str(kind.min - 1) if kind.min is not None else str(kind.max + 1)
    return None


def _cases() -> Iterator[object]:
    for path in _commands(main):
        command = _command(path)
        yield pytest.param(
            path, ["--no-such-option"], "no such option", id=f"{' '.join(path)} unknown option"
        )
        for param in command.params:
            bad = _bad_value(param)
            if isinstance(param, click.Option) and bad is not None:
                flag = param.opts[0]
                yield pytest.param(path, [flag, bad], f"{flag}: ", id=f"{' '.join(path)} {flag}")
            if isinstance(param, click.Argument) and param.required:
                missing = f"missing argument '{param.human_readable_name}"
                yield pytest.param(path, [], missing, id=f"{' '.join(path)} {param.name}")


@pytest.mark.parametrize(("path", "args", "fragment"), list(_cases()))
def test_every_command_refuses_bad_usage_in_one_line(
    path: tuple[str, ...], args: list[str], fragment: str
) -> None:
    result = CliRunner().invoke(main, [*path, *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"pipetrace {' '.join(path)}: {fragment}"), lines


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["traces", "--status", "timeout"],
            "pipetrace traces: --status: 'timeout' is not one of 'success', 'blocked', 'error'",
        ),
        (
            ["cleanup", "--batch-size", "0"],
            "pipetrace cleanup: --batch-size: 0 is not in the range 1<=x<=100000",
        ),
        (["show"], "pipetrace show: missing argument 'TRACE_ID'"),
        (["traces", "--limit"], "pipetrace traces: option '--limit' requires an argument"),
        (["traces", "--limit", "x"], "pipetrace traces: --limit: 'x' is not a valid integer range"),
        (["traces", "a"], "pipetrace traces: got unexpected extra argument (a)"),
        (["tracez"], "pipetrace: no such command 'tracez' (did you mean 'traces'?)"),
        (["--nope"], "pipetrace: no such option '--nope'"),
        (
            ["traces", "--trigerr", "x"],
            "pipetrace traces: no such option '--trigerr' (did you mean '--trigger'?)",
        ),
        (["db", "upgrade", "--nope"], "pipetrace db upgrade: no such option '--nope'"),
    ],
)
def test_usage_errors_read_as_one_line(args: list[str], line: str) -> None:
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [line]


def test_a_group_without_a_command_still_shows_its_help() -> None:
    result = CliRunner().invoke(main, ["db"])
    assert "upgrade" in result.output and "Usage:" in result.output


def test_the_installed_program_names_itself_pipetrace() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipetrace", "traces", "--status", "timeout"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "pipetrace traces: --status: 'timeout' is not one of 'success', 'blocked', 'error'"
    ]


@pytest.mark.parametrize(
    ("make", "line"),
    [
        (lambda tmp: tmp / "absent", "pipetrace: pipelines.toml: not found in {folder}"),
        (lambda tmp: tmp, "pipetrace: pipelines.toml: not found in {folder}"),
        (
            lambda tmp: _folder(tmp, "[triggers.x\n"),
            "pipetrace: pipelines.toml:1:12: invalid TOML: ",
        ),
    ],
    ids=["missing", "no-manifest", "bad-toml"],
)
def test_the_viewer_pipelines_folder_is_checked_at_start_like_run_checks_it(
    tmp_path: Path, make, line: str
) -> None:
    folder = make(tmp_path)
    expected = line.format(folder=folder)
    db = str(tmp_path / "t.db")
    # The viewer in a child process: one that starts anyway would wait for keys until the timeout.
    viewer = subprocess.run(
        [sys.executable, "-m", "pipetrace", "--pipelines", str(folder), "--db", db],
        cwd=ROOT,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=30,
    )
    assert (viewer.returncode, viewer.stdout) == (2, ""), viewer.stderr
    run = CliRunner().invoke(main, ["run", "x", "--pipelines", str(folder), "--db", db])
    assert (run.exit_code, run.stdout) == (2, ""), run.output
    for stderr in (viewer.stderr, run.stderr):
        [got] = stderr.splitlines()
        assert got.startswith(expected), got


def test_a_good_pipelines_folder_is_taken(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    repo.save_traces([make_trace(1)])
    repo.close()
    args = ["--pipelines", str(bundled_pipelines_dir()), "traces", "--db", db, "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr


def _folder(tmp: Path, manifest: str) -> Path:
    folder = tmp / "pipes"
    folder.mkdir()
    (folder / "pipelines.toml").write_text(manifest)
    return folder
