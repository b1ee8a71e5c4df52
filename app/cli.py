"""The `pipetrace` command: the viewer by default, and sub-commands for scripts and cron; the one
place that knows the commands, the viewer and the HTTP app, and hands the commands the other two."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from pipetrace.errors import PipetraceError

from .closed_stdout import quiet_when_reader_leaves
from .commands.context import CommandContext
from .commands.pipelines_option import bundled_help
from .commands.registry import COMMANDS
from .frontends import CleanupApp, Frontends, ReceiverFactory
from .interrupts import exit_status
from .lazy_group import LazyGroup
from .untrusted import shown, shown_lines
from .usage_errors import usage_line

if TYPE_CHECKING:
    from .settings import Settings


class PipetraceGroup(LazyGroup):
    """Turns every failure into one line on stderr: exit 2 for a user error, 1 for a bug; its
    sub-commands are those of app/commands/registry.py, each imported only when it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, registered=COMMANDS, package="pipetrace.app.commands", **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Refuse an argument the shell passed as bytes that are not UTF-8 (Python keeps them as
        lone surrogates, which no store, script or terminal can take)."""
        for number, arg in enumerate(args, start=1):
            if not arg.isascii() and any("\udc80" <= c <= "\udcff" for c in arg):
                decoded = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                click.echo(
                    f"pipetrace: argument {number} ({decoded!r}) is not valid UTF-8", err=True
                )
                sys.exit(2)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            _refuse_usage(exc, ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with quiet_when_reader_leaves():
                return super().invoke(ctx)
        except click.UsageError as exc:
            _refuse_usage(exc, ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt as exc:
            click.echo("pipetrace: interrupted", err=True)
            sys.exit(exit_status(exc))
        except PipetraceError as exc:
            click.echo(f"pipetrace: {shown(exc.message)}", err=True)
            sys.exit(2)
        except Exception as exc:
            _report_bug(exc, isinstance(ctx.obj, CommandContext) and ctx.obj.settings.debug)


def _report_bug(exc: Exception, debug: bool) -> NoReturn:
    """An exception no code expected: one line saying it is a bug (after its traceback, with
    PIPETRACE_DEBUG=1), and exit status 1."""
    from .bugs import bug_line, traceback_text  # traceback's imports, only for a bug

    if debug:
        click.echo(shown_lines(traceback_text(exc)), err=True, nl=False)
    click.echo(shown(bug_line(exc, debug=debug)), err=True)
    sys.exit(1)


def _refuse_usage(exc: click.UsageError, ctx: click.Context) -> NoReturn:
    """One line for a bad option, argument or command; `pipetrace db` alone still shows help."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        raise exc
    click.echo(shown(usage_line(exc, ctx)), err=True)
    sys.exit(exc.exit_code)


def _open_viewer(settings: Settings, pipelines_dir: Path | None) -> None:
    """Run the viewer; Textual is imported only here, so commands without it start quickly."""
    from .tui import make_app, run_viewer

    store, debug = settings.store(), settings.debug
    run_viewer(make_app(store, pipelines_dir=pipelines_dir, show_tracebacks=debug))


def _write_screenshots(out: Path) -> list[Path]:
    """Render every viewer scene to `out`, importing the viewer only when asked."""
    import asyncio

    from .tui.shots import write_screenshots

    return asyncio.run(write_screenshots(out))


def _load_cleanup_app() -> CleanupApp:
    """The HTTP app's factory, imported only by `serve` since it needs the optional extra."""
    from .server.api import create_app

    return create_app


def _load_receiver() -> ReceiverFactory:
    """The OTLP receiver's factory, imported only by `receive` since it needs the optional
    extra."""
    from .server.receiver import Receiver

    return Receiver


FRONTENDS = Frontends(
    open_viewer=_open_viewer,
    write_screenshots=_write_screenshots,
    load_cleanup_app=_load_cleanup_app,
    load_receiver=_load_receiver,
)


@click.group(cls=PipetraceGroup, invoke_without_command=True)
@click.option("--db", "db_url", metavar="URL", help="Store URL [env: PIPETRACE_DB].")
@click.option(
    "--pipelines",
    "pipelines_dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help=bundled_help("Pipelines folder the viewer's replays run"),
)
@click.pass_context
def main(ctx: click.Context, db_url: str | None, pipelines_dir: Path | None) -> None:
    """Observability for Lua script pipelines. Without a command, opens the trace viewer."""
    from .settings import Settings  # not needed by --help and completion, which stop earlier

    # Read once here; `pipetrace --db URL traces` then means `pipetrace traces --db URL`.
    settings = Settings.read(os.environ, db_url=db_url)
    ctx.obj = CommandContext(settings, FRONTENDS)
    if pipelines_dir is not None:
        # Checked now, in run's words, not when the operator first presses R (it takes ~20 ms);
        # the engine is imported only here, since the other commands' --pipelines are their own.
        from pipetrace.engine import load_pipelines

        load_pipelines(pipelines_dir)
    if ctx.invoked_subcommand is None:
        _open_viewer(settings, pipelines_dir)
