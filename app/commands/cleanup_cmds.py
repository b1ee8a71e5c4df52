"""`cleanup`: delete traces past their retention, by hand with a preview or from cron with --yes."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pipetrace.store import CleanupProgress, CleanupResult, Repository, StoreError

from ..disk_space import space_line
from ..interrupts import SIGNAL_STATUS, exit_status, sigterm_as_interrupt
from ..retention import (
    DEFAULT_AGE,
    DEFAULT_BATCH_SIZE,
    PAUSE_SECONDS,
    cutoff_for,
    failed_summary,
    summary,
)
from ..settings import Settings
from ..timeparse import format_ns
from ..wording import counted
from .common import db_option, echo_json, fail, json_option, opened_store, say


@click.command()
@click.option(
    "--older-than",
    default=DEFAULT_AGE,
    show_default=True,
    metavar="AGE",
    help="Delete traces that started longer ago than this (s, m, h, d, w).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed from cron).")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Traces deleted per transaction; smaller keeps concurrent writers' waits shorter.",
)
@db_option
@json_option
def cleanup(
    older_than: str,
    dry_run: bool,
    yes: bool,
    batch_size: int,
    settings: Settings,
    as_json: bool,
) -> None:
    """Delete traces (and their spans) older than an age, oldest first, in small batches.

    Without --yes it shows how much would go and asks first; with no terminal (cron) it
    refuses unless --yes is given. Ctrl-C stops after the current batch (exit 130).
    """
    cutoff = cutoff_for(older_than, "--older-than")
    with opened_store(settings, writes=True) as repo, sigterm_as_interrupt():
        n_traces, n_spans = repo.count_older_than(cutoff)
        preview = (
            f"{counted(n_traces, 'trace')} and {counted(n_spans, 'span')} older than {older_than} "
            f"(before {format_ns(cutoff)} UTC) in {repo.url}"
        )
        if dry_run or n_traces == 0:
            space = repo.space()
            found = CleanupResult(n_traces, n_spans, space=space)
            _report(summary(cutoff, older_than, found, dry_run), as_json)
            if not as_json:
                say(preview if dry_run else f"nothing to delete: {preview}")
                say(space_line(space))
            return
        if not (yes or sys.stdin.isatty()):
            fail("cleanup: no terminal to confirm on; pass --yes to delete (or --dry-run to count)")
        repo.refuse_if_damaged("cleanup")
        if not yes:
            say(preview, err=True)
            if not click.confirm("Delete them?", default=False, err=True):
                fail("cleanup: nothing deleted", code=1)
        show_bar = not as_json and sys.stderr.isatty()
        try:
            result, stopped_by = _delete(
                repo, cutoff, batch_size, n_traces, show_bar, announce=not as_json
            )
        except StoreError as exc:
            if exc.partial is None:
                raise
            _report(failed_summary(cutoff, older_than, exc), as_json)
            fail(f"cleanup stopped: {exc.message}")
    _report(summary(cutoff, older_than, result, dry_run=False), as_json)
    if not as_json:
        verb = "cancelled after deleting" if result.cancelled else "deleted"
        say(
            f"{verb} {counted(result.traces, 'trace')} and {counted(result.spans, 'span')} "
            f"older than {older_than} "
            f"(before {format_ns(cutoff)} UTC) from {repo.url}"
        )
        if result.space is not None:
            say(space_line(result.space, result.freed_bytes))
    if result.cancelled:
        sys.exit(exit_status(signum=stopped_by))


def _report(data: dict[str, Any], as_json: bool) -> None:
    """JSON on stdout for scripts; the human line is printed by the caller."""
    if as_json:
        echo_json(data)


def _delete(
    repo: Repository, cutoff: int, batch_size: int, total: int, show_bar: bool, announce: bool
) -> tuple[CleanupResult, int]:
    """Run the batched delete with Ctrl-C or SIGTERM turned into a cancel between batches;
    return the result and the signal that cancelled it (SIGINT when none did)."""
    cancel = threading.Event()
    console = Console(stderr=True)

    def note(line: str) -> None:
        """A line on stderr; while the bar runs, Rich prints it above the bar."""
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    with _cancel_on_interrupt(cancel, note) as stopped_by:
        if announce:
            note("deleting (Ctrl-C stops after the current batch)")
        with _progress(total, show_bar, console) as on_progress:
            result = repo.cleanup_old_traces(
                cutoff,
                batch_size=batch_size,
                on_progress=on_progress,
                cancel=cancel,
                pause=PAUSE_SECONDS,
                verify=False,
            )
    return result, stopped_by[0]


@contextlib.contextmanager
def _cancel_on_interrupt(
    cancel: threading.Event, note: Callable[[str], None]
) -> Iterator[list[int]]:
    """SIGINT and SIGTERM set the cancel event instead of raising mid-transaction; the list
    yielded holds the signal that did (SIGINT until one does). The handler writes nothing: a
    signal arriving while the main thread writes to stderr would make the write reentrant, so
    a thread of its own says that the command is stopping."""
    stopped_by = [int(signal.SIGINT)]
    if threading.current_thread() is not threading.main_thread():
        yield stopped_by
        return
    wake = threading.Event()
    signalled: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        if not cancel.is_set():
            stopped_by[0] = signum
            signalled.append(signum)
            wake.set()
        cancel.set()

    def say_stopping() -> None:
        wake.wait()
        if signalled:
            note("stopping after the current batch...")

    speaker = threading.Thread(target=say_stopping, name="cleanup-stopping", daemon=True)
    speaker.start()
    previous = {signum: signal.signal(signum, on_signal) for signum in SIGNAL_STATUS}
    try:
        yield stopped_by
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        wake.set()
        speaker.join()


@contextlib.contextmanager
def _progress(
    total: int, show: bool, console: Console
) -> Iterator[Callable[[CleanupProgress], None] | None]:
    """A progress bar on stderr fed by the repository's progress callback, when on a terminal."""
    if not show:
        yield None
        return
    columns = (
        TextColumn("deleting traces"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[spans]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("cleanup", total=total, spans=counted(0, "span"))

        def on_progress(p: CleanupProgress) -> None:
            spans = counted(p.spans, "span")
            bar.update(task, completed=p.traces, total=p.total_traces or total, spans=spans)

        yield on_progress
