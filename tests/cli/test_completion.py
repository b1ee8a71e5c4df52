"""Shell completion: `pipetrace completion SHELL` prints click's script, which completes command
names and options in a real shell, and completing a command name imports no command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from startup_probe import HEAVY, imported_by

from pipetrace.app.commands.registry import COMMANDS

BIN = Path(sys.executable).parent
PIPETRACE = str(BIN / "pipetrace")
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
"""The shells find `pipetrace` (this installation's) on their PATH, as a user's would."""


def _script(shell: str) -> str:
    result = subprocess.run(
        [PIPETRACE, "completion", shell], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _shell(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        pytest.skip(f"{shell} is not installed on this machine")
    return found


def _bash_complete(script: Path, *words: str) -> list[str]:
    """What bash offers for the last of `words`, through the sourced script's function."""
    quoted = " ".join(f"'{word}'" for word in words)
    line = (
        f"source '{script}'; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        '_pipetrace_completion pipetrace; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        [_shell("bash"), "--norc", "-c", line], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.fixture
def bash_script(tmp_path: Path) -> Path:
    path = tmp_path / "pipetrace.bash"
    path.write_text(_script("bash"))
    return path


def test_bash_completes_every_command_name(bash_script: Path) -> None:
    assert _bash_complete(bash_script, "pipetrace", "") == sorted(COMMANDS)
    assert _bash_complete(bash_script, "pipetrace", "tr") == ["traces"]
    assert _bash_complete(bash_script, "pipetrace", "db", "up") == ["upgrade"]


def test_bash_completes_options_and_their_choices(bash_script: Path) -> None:
    assert _bash_complete(bash_script, "pipetrace", "traces", "--li") == ["--limit"]
    assert _bash_complete(bash_script, "pipetrace", "traces", "--status", "bl") == ["blocked"]
    assert _bash_complete(bash_script, "pipetrace", "completion", "") == ["bash", "zsh", "fish"]


def _answer(shell: str, words: str, cword: int) -> list[str]:
    """What `pipetrace` tells a shell's completion function, as that function asks."""
    env = {
        "_PIPETRACE_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    result = subprocess.run(
        [PIPETRACE], capture_output=True, text=True, timeout=60, env={**ENV, **env}
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_zsh_and_fish_are_told_command_names_with_their_summaries() -> None:
    summary = COMMANDS["traces"].summary
    assert _answer("zsh", "pipetrace tr", "1") == ["plain", "traces", summary]
    assert _answer("fish", "pipetrace tr", "tr") == [f"plain,traces\t{summary}"]
    assert _answer("zsh", "pipetrace traces --li", "2")[:2] == ["plain", "--limit"]


def test_zsh_loads_the_script(tmp_path: Path) -> None:
    zsh = _shell("zsh")
    script = tmp_path / "pipetrace.zsh"
    script.write_text(_script("zsh"))
    line = (
        f"autoload -U compinit && compinit -u && source '{script}' && "
        "whence -w _pipetrace_completion"
    )
    loaded = subprocess.run(
        [zsh, "-f", "-c", line], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert loaded.stdout.strip() == "_pipetrace_completion: function", loaded.stderr


def test_fish_completes_command_names_and_options(tmp_path: Path) -> None:
    fish = _shell("fish")
    script = tmp_path / "pipetrace.fish"
    script.write_text(_script("fish"))

    def offered(line: str) -> list[str]:
        result = subprocess.run(
            [fish, "--no-config", "-c", f"source '{script}'; complete -C '{line}'"],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
        )
        return [found.split("\t")[0] for found in result.stdout.splitlines()]

    assert offered("pipetrace tr") == ["traces"]
    assert offered("pipetrace traces --li") == ["--limit"]


def test_completing_a_command_name_imports_no_command(tmp_path: Path) -> None:
    env = {"_PIPETRACE_COMPLETE": "bash_complete", "COMP_WORDS": "pipetrace ", "COMP_CWORD": "1"}
    modules = imported_by(tmp_path, env=env, top_level=False)
    assert not {name.split(".")[0] for name in modules} & set(HEAVY)
    assert not [
        name
        for name in modules
        if name.startswith("pipetrace.app.commands.") and name.endswith("_cmds")
    ]
