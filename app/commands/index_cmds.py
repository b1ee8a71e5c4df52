"""`db indexes`: print the indexes pipetrace can add to an auther database for fast filtered
pages, and create (or with --drop remove) them only once the operator says yes."""

from __future__ import annotations

import click

from pipetrace.store.auther import AutherRepository, OptionalIndex

from ..settings import Settings
from .common import db_option, fail, opened_store, say


@click.command("indexes")
@click.option("--yes", is_flag=True, help="Do it without asking.")
@click.option("--drop", is_flag=True, help="Remove the indexes this command added instead.")
@db_option
def db_indexes(yes: bool, drop: bool, settings: Settings) -> None:
    """Add indexes to an auther database so filtered lists are fast (asks first).

    auther indexes its traces by trigger, status and creation time apiece, so a first page
    filtered by trigger or status sorts every match, and one by user or IP reads every trace.
    This prints the indexes (filter column, then creation time) that make each one index
    range read, then asks before creating them; nothing changes without a yes (or --yes).
    They take disk space and SQLite holds the write lock while it builds them: the auth server's
    writes wait. pipetrace's own store has its indexes from its migrations.
    """
    with opened_store(settings) as repo:
        if not isinstance(repo, AutherRepository):
            say(f"{repo.url}: pipetrace's own store has these indexes already; nothing to do")
            return
        indexes = repo.optional_indexes()
        todo = [i for i in indexes if i.present == drop]
        verb = "remove" if drop else "add"
        if not todo:
            state = "none of them is there" if drop else "all of them are there already"
            say(f"{repo.url}: {len(indexes)} indexes pipetrace can {verb}: {state}")
            return
        say(f"pipetrace would {verb} {len(todo)} indexes in {repo.url}:")
        for index in todo:
            say(f"  {index.drop_sql if drop else index.create_sql};  -- {_serves(index)}")
        if not yes and not _confirmed(verb):
            fail("nothing changed (answer y, or pass --yes, to go ahead)", code=1)
        if drop:
            repo.drop_indexes(todo)
        else:
            repo.add_indexes(todo)
    say(f"{'removed' if drop else 'added'} {len(todo)} indexes in {repo.url}")


def _serves(index: OptionalIndex) -> str:
    """What an index makes fast, in the options' words."""
    return f"{index.serves}, newest first"


def _confirmed(verb: str) -> bool:
    """The operator's answer; no answer at all (closed standard input) is a no."""
    try:
        return click.confirm(f"{verb.capitalize()} them now?", default=False, err=True)
    except click.Abort:
        click.echo(err=True)
        return False
