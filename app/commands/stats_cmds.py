"""`stats`: per trigger, script and script version, how runs ended, how long they took and when
they failed, for a window and the list's filters, read from the store's rollups."""

from __future__ import annotations

import click

from pipetrace.store import TraceFilter
from pipetrace.store.duration_buckets import RELATIVE_ERROR

from ..settings import Settings
from ..stats_rows import (
    DEFAULT_SORT,
    SORTS,
    ShownRow,
    ordered,
    rate_text,
    report_json,
    single_version,
    sparkline,
    window_text,
)
from ..styled import Styled
from ..timeparse import format_duration
from ..untrusted import shown_styled
from .column_widths import Column
from .common import db_option, echo_json, filter_options, json_option, opened_store, say
from .plain_output import Printer

COLUMNS = (
    Column("trigger / script", 22),
    Column("version", 12),
    Column("runs", 6),
    Column("errors", 6),
    Column("error%", 6),
    Column("blocked", 7),
    Column("blocked%", 8),
    Column("skipped"),
    Column("limits"),
    Column("p50"),
    Column("p95"),
    Column("p99"),
    Column("errors over time"),
)
"""Which script, and how often it fails, keep their width on a narrow terminal."""
INDENT = "  "


@click.command()
@filter_options
@click.option(
    "--sort",
    type=click.Choice(list(SORTS)),
    default=DEFAULT_SORT,
    show_default=True,
    help="Column to sort by (the largest first; name alphabetically). failures: errors.",
)
@click.option(
    "--chart",
    "columns",
    type=click.IntRange(4, 120),
    default=24,
    show_default=True,
    help="Columns of the errors-over-time chart.",
)
@db_option
@json_option
def stats(filters: TraceFilter, sort: str, columns: int, settings: Settings, as_json: bool) -> None:
    """Per trigger, script and version: runs, errors, blocks, skips, limit hits, duration
    percentiles and errors over time.

    The filters are those of `traces`; --script, --script-status and --script-version choose
    the runs counted. The window is whole hours (a --since is taken back to its hour, an
    --until on to the next), and replays are left out unless --replays says otherwise.
    Durations are within 1% of the exact percentile (nearest rank).
    """
    with opened_store(settings) as repo:
        report = repo.script_stats(filters, columns)
    if as_json:
        echo_json(report_json(report, sort))
        return
    source = "rollups" if report.from_rollups else "script runs (the filters need them)"
    say(
        f"{window_text(report)}, whole hours; from the {source}; durations within "
        f"{RELATIVE_ERROR:.0%}"
    )
    lines = ordered(report, sort)
    if not lines:
        say("no script runs match")
        return
    Printer().table(COLUMNS, [_cells(line) for line in lines])


def _cells(line: ShownRow) -> list[Styled | str]:
    """One table line: the name indented by depth, then the row's figures."""
    row, tally = line.row, line.row.tally
    name = shown_styled(INDENT * line.depth + line.label, "bold" if line.depth == 0 else "")
    if line.depth == 0 and row.script is None:
        name = Styled.of(name, (" (traces)", "dim"))
    version = "" if line.depth == 2 else single_version(row)
    return [
        name,
        shown_styled(version),
        str(tally.runs),
        str(tally.failures),
        rate_text(tally.rate(tally.failures)),
        str(tally.count("blocked")),
        rate_text(tally.rate(tally.count("blocked"))),
        str(tally.count("skipped")),
        str(tally.limits),
        format_duration(row.percentile(0.5)),
        format_duration(row.percentile(0.95)),
        format_duration(row.percentile(0.99)),
        Styled.of((sparkline(row.failures_over_time), "red")),
    ]
