"""Options, output and error handling that every sub-command shares."""

from __future__ import annotations

import functools
import json
import math
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from pipetrace.store import (
    REPLAY_CHOICES,
    ReplayChoice,
    Repository,
    SpanRow,
    TraceFilter,
    TraceRow,
    open_store,
)
from pipetrace.store.columns import SPAN_STATUSES
from pipetrace.store.json_escapes import escape_json_text, json_safe

from ..durations import DurationError, check_order
from ..settings import Settings
from ..timeparse import iso_ns
from ..untrusted import shown, shown_json
from .context import handed
from .filter_types import (
    MAX_SCRIPT_CHARS,
    MAX_SEARCH_CHARS,
    MAX_USER_CHARS,
    BoundedText,
    DurationType,
    IpType,
    TimeType,
    TypedTime,
    VersionType,
)

_SCOPE_KEY = "pipetrace.filter_scope"
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _settings_with_db(ctx: click.Context, _param: click.Parameter, url: str | None) -> Settings:
    """The settings the group read, with this command's --db when given (it wins)."""
    return handed(ctx).settings.with_db(url)


db_option = click.option(
    "--db",
    "settings",
    metavar="URL",
    callback=_settings_with_db,
    help="Store URL: a file path, sqlite:///PATH, libsql://, http:// or https:// "
    "[env: PIPETRACE_DB; default: the user's data folder].",
)
"""--db, handed to the command as `settings: Settings` with that URL."""
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for other tools.")


def user_option(help_text: str) -> Decorator:
    """--user: a user id to match exactly, not empty, of a length a user id can have."""
    return click.option(
        "--user",
        "user_id",
        type=BoundedText(MAX_USER_CHARS, empty="user id"),
        metavar="ID",
        help=help_text,
    )


def ip_option(help_text: str, *, networks: bool) -> Decorator:
    """--ip: an IP address to match exactly as typed, or, where `networks`, an IPv4 network."""
    return click.option("--ip", "ip", type=IpType(networks=networks), metavar="IP", help=help_text)


_FILTER_OPTIONS = (
    click.option("--trigger", "triggers", multiple=True, help="Only this trigger (repeatable)."),
    click.option(
        "--status",
        "statuses",
        multiple=True,
        type=click.Choice(["success", "blocked", "error"]),
        help="Only this status (repeatable).",
    ),
    click.option(
        "--since",
        type=TimeType(),
        metavar="WHEN",
        help="Started at or after: an age (7d) or ISO time.",
    ),
    click.option(
        "--until", type=TimeType(), metavar="WHEN", help="Started before: an age or ISO time."
    ),
    click.option(
        "--min-ms",
        type=DurationType(),
        metavar="MS",
        help="Duration at least this many milliseconds.",
    ),
    click.option(
        "--max-ms",
        type=DurationType(),
        metavar="MS",
        help="Duration at most this many milliseconds.",
    ),
    click.option(
        "--search",
        type=BoundedText(MAX_SEARCH_CHARS),
        metavar="TEXT",
        help="Trace id prefix, user id, IP prefix, message or input text.",
    ),
    user_option("Only this user id (exact)."),
    ip_option(
        "Only this request IP (exact), or an IPv4 network: /8, /16, /24 or /25 to /32.",
        networks=True,
    ),
    click.option(
        "--replays",
        type=click.Choice(REPLAY_CHOICES),
        default="exclude",
        show_default=True,
        help="Replays are not traffic and are left out: include them too, or only them.",
    ),
    click.option(
        "--script",
        "scripts",
        multiple=True,
        type=BoundedText(MAX_SCRIPT_CHARS, empty="script id"),
        metavar="ID",
        help="Only traces with a run of this script (repeatable).",
    ),
    click.option(
        "--script-status",
        "script_statuses",
        multiple=True,
        type=click.Choice(SPAN_STATUSES),
        help="With --script: only runs that ended so (repeatable).",
    ),
    click.option(
        "--script-version",
        "script_versions",
        multiple=True,
        type=VersionType(),
        metavar="SHA",
        help="With --script: only runs of a version whose sha256 starts so (repeatable).",
    ),
)


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The list filters as options, handed to the command as one `filters: TraceFilter`."""

    @functools.wraps(command)
    def with_filters(
        *args: Any,
        triggers: tuple[str, ...],
        statuses: tuple[str, ...],
        since: TypedTime | None,
        until: TypedTime | None,
        min_ms: float | None,
        max_ms: float | None,
        search: str | None,
        user_id: str | None,
        ip: str | None,
        replays: ReplayChoice,
        scripts: tuple[str, ...],
        script_statuses: tuple[str, ...],
        script_versions: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        _check_order(min_ms, max_ms)
        _check_script_options(scripts, script_statuses, script_versions)
        network = ip if ip is not None and "/" in ip else None
        kwargs["filters"] = TraceFilter(
            triggers=triggers,
            statuses=statuses,
            started_from=None if since is None else since.ns,
            started_until=None if until is None else until.ns,
            min_duration_ms=min_ms,
            max_duration_ms=max_ms,
            text=search,
            user_id=user_id,
            request_ip=None if network else ip,
            ip_network=network,
            replays=replays,
            scripts=scripts,
            script_statuses=script_statuses,
            script_versions=script_versions,
        )
        typed = [
            sorted(triggers),
            sorted(statuses),
            None if since is None else since.text,
            None if until is None else until.text,
            min_ms,
            max_ms,
            search,
            user_id,
            ip,
            replays,
        ]
        if scripts:  # only then, so a cursor printed without the script options stays valid
            typed += [sorted(scripts), sorted(script_statuses), sorted(script_versions)]
        # CRC-32 tells filters apart as well as a cryptographic hash here, without loading one.
        scope = f"{zlib.crc32(json.dumps(typed).encode()):08x}"
        click.get_current_context().meta[_SCOPE_KEY] = scope
        return command(*args, **kwargs)

    decorated: Callable[..., Any] = with_filters
    for option in reversed(_FILTER_OPTIONS):
        decorated = option(decorated)
    return decorated


def _check_script_options(
    scripts: tuple[str, ...], statuses: tuple[str, ...], versions: tuple[str, ...]
) -> None:
    """Refuse a script's status or version without the script it belongs to."""
    if scripts or not (statuses or versions):
        return
    which = "--script-status" if statuses else "--script-version"
    raise click.BadParameter(
        "names a script's runs: give --script ID too",
        ctx=click.get_current_context(),
        param_hint=which,
    )


def filter_scope() -> str:
    """8 hex digits naming the filter options as typed, so a cursor a listing printed is only
    used with the same filters (typed, not resolved: `--since 7d` names the same filter later)."""
    scope: str = click.get_current_context().meta[_SCOPE_KEY]
    return scope


def _check_order(min_ms: float | None, max_ms: float | None) -> None:
    """Refuse --min-ms above --max-ms, in the viewer's words, instead of listing nothing."""
    try:
        check_order(min_ms, max_ms)
    except DurationError as exc:
        raise click.BadParameter(
            str(exc), ctx=click.get_current_context(), param_hint="--min-ms, --max-ms"
        ) from None


@contextmanager
def opened_store(
    settings: Settings, *, writes: bool = False, create: bool = False
) -> Iterator[Repository]:
    """The store the settings name, closed however the command ends. Commands that only read
    never migrate it (it is read as it is) and never create one; commands that write (`writes`)
    apply the additive revisions this version knows; only those that add traces pass `create`,
    so a mistyped path is refused by the others instead of becoming a new, empty store."""
    repo = open_store(settings.store(), migrate=writes or create, create=create)
    try:
        if repo.schema_notice:
            say(f"pipetrace: note: {repo.schema_notice}", err=True)
        yield repo
    finally:
        repo.close()


def echo_json(value: Any) -> None:
    """Pretty JSON on stdout, UTF-8 kept readable; stored NaN, lone surrogates and characters a
    terminal would obey stay valid JSON (`shown_json`)."""
    click.echo(shown_json(value, indent=2))


def json_text(value: Any, indent: int = 2) -> str:
    """Pretty JSON as `shown_json` writes it, but a NaN or infinite double as
    {"$numberDouble": "NaN"} (MongoDB's Extended JSON spelling), so it is not taken for the
    string "NaN": what `show --json` prints."""
    try:
        text = json.dumps(value, indent=indent, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        text = json.dumps(typed_doubles(value), indent=indent, ensure_ascii=False, default=str)
    return escape_json_text(text)


def typed_doubles(value: Any) -> Any:
    """`value` with each NaN or infinite double as {"$numberDouble": text}."""
    if type(value) is float:
        return value if math.isfinite(value) else {"$numberDouble": json_safe(value)}
    if isinstance(value, dict):
        return {k: typed_doubles(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed_doubles(v) for v in value]
    return value


def say(line: str, *, err: bool = False) -> None:
    """One line of a command's text output, on stdout or stderr, with whatever stored, imported
    or typed text it quotes shown (`shown`), never obeyed by the terminal."""
    click.echo(shown(line), err=err)


def trace_json(row: TraceRow) -> dict[str, Any]:
    """A trace as JSON with ISO times beside the nanosecond ones."""
    return _row_json(row, "trace_id")


def span_json(row: SpanRow) -> dict[str, Any]:
    """A span as JSON with ISO times beside the nanosecond ones."""
    return _row_json(row, "span_id")


def _row_json(row: TraceRow | SpanRow, id_key: str) -> dict[str, Any]:
    """A stored row as JSON: its id under a name other tools understand, times in ISO too (the
    row's values are used as they are, not copied)."""
    data = {name: getattr(row, name) for name in row.__dataclass_fields__}
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
    say(f"pipetrace: {message}", err=True)
    sys.exit(code)
