"""Options, output and error handling that every sub-command shares."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, NoReturn

import click
from rich.text import Text

from pipetrace.store import Repository, SpanRow, TraceFilter, TraceRow, open_store
from pipetrace.store.codec import escape_surrogates, json_safe
from pipetrace.store.ipv4 import network_text

from ..durations import DurationError, check_order, read_bound
from ..frontends import Frontends
from ..timeparse import iso_ns, naming, parse_time

_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))} | {0x09: " ", 0x0A: " "}
"""C0 controls, DEL and C1 controls (U+009B starts an escape sequence on some terminals) as
visible escapes; a tab or line break in a message reads as a space."""

db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="PIPETRACE_DB",
    help="Store URL: a file path, sqlite:///PATH, libsql://, http:// or https:// "
    "[env: PIPETRACE_DB; default: the user's data folder].",
)
MAX_SEARCH_CHARS = 1000
"""Longer than any id, IP or message anyone searches for, and far below SQLite's LIKE limit."""
_SCOPE_KEY = "pipetrace.filter_scope"
MAX_USER_CHARS = 1000
"""Longer than any user id an auth server hands over (the column holds 200)."""
MAX_IP_CHARS = 64
"""Longer than any IP address or network in text, scope id included."""
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for other tools.")
pass_frontends = click.make_pass_decorator(Frontends)
"""Hands a command the viewer and HTTP app that app/cli.py put in click's context object."""

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
    click.option("--min-ms", metavar="MS", help="Duration at least this many milliseconds."),
    click.option("--max-ms", metavar="MS", help="Duration at most this many milliseconds."),
    click.option(
        "--search",
        metavar="TEXT",
        help="Trace id prefix, user id, IP prefix, message or input text.",
    ),
    click.option("--user", "user_id", metavar="ID", help="Only this user id (exact)."),
    click.option(
        "--ip",
        metavar="IP",
        help="Only this request IP (exact), or an IPv4 network: /8, /16, /24 or /25 to /32.",
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
        min_ms: str | None,
        max_ms: str | None,
        search: str | None,
        user_id: str | None,
        ip: str | None,
        **kwargs: Any,
    ) -> Any:
        request_ip, ip_network = checked_ip(ip)
        kwargs["filters"] = TraceFilter(
            triggers=triggers,
            statuses=statuses,
            started_from=_time_option(since, "--since"),
            started_until=_time_option(until, "--until"),
            min_duration_ms=_duration_option(min_ms, "--min-ms"),
            max_duration_ms=_duration_option(max_ms, "--max-ms"),
            text=_search_option(search),
            user_id=checked_user(user_id),
            request_ip=request_ip,
            ip_network=ip_network,
        )
        _duration_order(kwargs["filters"])
        typed = [
            sorted(triggers),
            sorted(statuses),
            since,
            until,
            min_ms,
            max_ms,
            search,
            user_id,
            ip,
        ]
        digest = hashlib.sha256(json.dumps(typed).encode()).hexdigest()
        click.get_current_context().meta[_SCOPE_KEY] = digest[:8]
        return command(*args, **kwargs)

    for option in reversed(_FILTER_OPTIONS):
        with_filters = option(with_filters)
    return with_filters


def filter_scope() -> str:
    """8 hex digits naming the filter options as typed, so a cursor a listing printed is only
    used with the same filters (typed, not resolved: `--since 7d` names the same filter later)."""
    scope: str = click.get_current_context().meta[_SCOPE_KEY]
    return scope


def _time_option(text: str | None, option: str) -> int | None:
    """A --since or --until time in ns; a bad one fails naming the option."""
    if not text:
        return None
    with naming(option):
        return parse_time(text)


def _duration_option(text: str | None, option: str) -> float | None:
    """A duration bound, read as the viewer reads it; a bad one fails naming the option."""
    if text is None:
        return None
    try:
        return read_bound(text)
    except DurationError as exc:
        fail(f"{option}: {exc}")


def _duration_order(filters: TraceFilter) -> None:
    """Refuse --min-ms above --max-ms, in the viewer's words, instead of listing nothing."""
    try:
        check_order(filters.min_duration_ms, filters.max_duration_ms)
    except DurationError as exc:
        fail(f"--min-ms, --max-ms: {exc}")


def _search_option(text: str | None) -> str | None:
    """The search text, capped so SQLite's LIKE pattern limit is never what the user meets."""
    if text is not None and len(text) > MAX_SEARCH_CHARS:
        fail(f"--search: {len(text)} characters is too long (at most {MAX_SEARCH_CHARS})")
    return text


def checked_user(text: str | None) -> str | None:
    """The user id to match exactly, as typed: not empty, and of a length a user id can have."""
    if text is not None and not text:
        fail("--user: the user id is empty")
    if text is not None and len(text) > MAX_USER_CHARS:
        fail(f"--user: {len(text)} characters is too long (at most {MAX_USER_CHARS})")
    return text


def checked_ip(text: str | None) -> tuple[str | None, str | None]:
    """(address, network): an IP address to match exactly as typed, or an IPv4 network."""
    if text is None:
        return None, None
    if not text:
        fail("--ip: the IP is empty")
    if len(text) > MAX_IP_CHARS:
        fail(f"--ip: {len(text)} characters is too long for an IP (at most {MAX_IP_CHARS})")
    if "/" in text:
        try:
            network_text(text)
        except ValueError as exc:
            fail(f"--ip: {exc}")
        return None, text
    try:
        ipaddress.ip_address(text)
    except ValueError:
        fail(f"--ip: {text!r} is not an IP address (e.g. 203.0.113.9) or network (10.0.0.0/8)")
    return text, None


@contextmanager
def opened_store(db_url: str | None, *, create: bool = False) -> Iterator[Repository]:
    """The store, closed however the command ends; only commands that write pass `create`, so
    a mistyped path is refused by the others instead of becoming a new, empty store."""
    repo = open_store(db_url, create=create)
    try:
        yield repo
    finally:
        repo.close()


def echo_json(value: Any) -> None:
    """Pretty JSON on stdout, UTF-8 kept readable; stored NaN and lone surrogates stay valid."""
    text = json.dumps(json_safe(value), indent=2, ensure_ascii=False, default=str)
    click.echo(escape_surrogates(text))


def plain(value: Any, style: str = "") -> Text:
    """Stored or typed text for Rich, never read as markup or emoji, printable as UTF-8, and
    with control characters shown as escapes, so stored text cannot drive the terminal."""
    text = "" if value is None else escape_surrogates(str(value))
    return Text(text.translate(_CONTROLS), style=style)


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
    data["started"] = iso_ns(started_ns(row))
    data["ended"] = iso_ns(row.ended_at)
    data["problems"] = list(row.problems)
    return data


def started_ns(row: TraceRow | SpanRow) -> int | None:
    """The start time to show: None where the stored one was unreadable (the row holds 0)."""
    if any(p.startswith("started_at") for p in row.problems):
        return None
    return row.started_at


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and the exit status for bad input."""
    click.echo(f"pipetrace: {message}", err=True)
    sys.exit(code)
