"""`completion SHELL`: click's shell completion script for `pipetrace`, to source or install."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
PROG_NAME = "pipetrace"
COMPLETE_VAR = "_PIPETRACE_COMPLETE"
"""The variable click's completion sets when the shell asks `pipetrace` for completions."""


@click.command()
@click.argument("shell", metavar="SHELL", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    bash:  eval "$(pipetrace completion bash)"   (in ~/.bashrc)
    zsh:   eval "$(pipetrace completion zsh)"    (in ~/.zshrc, after compinit)
    fish:  pipetrace completion fish > ~/.config/fish/completions/pipetrace.fish
    """
    complete = get_completion_class(shell)
    assert complete is not None, shell  # click ships all of SHELLS
    script = complete(ctx.find_root().command, {}, PROG_NAME, COMPLETE_VAR).source()
    click.echo(script, nl=not script.endswith("\n"))
