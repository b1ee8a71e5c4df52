"""Options, output and error handling that every sub-command shares."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import click

from store import Repository, SpanRow, TraceFilter, TraceRow, open_store

from ..timeparse import iso_ns, parse_time

db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="PIPETRACE_DB",
    help="Store URL: a file path, sqlite:///PATH, libsql://, http:// or https:// "
    "[env: PIPETRACE_DB; default: the user's data folder].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for other tools.")

_FILTER_OPTIONS = (
    click.option("--trigger", "triggers", multiple=True, help="Only this trigger (repeatable)."),
    click.option(
        "--status",
        "statuses",
        multiple=True,
        type=click.Choice(["success", "blocked", "error"]),
        help="Only this status (repeatable).",
    ),
    click.option("--since", metavar="WHEN", help="Started at or after: an age (7d) or ISO time."),
    click.option("--until", metavar="WHEN", help="Started before: an age or ISO time."),
    click.option("--min-ms", type=float, help="Duration at least this many milliseconds."),
    click.option("--max-ms", type=float, help="Duration at most this many milliseconds."),
    click.option(
        "--search",
        metavar="TEXT",
        help="Trace id prefix, user id, IP prefix, message or input text.",
    ),
)


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The list filters as options, handed to the command as one `filters: TraceFilter`."""

    @functools.wraps(command)
    def with_filters(
        *args: Any,
        triggers: tuple[str, ...],
        statuses: tuple[str, ...],
        since: str | None,
        until: str | None,
        min_ms: float | None,
        max_ms: float | None,
        search: str | None,
        **kwargs: Any,
    ) -> Any:
        kwargs["filters"] = TraceFilter(
            triggers=triggers,
            statuses=statuses,
            started_from=parse_time(since) if since else None,
            started_until=parse_time(until) if until else None,
            min_duration_ms=min_ms,
            max_duration_ms=max_ms,
            text=search,
        )
        return command(*args, **kwargs)

    for option in reversed(_FILTER_OPTIONS):
        with_filters = option(with_filters)
    return with_filters


@contextmanager
def opened_store(db_url: str | None) -> Iterator[Repository]:
    """The store, closed however the command ends."""
    repo = open_store(db_url)
    try:
        yield repo
    finally:
        repo.close()


def echo_json(value: Any) -> None:
    """Pretty JSON on stdout, UTF-8 kept readable."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def trace_json(row: TraceRow) -> dict[str, Any]:
    """A trace as JSON with ISO times beside the nanosecond ones."""
    return _row_json(row, "trace_id")


def span_json(row: SpanRow) -> dict[str, Any]:
    """A span as JSON with ISO times beside the nanosecond ones."""
    return _row_json(row, "span_id")


def _row_json(row: TraceRow | SpanRow, id_key: str) -> dict[str, Any]:
    """A stored row as JSON: its id under a name other tools understand, times in ISO too."""
    data = asdict(row)
    data[id_key] = data.pop("id")
    data["started"] = iso_ns(row.started_at)
    data["ended"] = iso_ns(row.ended_at)
    data["problems"] = list(row.problems)
    return data


def fail(message: str, code: int = 2) -> None:
    """One line on stderr and the exit status for bad input."""
    click.echo(f"pipetrace: {message}", err=True)
    sys.exit(code)
