"""`export` and `import`: OpenTelemetry interop from the command line (OTLP, Jaeger, Zipkin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from pipetrace.store import Repository, TraceFilter
from pipetrace.store.interop import (
    DEFAULT_SERVICE,
    ExportReport,
    ImportReport,
    InteropError,
    import_file,
    select_trace_ids,
    send_export,
    write_export,
)
from pipetrace.store.url import mask_credentials

from ..import_report import import_summary
from ..import_scrub import ImportScrub
from ..interrupts import exit_status, sigterm_as_interrupt
from ..settings import Settings
from ..wording import counted
from .common import db_option, fail, filter_options, opened_store, say
from .pipelines_option import pipelines_option
from .store_cmds import resolve_trace_id


@click.command("export")
@click.option("--trace", "trace_ids", multiple=True, metavar="ID", help="This trace (repeatable).")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), help="At most this many traces, newest first.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["otlp-json"]),
    default="otlp-json",
    show_default=True,
    help="Output format: one OTLP TracesData JSON object per line.",
)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
@click.option(
    "--endpoint",
    metavar="URL",
    help="Send to an OTLP/HTTP collector instead (base URL; /v1/traces is appended).",
)
@click.option(
    "--header", "headers", multiple=True, metavar="NAME=VALUE", help="HTTP header for --endpoint."
)
@click.option(
    "--batch-spans",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Most spans per request to --endpoint; whole traces share a request while they fit, "
    "a larger trace is split across requests (collectors join a trace's parts by its id).",
)
@click.option(
    "--service-name",
    metavar="NAME",
    help="Resource service.name of every exported span, imported ones included (other resource "
    f"attributes are kept). Without it: {DEFAULT_SERVICE!r} for spans pipetrace recorded, and "
    "imported spans keep the resource they came with.",
)
@db_option
def export_cmd(
    trace_ids: tuple[str, ...],
    filters: TraceFilter,
    limit: int | None,
    fmt: str,
    output: str | None,
    endpoint: str | None,
    headers: tuple[str, ...],
    batch_spans: int,
    service_name: str | None,
    settings: Settings,
) -> None:
    """Export traces as OTLP JSON to a file, stdout or an OpenTelemetry collector."""
    if endpoint and output:
        fail("give either -o/--output or --endpoint, not both")
    if service_name is not None and not service_name.strip():
        fail("--service-name: the name is empty")
    http_headers = dict(_header(h) for h in headers)
    with opened_store(settings) as repo:
        if trace_ids:
            selection: list[str] = [resolve_trace_id(repo, t) for t in trace_ids]
            _require_stored(repo, selection)
        else:
            selection = list(select_trace_ids(repo, filters, limit))
        if endpoint:
            report = send_export(
                repo,
                selection,
                endpoint,
                service_name=service_name,
                batch_spans=batch_spans,
                headers=http_headers,
            )
        else:
            report = write_export(repo, selection, output, service_name=service_name)
    if report.missing:
        fail(f"no trace {', '.join(report.missing)} in {repo.url}")
    _summary(report, mask_credentials(endpoint) if endpoint else output or "stdout")


def _require_stored(repo: Repository, trace_ids: list[str]) -> None:
    """Fail before anything is written when a requested trace is not in the store."""
    stored = repo.existing_trace_ids(trace_ids)
    missing = [t for t in dict.fromkeys(trace_ids) if t not in stored]
    if missing:
        fail(f"no trace {', '.join(missing)} in {repo.url}")


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        fail(f"--header {text!r}: expected NAME=VALUE")
    return name.strip(), value.strip()


def _summary(report: ExportReport, where: str) -> None:
    """One line on stderr, so stdout stays pure OTLP JSON."""
    line = (
        f"exported {counted(report.traces, 'trace')} ({counted(report.spans, 'span')}) to {where}"
    )
    if report.requests:
        line += f" in {counted(report.requests, 'request')}"
    if report.rejected_spans:
        line += f"; the collector rejected {counted(report.rejected_spans, 'span')}"
    if report.skipped_empty:
        line += f"; skipped {counted(report.skipped_empty, 'trace')} without spans"
    say(line, err=True)


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--scrub",
    is_flag=True,
    help="Redact secrets as the engine does before storing: by key, every value those keys "
    "held, and card numbers, JWTs and credentials wherever they appear.",
)
@pipelines_option
@db_option
def import_cmd(
    files: tuple[str, ...], scrub: bool, pipelines_dir: Path | None, settings: Settings
) -> None:
    """Import OTLP JSON (documents or JSON lines), Jaeger JSON or Zipkin JSON (v2 or v1) files.

    Each file is one transaction: a malformed file stores nothing. Spans of a trace already in
    the store are merged into it, and a span already stored is skipped, so a trace split over
    several files imports whole and importing a file twice adds nothing. --scrub takes the
    [redact] rules of --pipelines (the defaults otherwise).
    """
    if pipelines_dir is not None and not scrub:
        fail("--pipelines: only --scrub reads a pipelines folder on import")
    scrubber = ImportScrub(pipelines_dir) if scrub else None
    failed = False
    done = imported = 0
    with opened_store(settings, create=True) as repo, sigterm_as_interrupt():
        try:
            for name in files:
                try:
                    report = import_file(repo, name, scrubber)
                except InteropError as exc:
                    done += 1
                    say(f"pipetrace: {exc}", err=True)
                    failed = True
                    continue
                done += 1
                imported += 1
                say(_import_line(name, report))
        except KeyboardInterrupt as exc:
            _interrupted(files[done:], imported, exc)
    if failed:
        sys.exit(2)


def _import_line(name: str, report: ImportReport) -> str:
    """What one file added, merged and skipped."""
    return f"{name}: {report.format}: {import_summary(report)}"


def _interrupted(left: tuple[str, ...], imported: int, exc: KeyboardInterrupt) -> NoReturn:
    """After Ctrl-C or SIGTERM: which file it stopped in and what to import again."""
    if not left:
        raise exc
    rest = f" and the {counted(len(left) - 1, 'file')} after it" if len(left) > 1 else ""
    fail(
        f"interrupted while importing {left[0]}, after importing {counted(imported, 'file')}: "
        f"import it{rest} again (a file is stored whole or not at all, and spans already stored "
        "are skipped)",
        code=exit_status(exc),
    )
