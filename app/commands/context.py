"""What app/cli.py hands every command through click's context object: the settings it read
once from its flags and the environment, and the frontends (viewer, HTTP app) it wires."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

if TYPE_CHECKING:
    from ..frontends import Frontends
    from ..settings import Settings

R = TypeVar("R")


class CommandContext(NamedTuple):
    """click's context object for the `pipetrace` group and every command under it."""

    settings: Settings
    frontends: Frontends


def handed(ctx: click.Context) -> CommandContext:
    """The object app/cli.py put in the group's context."""
    found = ctx.find_object(CommandContext)
    if found is None:
        raise RuntimeError("a pipetrace command ran outside the pipetrace group")
    return found


def pass_frontends(command: Callable[..., R]) -> Callable[..., R]:
    """Hands a command the viewer and HTTP app as its first argument."""

    @functools.wraps(command)
    def with_frontends(*args: Any, **kwargs: Any) -> R:
        ctx = click.get_current_context()
        return ctx.invoke(command, handed(ctx).frontends, *args, **kwargs)

    return with_frontends
