"""`db upgrade`: apply every revision this version knows, breaking ones included, or only say
what that would run and lock (--dry-run)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from pipetrace.store.auther import open_auther_store
from pipetrace.store.backends import open_backend
from pipetrace.store.migrate import upgrade
from pipetrace.store.migration_plan import UpgradePlan, plan_upgrade
from pipetrace.store.schema_check import check_compatible
from pipetrace.store.schema_state import read_schema
from pipetrace.store.upgrade_batches import BatchProgress

from ..settings import Settings
from ..wording import counted
from .common import db_option, fail, say

PHASES = {
    "copy": "copying rows of",
    "retire": "deleting the old rows of",
    "backfill": "refilling",
}


@click.command("upgrade")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the SQL each pending revision runs and what it holds the write lock for; "
    "change nothing.",
)
@db_option
def db_upgrade(dry_run: bool, settings: Settings) -> None:
    """Upgrade the store's schema to this version's newest revision.

    Commands that write apply additive revisions by themselves; a breaking one, which locks
    older pipetrace versions out of the store, is applied only by this command. On SQLite, new
    indexes are built by rebuilding their table in short batches, and on both backends derived
    tables (the hourly counts) are refilled a range of hours at a time, so writers keep writing.
    """
    target = settings.store()
    auther = open_auther_store(target)
    if auther is not None:
        auther.close()
        fail(f"{auther.url}: pipetrace reads an auther database in place and never migrates it")
    backend = open_backend(target, create=not dry_run)
    where = backend.target.display
    try:
        notice = check_compatible(read_schema(backend.query, where), where)
        if notice:
            say(f"pipetrace: note: {notice}", err=True)
        if dry_run:
            _print_plan(where, plan_upgrade(backend))
            return
        with _batch_progress(sys.stderr.isatty()) as on_progress:
            before, after = upgrade(backend, on_progress=on_progress)
    finally:
        backend.close()
    if before == after:
        say(f"{where}: already at revision {after}")
    else:
        say(f"{where}: upgraded from {before or 'empty'} to {after}")


def _print_plan(where: str, plan: UpgradePlan) -> None:
    """Each pending revision: what it is, what it locks, then its SQL."""
    if not plan.revisions:
        say(f"-- {where}: already at revision {plan.target}; nothing to do")
        return
    breaking = [r.revision for r in plan.revisions if r.breaking]
    kinds = f"breaking: {', '.join(breaking)}" if breaking else "all additive"
    say(
        f"-- {where}: at revision {plan.before or 'empty'}; upgrading to {plan.target} applies "
        f"{counted(len(plan.revisions), 'revision')} ({kinds})"
    )
    for revision in plan.revisions:
        kind = (
            "breaking: older pipetrace versions are locked out" if revision.breaking else "additive"
        )
        say("")
        say(f"-- revision {revision.revision} ({kind}): {revision.summary}")
        for lock in revision.locks:
            say(f"-- locks: {lock}")
        for statement in revision.sql:
            for line in f"{statement};".splitlines():
                say(line)


@contextlib.contextmanager
def _batch_progress(show: bool) -> Iterator[Callable[[BatchProgress], None]]:
    """Online index builds and backfills as a progress bar on a terminal, as one line per phase
    elsewhere."""
    console = Console(stderr=True)
    if not show:
        said: set[tuple[str, str]] = set()

        def tell(p: BatchProgress) -> None:
            if (p.table, p.phase) not in said:
                said.add((p.table, p.phase))
                say(f"pipetrace: {PHASES[p.phase]} {p.table} (writers keep writing)", err=True)

        yield tell
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[tuple[str, str], TaskID] = {}

        def update(p: BatchProgress) -> None:
            key = (p.table, p.phase)
            if key not in tasks:
                tasks[key] = bar.add_task(f"{PHASES[p.phase]} {p.table}", total=p.total)
            bar.update(tasks[key], completed=p.done, total=p.total)

        yield update
