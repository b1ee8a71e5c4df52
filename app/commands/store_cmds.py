"""`traces` and `show`: the store from the command line, for scripts and people."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from pipetrace.store import (
    Cursor,
    Repository,
    SpanRow,
    StoreError,
    TraceFilter,
    TraceRow,
    TraceWithSpans,
    open_store,
)
from pipetrace.store.trace_ids import ID_DIGITS, lookup_prefixes

from ..deciders import NOBODY, Decider, deciders
from ..settings import Settings
from ..short_ids import SHORT_DIGITS, short_ids
from ..styled import Styled
from ..timeparse import format_duration, format_ns
from ..untrusted import shown_styled
from ..wording import count_figure, counted, plural
from .column_widths import Column
from .common import (
    db_option,
    echo_json,
    fail,
    filter_options,
    filter_scope,
    json_option,
    json_text,
    opened_store,
    say,
    span_json,
    started_ns,
    trace_json,
)
from .details import MAX_MESSAGE_CHARS, MAX_NAME_CHARS, cut, trace_details
from .plain_output import Printer

if TYPE_CHECKING:
    from rich.text import Text

STATUS_STYLE = {"success": "green", "blocked": "yellow", "error": "red", "skipped": "dim"}

LIST_COLUMNS = (
    Column("started (UTC)", 19),
    Column("trace id", SHORT_DIGITS),
    Column("status", 7),
    Column("message", 24),
    Column("by"),
    Column("trigger"),
    Column("duration"),
    Column("spans"),
    Column("user"),
    Column("ip"),
)
"""What says when, which and why keeps its width on a narrow terminal; the rest give way, the
script that decided (`by`) last."""
SPAN_COLUMNS = (
    Column("span", 16),
    Column("layer"),
    Column("status", 7),
    Column("duration"),
    Column("span id"),
    Column("message", 24, wraps=True),
)
"""Which script, how it ended and why stay readable on a narrow terminal; the rest give way."""
CANDIDATES = 5
"""Ids an ambiguous prefix lists."""
KNOWN_TRIGGERS = 20
"""Trigger names listed after an unknown --trigger, at most."""
MAX_INDENT = 20
"""Levels a span's name is indented at most: a deeper tree (an import can nest thousands of
spans) would otherwise print its indentation, not its names."""
SHOWN_SPANS = 1000
"""Spans `show` prints without --all: a trace of 50,000 would scroll for minutes."""


@click.command()
@filter_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option(
    "--cursor",
    metavar="TOKEN",
    help="Continue after the page that printed this next_cursor (same filters).",
)
@db_option
@json_option
def traces(
    filters: TraceFilter,
    limit: int,
    cursor: str | None,
    settings: Settings,
    as_json: bool,
) -> None:
    """List traces, newest first.

    To page through more than --limit traces, add --json: each page ends with next_cursor (null
    on the last page); run the same command again with --cursor set to it, with the same
    filters, until next_cursor is null. Give --since as a time, not an age, while paging, or
    the window moves on between pages.
    """
    scope = filter_scope()
    after = _cursor_option(cursor, scope)
    with opened_store(settings) as repo:
        page, total = repo.page_and_count(filters, limit=limit, cursor=after)
        _say_unknown_triggers(repo, filters.triggers, {r.trigger_event for r in page.rows})
        by = deciders(repo, [r.id for r in page.rows])
    next_cursor = replace(page.next_cursor, scope=scope).encode() if page.next_cursor else None
    if as_json:
        listing: dict[str, Any] = {
            "total": total,
            "traces": [_listed_json(r, by.get(r.id, NOBODY)) for r in page.rows],
            "next_cursor": next_cursor,
        }
        if repo.count_cap is not None:
            listing["total_is_lower_bound"] = total > repo.count_cap
        echo_json(listing)
        return
    shown = short_ids(r.id for r in page.rows)
    rows = []
    for r in page.rows:
        status = status_styled(r.status)
        if r.problems:
            status = Styled.of(status, (" !", "magenta"))
        if r.replay_of:
            status = Styled.of(status, (" replay", "cyan"))
        rows.append(
            (
                format_ns(started_ns(r)),
                shown_styled(shown[r.id]),
                status,
                shown_styled(r.status_message),
                shown_styled(by.get(r.id, NOBODY).shown),
                shown_styled(r.trigger_event),
                format_duration(r.duration_ms),
                str(r.span_count),
                shown_styled(r.user_id),
                shown_styled(r.request_ip),
            )
        )
    printer = Printer()
    figure = count_figure(total, repo.count_cap)
    title = f"{len(page.rows)} of {figure} {plural(total, 'trace')}" + (
        " (after the cursor)" if after else ""
    )
    printer.table(_list_columns(shown.values()), rows, title)
    if next_cursor:
        printer.line(shown_styled(f"next page: --cursor {next_cursor}"), soft_wrap=True)


def _listed_json(row: TraceRow, decider: Decider) -> dict[str, Any]:
    """A listed trace as JSON, with the scripts that blocked it and failed in it (or null)."""
    data = trace_json(row)
    data["blocked_by"] = decider.blocked_by
    data["failed_script"] = decider.failed
    return data


def _say_unknown_triggers(repo: Repository, wanted: Iterable[str], listed: set[str]) -> None:
    """On stderr, each --trigger no stored trace has (a typo lists nothing, silently, otherwise)
    and the triggers the store has; asked of the store only when the page lacks one."""
    missing = [name for name in wanted if name not in listed]
    if not missing:
        return
    known = repo.distinct_triggers()
    unknown = [name for name in missing if name not in known]
    if not unknown:
        return
    if not known:
        has = "the store holds no traces"
    else:
        shown = ", ".join(repr(name) for name in known[:KNOWN_TRIGGERS])
        more = f", … ({len(known)} in all)" if len(known) > KNOWN_TRIGGERS else ""
        has = f"the store has {shown}{more}"
    names = ", ".join(repr(name) for name in unknown)
    say(f"pipetrace: no stored trace has --trigger {names}; {has}", err=True)


def _list_columns(shown: Iterable[str]) -> tuple[Column, ...]:
    """LIST_COLUMNS with the trace id column keeping the width of its longest short id, so
    no id is cut to look like another on a narrow terminal."""
    widest = max(map(len, shown), default=0)
    id_column = LIST_COLUMNS[1]
    return (
        LIST_COLUMNS[0],
        id_column._replace(keep=max(id_column.keep, widest)),
        *LIST_COLUMNS[2:],
    )


def _cursor_option(text: str | None, scope: str) -> Cursor | None:
    """The --cursor position; one line naming the option for a token that is not one this
    listing printed, or one printed for other filters."""
    if text is None:
        return None
    try:
        cursor = Cursor.decode(text.strip())
    except ValueError as exc:
        fail(f"--cursor: {exc}")
    if cursor.scope != scope:
        fail(
            "--cursor: it continues a listing with other filters; give the same --trigger, "
            "--status, --since, --until, --min-ms, --max-ms, --search, --user and --ip as the "
            "command that printed it, and the same --script options"
        )
    return cursor


@click.command()
@click.argument("trace_id")
@click.option(
    "--all",
    "all_spans",
    is_flag=True,
    help=f"Every span, however many (without it, the first {SHOWN_SPANS:,}).",
)
@db_option
@json_option
def show(trace_id: str, all_spans: bool, settings: Settings, as_json: bool) -> None:
    """Show one trace with its spans, input, outputs and errors (a unique id prefix is enough)."""
    with opened_store(settings) as repo:
        trace = repo.get_trace(resolve_trace_id(repo, trace_id))
        if trace is None:
            fail(f"no trace {trace_id!r} in {repo.url}")
        if as_json:
            _show_json(repo, trace)
        else:
            _show_text(repo, trace, None if all_spans else SHOWN_SPANS)


def _show_json(repo: Repository, trace: TraceRow) -> None:
    """The trace and its spans as one JSON object, written a span at a time."""
    out = sys.stdout
    out.write('{\n  "trace": ' + json_text(trace_json(trace)).replace("\n", "\n  "))
    out.write(',\n  "spans": [')
    written = False
    for span in repo.trace_spans(trace.id):
        out.write(",\n    " if written else "\n    ")
        out.write(json_text(span_json(span)).replace("\n", "\n    "))
        written = True
    out.write("\n  ]\n}\n" if written else "]\n}\n")
    out.flush()


def _show_text(repo: Repository, t: TraceRow, limit: int | None) -> None:
    """The trace's header, its first `limit` spans (all for None) and their details."""
    printer = Printer()
    printer.line(Styled.of(shown_styled(_name(t.trigger_event), "bold"), " ", shown_styled(t.id)))
    decision = {True: "allowed", False: "blocked", None: "-"}[t.allowed]
    printer.line(
        Styled.of(
            "status ",
            status_styled(t.status),
            f"  decision {decision}  duration {format_duration(t.duration_ms)}  "
            f"started {format_ns(started_ns(t), precise=True)}",
        )
    )
    printer.line(
        Styled.of(
            "user ",
            shown_styled(_name(t.user_id or "-")),
            "  ip ",
            shown_styled(_name(t.request_ip or "-")),
        )
    )
    decider = deciders(repo, [t.id]).get(t.id, NOBODY)
    if decider.blocked_by:
        printer.line(Styled.of("blocked by ", shown_styled(_name(decider.blocked_by), "bold")))
    if decider.failed:
        printer.line(Styled.of("failed: ", shown_styled(_name(decider.failed), "bold")))
    if t.status_message:
        printer.line(Styled.of("message: ", shown_styled(_message(t.status_message))))
    for warning in t.warnings:
        printer.line(Styled.of(("warning: ", "yellow"), shown_styled(_message(warning))))
    if t.replay_of:
        printer.line(Styled.of("replay of ", shown_styled(_name(t.replay_of))))
    for problem in t.problems:
        printer.line(shown_styled(f"stored row problem: {problem}", "magenta"))
    spans = list(itertools.islice(repo.trace_spans(t.id), limit))
    links = (
        repo.span_links(t.id) if limit is not None else [(s.id, s.parent_span_id) for s in spans]
    )
    depth = _depths(dict(links), spans)
    rows = [
        (
            shown_styled("  " * min(depth.get(s.id, 0), MAX_INDENT) + _name(s.name)),
            "" if s.layer_index is None else str(s.layer_index),
            status_styled(s.status),
            format_duration(s.duration_ms),
            shown_styled(_name(s.id)),
            shown_styled(_message(s.status_message or "; ".join(s.problems))),
        )
        for s in spans
    ]
    printer.table(SPAN_COLUMNS, rows)
    more = len(links) - len(spans)
    if more:
        printer.line(
            f"… {counted(more, 'more span')} not shown: show --all prints every span, "
            "show --json has them all as JSON"
        )
    for line in trace_details(TraceWithSpans(t, spans)):
        printer.line(line, soft_wrap=True)
    from .source_excerpts import source_excerpts  # its script reading, for show's text only

    for line in source_excerpts(repo, t, spans):
        printer.line(line, soft_wrap=True)


def _name(text: str) -> str:
    """A stored name as `show` prints it: cut, with a note of its size, past MAX_NAME_CHARS."""
    return cut(text, MAX_NAME_CHARS)


def _message(text: str) -> str:
    """A stored message as `show` prints it: cut, with a note, past MAX_MESSAGE_CHARS."""
    return cut(text, MAX_MESSAGE_CHARS)


def status_styled(status: str | None) -> Styled:
    """A status in its colour; one no pipetrace writes shows magenta, as damaged rows do."""
    return shown_styled(status, STATUS_STYLE.get(status or "", "magenta"))


def status_text(status: str | None) -> Text:
    """`status_styled` as Rich text, for tables Rich draws (replay's)."""
    return status_styled(status).rich()


def resolve_trace_id(repo: Repository, text: str) -> str:
    """A full trace id from a unique prefix (of the id, or of a 64-bit id's significant part);
    a complete id wins over the longer ids it also begins; an ambiguous one is refused with its
    candidates."""
    text = text.strip().lower()
    if not text:
        fail("TRACE_ID is empty: give a trace id or a unique prefix of one")
    if len(text) == ID_DIGITS:
        return text
    matches = repo.find_trace_ids(text, limit=CANDIDATES + 1)
    complete = [m for m in matches if m in lookup_prefixes(text)]
    if complete:
        return complete[0]
    if len(matches) > 1:
        listed = ", ".join(matches[:CANDIDATES]) + (", …" if len(matches) > CANDIDATES else "")
        fail(f"trace id prefix {text!r} is ambiguous in {repo.url}: it may mean {listed}")
    return matches[0] if matches else text


def _depths(parent: dict[str, str | None], spans: list[SpanRow]) -> dict[str, int]:
    """How deep each shown span sits under its root (`parent` links every span of the trace),
    for indentation."""
    depths: dict[str, int] = {}
    for span_id in {s.id for s in spans}:
        depth, current, seen = 0, parent.get(span_id), {span_id}
        while current in parent and current not in seen:
            seen.add(current)
            depth += 1
            current = parent[current]
        depths[span_id] = depth
    return depths


__all__ = ["StoreError", "open_store", "show", "traces"]
