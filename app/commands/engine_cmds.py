"""`run` and `demo`: execute triggers through the bundled engine and store their traces."""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from engine import Engine, OutOfProcess, SeededIds, bundled_pipelines_dir, load_pipelines

from ..demo import demo_requests
from ..wiring import StoreSink, recording_engine
from .common import db_option, echo_json, fail, json_option, opened_store

pipelines_option = click.option(
    "--pipelines",
    "pipelines_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="A pipelines folder (pipelines.toml and .lua files) [default: the bundled auth set].",
)


DEMO_FLUSH_EVERY = 1000


def read_input(text: str | None) -> dict[str, Any]:
    """The trigger input from --input: inline JSON, or @file.json."""
    if text is None:
        return {}
    where = "--input"
    if text.startswith("@"):
        where = text[1:]
        try:
            text = Path(where).read_text()
        except OSError as exc:
            fail(f"{where}: cannot read the input file ({exc.strerror})")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})")
    if not isinstance(value, dict):
        fail(f"{where}: the input must be a JSON object, not {type(value).__name__}")
    return value


@click.command()
@click.argument("trigger")
@click.option("--input", "input_text", metavar="JSON|@FILE", help="Trigger input as JSON.")
@click.option("--user", "user_id", metavar="ID", help="The user the request is for.")
@click.option("--ip", "request_ip", metavar="IP", help="The client IP of the request.")
@pipelines_option
@db_option
@json_option
def run(
    trigger: str,
    input_text: str | None,
    user_id: str | None,
    request_ip: str | None,
    pipelines_dir: Path | None,
    db_url: str | None,
    as_json: bool,
) -> None:
    """Run one trigger through the pipelines and store its trace."""
    payload = read_input(input_text)
    if pipelines_dir is not None:
        pipelines = load_pipelines(pipelines_dir)
        if trigger not in pipelines.triggers:
            known = ", ".join(sorted(pipelines.triggers))
            fail(f"{pipelines_dir}: no trigger {trigger!r} (known: {known})")
    metadata = {"user_id": user_id, "request_ip": request_ip}
    with opened_store(db_url, create=True) as repo:
        with recording_engine(repo, pipelines_dir) as (engine, _writer):
            if trigger not in engine.pipelines.triggers:
                known = ", ".join(sorted(engine.pipelines.triggers))
                fail(f"no trigger {trigger!r} in the bundled pipelines (known: {known})")
            outcome = engine.execute_trigger(trigger, payload, metadata)
        stored = repo.get_trace(outcome.trace_id)
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
    click.echo(f"{trigger}: {decision}")
    if outcome.data:
        click.echo(f"data: {json.dumps(outcome.data, ensure_ascii=False, sort_keys=True)}")
    if stored is not None and stored.status == "error":
        click.echo(f"script error: {stored.status_message}")
    click.echo(f"trace {outcome.trace_id} (pipetrace show {outcome.trace_id[:12]})")


@click.command()
@click.option(
    "--traces", "count", type=click.IntRange(1, 1_000_000), default=2000, show_default=True
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same traces.")
@click.option("--no-open", is_flag=True, help="Fill the store and exit without the viewer.")
@db_option
def demo(count: int, seed: int, no_open: bool, db_url: str | None) -> None:
    """Fill the store with realistic auth traffic through the bundled pipelines, then browse it."""
    ids = SeededIds(seed)
    first_id = SeededIds(seed).trace_id()
    now_ns = time.time_ns()
    with opened_store(db_url, create=True) as repo:
        url = repo.url
        if repo.get_trace(first_id) is not None:
            click.echo(f"{url}: the demo traces of seed {seed} are already there")
        else:
            clock_value = [now_ns]
            before = repo.count_traces()
            # Records are built and written by a recorder process, so the run keeps its pace.
            sink = OutOfProcess(functools.partial(StoreSink, db_url))
            with (
                Engine.load(
                    bundled_pipelines_dir(), sink=sink, clock=lambda: clock_value[0], ids=ids
                ) as engine,
                Progress(
                    TextColumn("running triggers"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    transient=True,
                ) as progress,
            ):
                task = progress.add_task("demo", total=count)
                for n, request in enumerate(demo_requests(count, seed, now_ns), start=1):
                    clock_value[0] = request.started_at
                    engine.execute_trigger(request.trigger, request.input, request.metadata)
                    progress.advance(task)
                    if n % DEMO_FLUSH_EVERY == 0:
                        # A fill, unlike a server, may wait for a slower store instead of dropping.
                        engine.flush(60)
            stored = repo.count_traces() - before
            repo.analyze()
            missing = f" ({count - stored} could not be stored)" if stored < count else ""
            click.echo(f"{url}: stored {stored} demo traces{missing}")
    if not no_open:
        from ..tui import make_app

        make_app(db_url).run()
