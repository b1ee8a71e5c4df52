"""Imports trace files into the store: one transaction per file, traces already stored skipped."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from pipetrace.bounded_read import RefusedFile, read_regular_file

from ..models import TraceWithSpans
from ..repository import Repository
from .assemble import assemble
from .documents import FORMAT_NAMES, parse_text
from .errors import MalformedFile

MAX_IMPORT_BYTES = 256 * 1024 * 1024
"""The largest file `import` reads (parsing takes several times its size in memory); split a
larger OTLP JSON lines file at a line break."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one file added: traces stored, traces skipped as already stored, spans stored."""

    path: str
    format: str
    traces_added: int
    traces_skipped: int
    spans: int
    duplicates: int
    """Duplicate deliveries of a span that were stored once."""


Scrub = Callable[[TraceWithSpans], None]
"""Changes an imported trace in place before it is stored (the app's secret scrub)."""


def import_file(
    repo: Repository, path: str | os.PathLike[str], scrub: Scrub | None = None
) -> ImportReport:
    """Import one OTLP, Jaeger or Zipkin JSON file; a malformed file stores nothing. With
    scrub, each trace goes through it before it is stored."""
    name = os.fspath(path)
    try:
        data = read_regular_file(name, MAX_IMPORT_BYTES)
    except RefusedFile as exc:
        raise MalformedFile(f"{name}: {exc}; import takes a regular file") from None
    except OSError as exc:
        raise MalformedFile(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedFile(
            f"{name}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); "
            f"import takes {FORMAT_NAMES}"
        ) from None
    return import_text(repo, text, name, scrub)


def import_text(
    repo: Repository, text: str, name: str = "<text>", scrub: Scrub | None = None
) -> ImportReport:
    """Import the text of a trace file; `name` is what error messages call it."""
    parsed = parse_text(text, name)
    built = assemble(parsed.spans, parsed.format)
    if scrub is not None:
        for trace in built.traces:
            scrub(trace)
    new = repo.save_new_traces(built.traces)
    return ImportReport(
        path=name,
        format=parsed.format,
        traces_added=len(new),
        traces_skipped=len(built.traces) - len(new),
        spans=sum(len(t.spans) for t in new),
        duplicates=built.duplicates,
    )
