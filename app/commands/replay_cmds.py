"""`pipetrace replay`: run a stored trace again through the current pipelines and show the diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from ..helper_values import HelperValues
from ..replay import ReplayDiff, keep_replay, run_replay, stores_replays
from ..replay_sources import STORED_WHERE
from ..script_diff import ScriptDiff
from ..settings import Settings
from ..timeparse import format_duration
from ..untrusted import shown_json, shown_source_lines, shown_text
from .common import db_option, echo_json, json_option, opened_store
from .helper_options import helper_options
from .pipelines_option import pipelines_option
from .store_cmds import resolve_trace_id, status_text
from .table_layout import Column, output_console, print_table

_DIFF_STYLES = {"+": "green", "-": "red", "@": "cyan"}
"""A unified diff line's colour by its first character (the two file headers are bold)."""
SCRIPT_COLUMNS = (
    Column("script", 16),
    Column("change", 7),
    Column("status", 18),
    Column("duration"),
    Column("source"),
    Column("message", 24, wraps=True),
)
"""Which script, what changed and why stay readable on a narrow terminal; the rest give way."""


@click.command()
@click.argument("trace_id")
@pipelines_option
@click.option(
    "--no-store",
    "no_store",
    is_flag=True,
    help="Only show the diff: the store is left exactly as it was.",
)
@helper_options
@db_option
@json_option
def replay(
    trace_id: str,
    pipelines_dir: Path | None,
    no_store: bool,
    helpers: HelperValues,
    settings: Settings,
    as_json: bool,
) -> None:
    """Replay a trace's trigger with its stored input and metadata; print what changed.

    The replay is stored as a new trace marked as a replay of TRACE_ID (its input, result and
    spans; see it with `show` or `traces --replays only`). Replays are not traffic: the list,
    counts, plot and exports leave them out unless asked. With --no-store nothing is written.

    On an auther database the trace runs through the database's own plan and scripts as they
    are now (or --pipelines DIR), and nothing is stored: the diff is all there is.
    """
    with opened_store(settings, writes=not no_store) as repo:
        ran = run_replay(repo, resolve_trace_id(repo, trace_id), pipelines_dir, helpers)
        stored = not no_store and stores_replays(repo)
        if stored:
            keep_replay(repo, ran)
        why = "" if stored or no_store else f"not stored: {repo.url} is the application's"
    if as_json:
        echo_json({**ran.diff.to_json(), "stored": stored, "pipelines": ran.pipelines})
        return
    print_diff(ran.diff, output_console(), stored=stored, why=why, pipelines=ran.pipelines)


def _decision(allowed: bool | None) -> str:
    return {True: "allowed", False: "blocked", None: "-"}[allowed]


def _value(value: Any) -> str:
    return "-" if value is None else shown_json(value, sort_keys=True)


def print_diff(
    diff: ReplayDiff,
    console: Console,
    *,
    stored: bool = True,
    why: str = "",
    pipelines: str = "",
) -> None:
    """The diff as people read it: decision first, then data, then script by script; `why`
    says why a replay was not stored when it was not asked to be left out, and `pipelines`
    what it ran through where that is not a folder's path."""
    arrow = " -> "
    console.print(
        Text.assemble(
            shown_text(diff.trigger, "bold"),
            " ",
            shown_text(diff.original_id),
            " replayed as ",
            shown_text(diff.replay_id),
            "" if stored else f" ({why or 'not stored'})",
        )
    )
    if pipelines == STORED_WHERE:
        console.print(shown_text(f"through {pipelines}"))
    console.print(
        Text.assemble(
            f"decision: {_decision(diff.allowed_before)}{arrow}{_decision(diff.allowed_after)}",
            "   status: ",
            shown_text(diff.status_before),
            arrow,
            shown_text(diff.status_after),
        )
    )
    if diff.error_before or diff.error_after:
        console.print(
            Text.assemble(
                "message:  ",
                shown_text(diff.error_before or "-"),
                arrow,
                shown_text(diff.error_after or "-"),
            )
        )
    for change in diff.data:
        console.print(
            shown_text(f"data {change.key}: {_value(change.before)}{arrow}{_value(change.after)}")
        )
    rows = []
    for span in diff.spans:
        status = Text.assemble(
            _span_status(span.status_before), arrow, _span_status(span.status_after)
        )
        source = {True: "[yellow]changed[/]", False: "same", None: "unknown"}[span.source_changed]
        message = span.message_after if span.change != "removed" else span.message_before
        rows.append(
            (
                shown_text(span.label),
                span.change,
                status,
                f"{format_duration(span.duration_before_ms)}{arrow}"
                f"{format_duration(span.duration_after_ms)}",
                Text.from_markup(source),
                shown_text(message),
            )
        )
    print_table(console, SCRIPT_COLUMNS, rows, "scripts")
    for script in diff.scripts:
        for line in script_diff_lines(script):
            console.print(line, soft_wrap=True)
    if diff.redacted:
        console.print(
            shown_text(
                "redacted when stored (the replay saw them as [REDACTED]): "
                + ", ".join(diff.redacted)
            )
        )
    if diff.identical:
        console.print("[green]identical: same decision, data and script results[/]")


def script_diff_lines(script: ScriptDiff) -> list[Text]:
    """A changed script's unified diff, coloured as `git diff` colours one, or why it cannot be
    shown."""
    if script.missing is not None:
        return [
            Text.assemble(
                shown_text(script.file, "bold"),
                " changed; the version that ran cannot be shown: ",
                shown_text(script.missing, "dim"),
            )
        ]
    return [
        shown_text(line, _DIFF_STYLES.get(line[:1], "") if n > 1 else "bold")
        for n, line in enumerate(shown_source_lines("\n".join(script.lines)))
    ]


def _span_status(status: str | None) -> Text:
    """A script's status on one side of the diff; '-' where it did not run."""
    return status_text(status) if status else shown_text("-", "dim")
