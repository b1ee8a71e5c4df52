"""`db vacuum` and `db check`: a store's disk space and soundness; `db upgrade` and `db indexes`
join them here."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click
from rich.console import Console
from rich.filesize import decimal
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipetrace.store import StoreDamaged, VacuumResult
from pipetrace.store.backends import open_backend
from pipetrace.store.integrity import CheckStep, integrity_problems

from ..settings import Settings
from ..wording import counted
from .common import db_option, echo_json, json_option, opened_store, say
from .index_cmds import db_indexes
from .upgrade_cmds import db_upgrade

VACUUM_WAIT_S = 5.0
"""How long `db vacuum` waits for the write lock before it calls the store busy."""
SHOWN_PROBLEMS = 20
"""Problems `db check` prints (--json has them all)."""


@click.group()
def db() -> None:
    """Manage the store's schema, soundness and disk space."""


db.add_command(db_upgrade)
db.add_command(db_indexes)


@db.command("vacuum")
@click.option(
    "--wait",
    type=click.FloatRange(0, 600),
    default=VACUUM_WAIT_S,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the store's write lock before refusing it as busy.",
)
@db_option
@json_option
def db_vacuum(wait: float, settings: Settings, as_json: bool) -> None:
    """Give every free page of a SQLite store back to the disk (a full VACUUM), once.

    It also switches an older store to incremental auto-vacuum (new stores start in it), after
    which cleanup shrinks the file as it deletes. It rewrites the whole file and holds the write
    lock meanwhile (writers wait), needs free disk space for two copies of the data, and refuses
    in one line when that space or the lock is not there, or when SQLite's quick check finds the
    store damaged. A libSQL server manages its own space.
    """
    with opened_store(settings) as repo:

        def announce(in_use: int) -> None:
            if not as_json:
                say(
                    f"vacuuming {repo.url} ({decimal(in_use)} of data; writers wait until it ends)",
                    err=True,
                )

        result = repo.vacuum(wait, on_start=announce)
        space = repo.space()
    if as_json:
        echo_json(
            {
                "store": repo.url,
                "vacuumed": result.vacuumed,
                "converted": result.converted,
                "before_bytes": result.before_bytes,
                "after_bytes": result.after_bytes,
                "freed_bytes": max(0, result.before_bytes - result.after_bytes),
                "space_mode": space.mode,
            }
        )
        return
    say(_vacuum_line(repo.url, result))


def _vacuum_line(url: str, result: VacuumResult) -> str:
    """What the vacuum gave back, and what it means for later cleanups."""
    if not result.vacuumed:
        return (
            f"{url}: nothing to give back ({decimal(result.before_bytes)}, no free pages); "
            "cleanup already gives space back as it deletes"
        )
    line = (
        f"vacuumed {url}: {decimal(result.before_bytes)} -> "
        f"{decimal(result.after_bytes)} on disk "
        f"({decimal(max(0, result.before_bytes - result.after_bytes))} given back)"
    )
    if result.converted:
        line += "; switched to incremental auto-vacuum: cleanup now shrinks the file as it deletes"
    return line


@db.command("check")
@db_option
@json_option
def db_check(settings: Settings, as_json: bool) -> None:
    """Run SQLite's integrity check on the store, a table at a time, and list what is wrong.

    It only reads (writers keep writing) but reads every page, so it takes a while on a large
    store. Exit status 0 when the store is sound, 1 when SQLite finds it damaged, 2 when it
    cannot be checked at all.
    """
    backend = open_backend(settings.store(), create=False)
    where = backend.target.display
    try:
        with _steps(not as_json and sys.stderr.isatty()) as on_step:
            problems = integrity_problems(backend, on_step)
    except StoreDamaged as exc:
        problems = [exc.message]
    finally:
        backend.close()
    if as_json:
        echo_json({"store": where, "ok": not problems, "problems": problems})
    elif not problems:
        say(f"{where}: sound (SQLite's integrity check found no problems)")
    else:
        say(f"{where}: damaged: SQLite's integrity check found {counted(len(problems), 'problem')}")
        for problem in problems[:SHOWN_PROBLEMS]:
            say(f"  {problem}")
        if len(problems) > SHOWN_PROBLEMS:
            say(f"  ... and {len(problems) - SHOWN_PROBLEMS} more (--json lists them all)")
    if problems:
        sys.exit(1)


@contextlib.contextmanager
def _steps(show: bool) -> Iterator[Callable[[CheckStep], None] | None]:
    """A progress bar on stderr over the check's steps, when on a terminal."""
    if not show:
        yield None
        return
    columns = (
        TextColumn("checking {task.fields[step]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("check", total=None, step="")

        def on_step(step: CheckStep) -> None:
            bar.update(task, completed=step.number - 1, total=step.total, step=step.name)

        yield on_step
