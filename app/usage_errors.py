"""Click's usage errors as one line naming the command and the option, like every other error."""

from __future__ import annotations

import click


def usage_line(exc: click.UsageError, group_ctx: click.Context) -> str:
    """`pipetrace traces: --status: 'timeout' is not one of ...`, without click's usage block.

    Click's parser leaves the context out of some errors (an option missing its value); the
    group's then names the sub-command it was starting."""
    if exc.ctx is not None:
        where = command_path(exc.ctx)
    else:
        where = " ".join(filter(None, [command_path(group_ctx), group_ctx.invoked_subcommand]))
    return f"{where}: {_what(exc)}"


def command_path(ctx: click.Context | None) -> str:
    """The command as typed after the program name, under the name users know it by."""
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["pipetrace", *reversed(names)])


def _what(exc: click.UsageError) -> str:
    """The problem itself: the parameter first for a bad value, then what is wrong with it."""
    if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter):
        hint = _param_name(exc.param) if exc.param is not None else exc.param_hint
        if hint:
            return f"{hint}: {_sentence(exc.message)}"
    possibilities = getattr(exc, "possibilities", None)  # a mistyped option or command
    if possibilities:
        guesses = " or ".join(repr(p) for p in sorted(possibilities))
        return f"{_sentence(exc.message)} (did you mean {guesses}?)"
    return _sentence(exc.format_message())


def _param_name(param: click.Parameter) -> str:
    """An option by its flags (--min-ms), an argument by its metavar (TRACE_ID)."""
    if isinstance(param, click.Option):
        return "/".join(param.opts)
    return param.human_readable_name


def _sentence(text: str) -> str:
    """Click's sentence as a clause: lower-case start, no final full stop, one line."""
    text = " ".join(text.split()).removesuffix(".")
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return text
