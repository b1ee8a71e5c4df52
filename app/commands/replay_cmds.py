"""`pipetrace replay`: run a stored trace again through the current pipelines and show the diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from ..replay import ReplayDiff, replay_trace
from ..settings import Settings
from ..timeparse import format_duration
from .common import db_option, echo_json, json_option, opened_store, plain
from .engine_cmds import pipelines_option
from .store_cmds import resolve_trace_id, status_text
from .table_layout import Column, output_console, print_table

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
@db_option
@json_option
def replay(trace_id: str, pipelines_dir: Path | None, settings: Settings, as_json: bool) -> None:
    """Replay a trace's trigger with its stored input and metadata; print what changed."""
    with opened_store(settings) as repo:
        diff = replay_trace(repo, resolve_trace_id(repo, trace_id), pipelines_dir)
    if as_json:
        echo_json(diff.to_json())
        return
    print_diff(diff, output_console())


def _decision(allowed: bool | None) -> str:
    return {True: "allowed", False: "blocked", None: "-"}[allowed]


def _value(value: Any) -> str:
    return "-" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def print_diff(diff: ReplayDiff, console: Console) -> None:
    """The diff as people read it: decision first, then data, then script by script."""
    arrow = " -> "
    console.print(
        Text.assemble(
            plain(diff.trigger, "bold"),
            " ",
            plain(diff.original_id),
            " replayed as ",
            plain(diff.replay_id),
        )
    )
    console.print(
        Text.assemble(
            f"decision: {_decision(diff.allowed_before)}{arrow}{_decision(diff.allowed_after)}",
            "   status: ",
            plain(diff.status_before),
            arrow,
            plain(diff.status_after),
        )
    )
    if diff.error_before or diff.error_after:
        console.print(
            Text.assemble(
                "message:  ", plain(diff.error_before or "-"), arrow, plain(diff.error_after or "-")
            )
        )
    for change in diff.data:
        console.print(
            plain(f"data {change.key}: {_value(change.before)}{arrow}{_value(change.after)}")
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
                plain(span.script_id),
                span.change,
                status,
                f"{format_duration(span.duration_before_ms)}{arrow}"
                f"{format_duration(span.duration_after_ms)}",
                Text.from_markup(source),
                plain(message),
            )
        )
    print_table(console, SCRIPT_COLUMNS, rows, "scripts")
    if diff.redacted:
        console.print(
            plain(
                "redacted when stored (the replay saw them as [REDACTED]): "
                + ", ".join(diff.redacted)
            )
        )
    if diff.identical:
        console.print("[green]identical: same decision, data and script results[/]")


def _span_status(status: str | None) -> Text:
    """A script's status on one side of the diff; '-' where it did not run."""
    return status_text(status) if status else plain("-", "dim")
