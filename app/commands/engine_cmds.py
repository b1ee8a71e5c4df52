"""`run` and `demo`: execute triggers through the bundled engine and store their traces."""

from __future__ import annotations

import functools
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pipetrace.app.engine_sink import StoreSink, recording_engine
from pipetrace.bounded_read import RefusedFile, read_regular_file, read_stream
from pipetrace.engine import (
    Engine,
    Outcome,
    OutOfProcess,
    Pipelines,
    SeededIds,
    TraceRecord,
    bundled_pipelines_dir,
    load_pipelines,
)
from pipetrace.engine.limits import MAX_LIMITS
from pipetrace.errors import PipetraceError
from pipetrace.store import Repository, StoreError, TraceRow, open_store

from ..demo import demo_age, demo_requests
from ..frontends import Frontends
from ..interrupts import exit_status, sigterm_as_interrupt
from ..settings import Settings
from ..short_ids import short_id
from ..untrusted import shown_json
from ..wording import counted
from .common import (
    db_option,
    echo_json,
    fail,
    ip_option,
    json_option,
    opened_store,
    say,
    user_option,
)
from .context import pass_frontends
from .pipelines_option import pipelines_option

DEMO_FLUSH_EVERY = 1000
MAX_INPUT_FILE_BYTES = 4 * MAX_LIMITS["max_input_bytes"]
"""What `--input @FILE` reads: four times the largest input any pipelines folder takes, room
for indentation and escapes; a larger file (or /dev/zero) is refused before it is read."""
MAX_INT_DIGITS = 100
"""Far past the engine's 64-bit integers, which it reports itself; well below Python's 4300."""


class InputOptionError(PipetraceError):
    """A --input the engine cannot use; the CLI prints it as one line with exit status 2."""

    title = "Bad input"


def read_input(text: str | None) -> dict[str, Any]:
    """The trigger input from --input: inline JSON, @file.json, or @- for standard input."""
    if text is None:
        return {}
    where = "--input"
    if text.startswith("@"):
        where = "--input @-" if text == "@-" else f"--input {text[1:]}"
        text = _read_input_file(text[1:], where)
    try:
        value = json.loads(
            text, parse_constant=_refuse_constant, parse_int=_bounded_int, parse_float=_finite_float
        )
    except json.JSONDecodeError as exc:
        raise InputOptionError(
            f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    except InputOptionError as exc:
        raise InputOptionError(f"{where}: {exc}") from None
    except RecursionError:
        raise InputOptionError(f"{where}: nested too deeply to read") from None
    if not isinstance(value, dict):
        raise InputOptionError(
            f"{where}: the input must be a JSON object, not {type(value).__name__}"
        )
    _refuse_lone_surrogates(value, where)
    return value


def _read_input_file(path: str, where: str) -> str:
    """The file's (or for `-`, standard input's) text, at most MAX_INPUT_FILE_BYTES of it; JSON
    is UTF-8, so anything else is refused before parsing."""
    try:
        if path == "-":
            data = read_stream(sys.stdin.buffer, MAX_INPUT_FILE_BYTES)
        else:
            data = read_regular_file(path, MAX_INPUT_FILE_BYTES)
    except RefusedFile as exc:
        raise InputOptionError(f"{where}: {exc}") from None
    except OSError as exc:
        raise InputOptionError(f"{where}: cannot read the input file ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputOptionError(
            f"{where}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})"
        ) from None


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are Python's extension, not JSON; the engine cannot store them."""
    raise InputOptionError(f"{name} is not JSON (use a number or null)")


def _bounded_int(digits: str) -> int:
    """An integer, refusing one so long that converting it is Python's own error."""
    count = len(digits.lstrip("-"))
    if count > MAX_INT_DIGITS:
        raise InputOptionError(f"a number of {count} digits is too long (at most {MAX_INT_DIGITS})")
    return int(digits)


def _finite_float(text: str) -> float:
    """A float, refusing one that overflows to infinity (1e999)."""
    value = float(text)
    if not math.isfinite(value):
        raise InputOptionError(f"the number {text[:40]} is too large")
    return value


def _refuse_lone_surrogates(value: Any, where: str) -> None:
    """A \\ud800 escape parses but cannot be encoded, so the scripts would fail on it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InputOptionError(
                    f"{where}: the string {item[:40]!r} is not valid Unicode "
                    f"(it holds U+{ord(item[exc.start]):04X}, a lone surrogate)"
                ) from None


@click.command()
@click.argument("trigger")
@click.option("--input", "input_text", metavar="JSON|@FILE", help="Trigger input as JSON.")
@user_option("The user the request is for.")
@ip_option("The client IP of the request.", networks=False)
@pipelines_option
@db_option
@json_option
def run(
    trigger: str,
    input_text: str | None,
    user_id: str | None,
    ip: str | None,
    pipelines_dir: Path | None,
    settings: Settings,
    as_json: bool,
) -> None:
    """Run one trigger through the pipelines and store its trace."""
    payload = read_input(input_text)
    pipelines = load_pipelines(pipelines_dir or bundled_pipelines_dir())
    if trigger not in pipelines.triggers:
        known = ", ".join(sorted(pipelines.triggers))
        if pipelines_dir is not None:
            fail(f"{pipelines_dir}: no trigger {trigger!r} (known: {known})")
        fail(f"no trigger {trigger!r} in the bundled pipelines (known: {known})")
    target = settings.store()  # a malformed URL is bad input: refused before anything runs
    metadata = {"user_id": user_id, "request_ip": ip}
    try:
        repo = open_store(target, create=True)
    except StoreError as exc:
        # The decision holds without a store: print it, then say why it was not recorded.
        outcome, record = _run_unrecorded(pipelines, trigger, payload, metadata)
        _report(trigger, outcome, as_json, _script_error(record), stored=False)
        _not_stored(trigger, outcome, exc.message)
    if repo.schema_notice:
        say(f"pipetrace: note: {repo.schema_notice}", err=True)
    try:
        with recording_engine(repo, pipelines) as (engine, writer):
            outcome = engine.execute_trigger(trigger, payload, metadata)
        stored, lookup_error = _stored_trace(repo, outcome.trace_id)
    finally:
        repo.close()
    _report(trigger, outcome, as_json, _script_error(stored), stored=stored is not None)
    if stored is None:
        reason = (
            lookup_error
            or writer.stats().last_error
            or engine.delivery_error
            or "the writer dropped it"
        )
        _not_stored(trigger, outcome, reason)


class _Kept:
    """A sink that keeps a run's trace in memory, for a run whose store could not be opened."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    def submit(self, record: TraceRecord) -> None:
        """Keep the record."""
        self.records.append(record)


def _run_unrecorded(
    pipelines: Pipelines, trigger: str, payload: dict[str, Any], metadata: dict[str, Any]
) -> tuple[Outcome, TraceRecord | None]:
    """The decision, and the trace the engine built for it, without a store to write it to."""
    kept = _Kept()
    with Engine(pipelines, sink=kept) as engine:
        outcome = engine.execute_trigger(trigger, payload, metadata)
    return outcome, next(iter(kept.records), None)


def _stored_trace(repo: Repository, trace_id: str) -> tuple[TraceRow | None, str | None]:
    """The trace as stored, or why it could not be read back."""
    try:
        return repo.get_trace(trace_id), None
    except StoreError as exc:
        return None, exc.message


def _script_error(trace: TraceRow | TraceRecord | None) -> str | None:
    """The trace's script error, when a script failed."""
    return trace.status_message if trace is not None and trace.status == "error" else None


def _not_stored(trigger: str, outcome: Outcome, reason: str) -> NoReturn:
    """After the decision: one line on why its trace is not in the store, and exit status 2."""
    fail(
        f"{trigger} ran (allowed={outcome.allowed}) but its trace {outcome.trace_id} was not "
        f"stored: {reason}"
    )


def _report(
    trigger: str,
    outcome: Outcome,
    as_json: bool,
    script_error: str | None,
    *,
    stored: bool,
) -> None:
    """The decision as JSON or text; it holds even when the trace could not be stored."""
    if as_json:
        echo_json(
            {
                "allowed": outcome.allowed,
                "error": outcome.error,
                "data": outcome.data,
                "trace_id": outcome.trace_id,
            }
        )
        return
    decision = "allowed" if outcome.allowed else f"blocked: {outcome.error}"
    say(f"{trigger}: {decision}")
    if outcome.data:
        say(f"data: {shown_json(outcome.data, sort_keys=True)}")
    if script_error:
        say(f"script error: {script_error}")
    if stored:
        say(f"trace {outcome.trace_id} (pipetrace show {short_id(outcome.trace_id)})")


@click.command()
@click.option(
    "--traces", "count", type=click.IntRange(1, 1_000_000), default=2000, show_default=True
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same traces.")
@click.option("--no-open", is_flag=True, help="Fill the store and exit without the viewer.")
@db_option
@pass_frontends
def demo(frontends: Frontends, count: int, seed: int, no_open: bool, settings: Settings) -> None:
    """Fill the store with realistic auth traffic through the bundled pipelines, then browse it."""
    with opened_store(settings, create=True) as repo, sigterm_as_interrupt():
        url = repo.url
        trace_ids = seed_trace_ids(seed, count)
        present = repo.existing_trace_ids(trace_ids)
        if len(present) == count:
            demo_traces = counted(count, "demo trace")
            say(f"{url}: already holds the {demo_traces} of seed {seed}")
        else:
            now_ns = _fill_time(repo, seed, trace_ids, present)
            fill = _fill(settings, seed, trace_ids, present, now_ns)
            _report_fill(repo, fill, seed, trace_ids, present)
    if not no_open:
        frontends.open_viewer(settings, None)


@dataclass
class Fill:
    """How a fill ended: run to the end, interrupted (Ctrl-C, SIGTERM), or stopped by the store."""

    confirmed: int = 0
    """Traces the writer said it had written at the last flush that went through."""
    written: int | None = None
    """Traces the writer said it had written when it closed; None when it never said (the
    store kept it from closing in time), so only `confirmed` is known."""
    interrupted: KeyboardInterrupt | None = None
    stopped_after: float | None = None
    """The seconds the fill waited for the store to take a flush's traces before it gave up."""
    stall: str | None = None
    """What the store's writer said kept it from writing meanwhile, if it said."""
    lost: str | None = None
    """Why some traces were not written (the writer's last error), if any were not."""


def _report_fill(
    repo: Repository, fill: Fill, seed: int, trace_ids: list[str], present: set[str]
) -> None:
    """One line with the seed's traces this fill's writer wrote (not what the store holds
    afterwards, which a cleanup or another writer changes meanwhile), and why the rest were not,
    when some were not."""
    url, wanted = repo.url, len(trace_ids) - len(present)
    of_wanted = f"of {counted(wanted, 'demo trace')} of seed {seed}"
    kept = f" ({len(present)} already there)" if present else ""
    again = "run the same command again to add the rest"
    how = "interrupted" if fill.interrupted else "stopped"
    code = exit_status(fill.interrupted) if fill.interrupted else 2
    cause = fill.stall or fill.lost or "the writer did not finish in time"
    if fill.stopped_after is not None:
        cause = _not_taken(fill.stopped_after, fill.stall or fill.lost)
    if fill.written is None:
        fail(
            f"{how}: stored at least {fill.confirmed} {of_wanted} in {url}{kept}, "
            f"the rest may be lost: {cause}; {again}",
            code=code,
        )
    stored = fill.written
    if fill.interrupted:
        fail(f"interrupted: stored {stored} {of_wanted} in {url}{kept}; {again}", code=code)
    if fill.stopped_after is not None:
        fail(
            f"stopped: stored {stored} {of_wanted} in {url}{kept}, "
            f"{wanted - stored} not stored: {cause}; {again}"
        )
    if stored < wanted:
        fail(
            f"stored {stored} {of_wanted} in {url}{kept}; "
            f"{wanted - stored} not written: {fill.lost or 'the store refused them'}; {again}"
        )
    repo.analyze()
    say(f"{url}: stored {counted(stored, 'demo trace')}{kept}")


def seed_trace_ids(seed: int, count: int) -> list[str]:
    """The ids the demo's traces get, in order, so a fill can tell which ones it still lacks."""
    ids = SeededIds(seed)
    return [ids.trace_id() for _ in range(count)]


def _fill_time(repo: Repository, seed: int, trace_ids: list[str], present: set[str]) -> int:
    """The moment the fill back-dates its traces from: now, or for a fill that resumes an
    interrupted one, that fill's moment, read back from a trace it stored, so the resumed
    traces are the ones an uninterrupted fill would have stored (never later than now, should
    the trace come from a fill of another --traces count)."""
    now_ns = time.time_ns()
    position = next((n for n, trace_id in enumerate(trace_ids) if trace_id in present), None)
    if position is None:
        return now_ns
    stored = repo.get_trace(trace_ids[position])
    if stored is None:  # deleted meanwhile
        return now_ns
    return min(now_ns, stored.started_at + demo_age(len(trace_ids), seed, position))


def _fill(
    settings: Settings,
    seed: int,
    trace_ids: list[str],
    present: set[str],
    now_ns: int,
) -> Fill:
    """Run the seed's requests whose traces are not stored yet, until done, Ctrl-C, or a
    store that stops taking traces (so the command never waits on it for minutes).

    The engine closes either way, so what was run before an interrupt is still stored."""
    ids = SeededIds(seed)
    clock_value = [now_ns]
    requests = demo_requests(len(trace_ids), seed, now_ns)
    fill = Fill()
    # Records are built and written by a recorder process, so the run keeps its pace.
    sink = OutOfProcess(functools.partial(StoreSink, settings.store()))
    wait = settings.demo_timeout
    engine = Engine.load(bundled_pipelines_dir(), sink=sink, clock=lambda: clock_value[0], ids=ids)
    try:
        with Progress(
            TextColumn("running triggers"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as progress:
            task = progress.add_task("demo", total=len(trace_ids) - len(present))
            for n, (request, trace_id) in enumerate(zip(requests, trace_ids, strict=True), start=1):
                if trace_id in present:
                    ids.trace_id()  # stored by an earlier, interrupted fill: keep the ids in step
                    continue
                clock_value[0] = request.started_at
                engine.execute_trigger(request.trigger, request.input, request.metadata)
                progress.advance(task)
                if n % DEMO_FLUSH_EVERY == 0:
                    # A fill, unlike a server, may wait for a slower store instead of dropping,
                    # but not for one that is down.
                    if not engine.flush(wait):
                        fill.stopped_after = wait
                        fill.stall = engine.delivery_stall or engine.delivery_error
                        break
                    fill.confirmed = engine.sink_written or 0
    except KeyboardInterrupt as exc:
        fill.interrupted = exc
    finally:
        # What ran before an interrupt is still written; the writer's last word is the count.
        closed = engine.close()
    fill.written = engine.sink_written if closed else None
    fill.stall = fill.stall or engine.delivery_stall  # what kept the writer from closing, if so
    fill.lost = engine.delivery_error
    return fill


def _not_taken(wait: float, cause: str | None) -> str:
    """Why a fill stopped: the store did not take a flush's traces in time, and why not, when
    the store said."""
    waited = f"the store did not take the traces within {wait:g} s"
    return f"{waited}: {cause}" if cause else waited
