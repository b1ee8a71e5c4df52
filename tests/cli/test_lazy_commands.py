"""The command table: each registered command is found where it says, its summary is the
command's own, and `--help` lists them as click would with every module imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from pipetrace.app.cli import main
from pipetrace.app.commands.registry import COMMANDS

PIPETRACE = str(Path(sys.executable).parent / "pipetrace")


def _loaded(name: str) -> click.Command:
    command = main.get_command(click.Context(main), name)
    assert command is not None, name
    return command


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_registered_summary_is_the_first_sentence_of_the_command_s_own_help(name: str) -> None:
    command = _loaded(name)
    assert command.name == name
    assert COMMANDS[name].summary == command.get_short_help_str(limit=sys.maxsize), (
        f"app/commands/registry.py: give {name!r} the summary its help starts with"
    )


def test_help_lists_what_click_lists_with_every_command_imported() -> None:
    eager = click.Group(
        "pipetrace", params=main.params, help=main.help, invoke_without_command=True
    )
    for name in COMMANDS:
        eager.add_command(_loaded(name), name)
    expected = eager.get_help(click.Context(eager, info_name="pipetrace"))
    fresh = subprocess.run([PIPETRACE, "--help"], capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout == expected + "\n"


def test_an_unknown_command_is_refused_with_the_registered_names_as_guesses() -> None:
    result = subprocess.run([PIPETRACE, "trace"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "pipetrace: no such command 'trace' (did you mean 'traces'?)"
    ]
