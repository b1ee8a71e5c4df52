"""A click group that imports a sub-command's module only when that command runs, so `--help`,
shell completion and every command start without the modules of all the others."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


class Registered(NamedTuple):
    """A sub-command by where it lives and what it says about itself."""

    target: str
    """"module:attribute", the module relative to the group's package (as "store_cmds:traces")."""
    summary: str
    """The first sentence of its help, as `--help` and shell completion list it (a test keeps it
    equal to the command's own)."""


class LazyGroup(click.Group):
    """Lists its registered sub-commands from their summaries and imports one when it is run,
    its help is asked for, or its options are completed."""

    def __init__(
        self, *args: Any, registered: Mapping[str, Registered], package: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.registered = dict(registered)
        self.package = package

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every sub-command's name, registered or added, sorted."""
        return sorted({*self.commands, *self.registered})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The sub-command, its module imported the first time it is asked for."""
        if cmd_name not in self.commands and cmd_name in self.registered:
            self.add_command(self.load(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click resolves it, guessing from every registered name for a mistyped one (click
        guesses from the commands loaded so far)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            names = self.list_commands(ctx)
            raise click.exceptions.NoSuchCommand(exc.command_name, None, names, ctx) from None

    def load(self, name: str) -> click.Command:
        """Import a registered sub-command."""
        module, _, attribute = self.registered[name].target.partition(":")
        command = getattr(importlib.import_module(f"{self.package}.{module}"), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.registered[name].target} is not a click command")
        return command

    def summaries(self, ctx: click.Context, limit: int) -> list[tuple[str, str]]:
        """(name, short help cut to `limit`) of every visible sub-command, without importing a
        registered one that has not been loaded."""
        rows = []
        for name in self.list_commands(ctx):
            loaded = self.commands.get(name)
            if loaded is None:
                # Cut as click cuts a command's own help (its function for that is private).
                stand_in = click.Command(name, help=self.registered[name].summary)
                rows.append((name, stand_in.get_short_help_str(limit)))
            elif not loaded.hidden:
                rows.append((name, loaded.get_short_help_str(limit)))
        return rows

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The Commands section of `--help`, as click writes it, from the summaries."""
        names = self.list_commands(ctx)
        if not names:
            return
        rows = self.summaries(ctx, formatter.width - 6 - max(map(len, names)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Sub-command names starting with `incomplete` (with their summaries, as click's own
        completion gives them), then the group's options."""
        from click.shell_completion import CompletionItem

        items = [
            CompletionItem(name, help=summary)
            for name, summary in self.summaries(ctx, 45)
            if name.startswith(incomplete)
        ]
        return items + click.Command.shell_complete(self, ctx, incomplete)
