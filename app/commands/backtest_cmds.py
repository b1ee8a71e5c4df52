"""`pipetrace backtest`: what a candidate pipelines folder would have done to stored traffic."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pipetrace.store import TraceFilter

from ..backtest.report import FLIP_CLASSES, FlipClass
from ..backtest.run import run_backtest
from ..settings import Settings
from .backtest_output import print_report
from .common import db_option, echo_json, filter_options, json_option, opened_store
from .table_layout import output_console

FAIL_EXIT = 3
"""The exit status when a trace flipped in a class named by --fail-on (for CI gates)."""
INTERRUPTED_EXIT = 130
FAIL_CLASSES = [name for name in FLIP_CLASSES if name != "unchanged"]


@click.command()
@click.option(
    "--pipelines",
    "pipelines_dir",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="The candidate pipelines folder (make one with `pipetrace pipelines init DIR`).",
)
@filter_options
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    type=click.Choice(FAIL_CLASSES),
    help=f"Exit with status {FAIL_EXIT} when any trace lands in this class (repeatable).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    metavar="N",
    help="Worker processes [default: one per core].",
)
@db_option
@json_option
def backtest(
    pipelines_dir: Path,
    filters: TraceFilter,
    fail_on: tuple[FlipClass, ...],
    workers: int | None,
    settings: Settings,
    as_json: bool,
) -> None:
    """Replay every matching stored trace through a candidate pipelines folder and report what
    would change: decisions that flip, statuses, each script's results and durations, and the
    errors and limit hits the candidate introduces. Nothing is stored.

    Takes the same filters as `traces`. Traces whose input had a field redacted when stored,
    where the candidate reads that field, are counted as uncertain, not as flips. Ctrl-C stops
    the workers and prints the report so far.
    """
    errors = Console(stderr=True)
    with (
        opened_store(settings) as repo,
        Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=errors,
            transient=True,
            disable=not errors.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("backtest", total=None)

        def advance(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        report = run_backtest(repo, filters, pipelines_dir, workers=workers, on_progress=advance)
    if as_json:
        echo_json(report.to_json())
    else:
        print_report(report, output_console())
    if any(report.flipped(kind) for kind in fail_on):
        sys.exit(FAIL_EXIT)
    if report.interrupted:
        sys.exit(INTERRUPTED_EXIT)
