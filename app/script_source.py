"""The version of a script that a span ran, as the store kept it, or in one line why it cannot be
shown: what `show`, the viewer's span pane and the replay diff print."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipetrace.store import Repository, SpanRow, TraceRow
from pipetrace.store.script_sources import SOURCES_REVISION

from .untrusted import shown_source_lines

SHA_KEY = "script.sha256"
FILE_KEY = "script.file"
AROUND = 3
"""Lines shown either side of the line a script failed at."""
WHOLE_LINES = 40
"""Lines of a script shown whole when no line is known (a block, a limit hit)."""
IMPORTED = "imported traces have no script source: only traces the engine records keep one"
NO_VERSION = "its span names no script version (script.sha256)"
AUTHER = "an auther store keeps its scripts as they are now, not the versions its traces ran"
OLD_STORE = (
    f"this store keeps no script sources yet (its schema is older than {SOURCES_REVISION}; "
    "pipetrace db upgrade, or any command that writes, adds them)"
)
NOT_KEPT = (
    "this version is not in the store (recorded before pipetrace kept sources, imported from "
    "another store's export, or removed by cleanup with its traces)"
)


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One numbered line of a source, shown safe, marked where the script failed."""

    number: int
    text: str
    marked: bool


@dataclass(frozen=True, slots=True)
class RanSource:
    """A script span's source as it ran, or why there is none."""

    script_id: str
    file: str
    sha256: str | None
    text: str | None
    missing: str | None
    """Why `text` is None, in one line."""
    line: int | None
    """The line the script failed at, when the engine learnt it."""

    def lines(self) -> list[SourceLine]:
        """Every line of the source, numbered from 1, the failing one marked."""
        if self.text is None:
            return []
        return [
            SourceLine(n, text, n == self.line)
            for n, text in enumerate(shown_source_lines(self.text), start=1)
        ]

    def excerpt(self) -> tuple[list[SourceLine], int]:
        """The lines around the failing line (the first WHOLE_LINES without one), and how many
        lines of the source are left out."""
        every = self.lines()
        if self.line is not None and 1 <= self.line <= len(every):
            shown = every[max(self.line - 1 - AROUND, 0) : self.line + AROUND]
        else:
            shown = every[:WHOLE_LINES]
        return shown, len(every) - len(shown)


def is_script_span(span: SpanRow) -> bool:
    """A script's own span, not a root or a custom child span it opened."""
    return bool(span.script_id) and not (span.attributes or {}).get("custom")


def stopped_here(span: SpanRow) -> bool:
    """Whether the span's script failed or blocked the trigger: the spans whose source `show`
    prints."""
    return is_script_span(span) and span.status in ("error", "blocked")


def failed_line(span: SpanRow) -> int | None:
    """The line of the script's own file its error names, if any."""
    attrs = span.attributes or {}
    line, file = attrs.get("lua.line"), attrs.get("lua.file")
    if type(line) is not int or (file is not None and file != attrs.get(FILE_KEY)):
        return None
    return line


def store_reason(repo: Repository, trace: TraceRow) -> str | None:
    """Why no span of `trace` can have a kept source, or None when they may."""
    if repo.flavour == "auther":
        return AUTHER
    if trace.source != "engine":
        return IMPORTED
    if not repo.keeps_sources:
        return OLD_STORE
    return None


def ran_sources(repo: Repository, trace: TraceRow, spans: Sequence[SpanRow]) -> list[RanSource]:
    """The kept source of each of `spans` (script spans), read in one query."""
    reason = store_reason(repo, trace)
    shas = [_sha(span) for span in spans]
    wanted = [sha for sha in shas if sha]
    kept = repo.script_sources(wanted) if reason is None and wanted else {}
    found = []
    for span, sha in zip(spans, shas, strict=True):
        text = kept.get(sha) if sha else None
        missing = None
        if text is None:
            missing = reason or (NOT_KEPT if sha else NO_VERSION)
        found.append(
            RanSource(
                script_id=span.script_id or span.name,
                file=_file(span),
                sha256=sha,
                text=text,
                missing=missing,
                line=failed_line(span),
            )
        )
    return found


def _sha(span: SpanRow) -> str | None:
    """The script version a span names, if it names one as the engine writes it."""
    value = (span.attributes or {}).get(SHA_KEY)
    return value if isinstance(value, str) and value else None


def _file(span: SpanRow) -> str:
    """The script's file name as recorded, or a name made from its id."""
    value = (span.attributes or {}).get(FILE_KEY)
    return value if isinstance(value, str) and value else f"{span.script_id or span.name}.lua"
