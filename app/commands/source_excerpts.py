"""`show`'s excerpts of the scripts that failed or blocked: the lines around where each stopped,
from the version that ran (kept by the store), so a file edited since cannot mislead."""

from __future__ import annotations

from collections.abc import Sequence

from pipetrace.store import Repository, SpanRow, TraceRow

from ..script_source import OLD_STORE, RanSource, ran_sources, stopped_here, store_reason
from ..styled import Styled
from ..untrusted import shown_styled
from .details import MAX_MESSAGE_CHARS, MAX_NAME_CHARS, cut

SHORT_SHA = 12
"""Hex digits of a version's sha256 shown beside its file name."""


def source_excerpts(repo: Repository, trace: TraceRow, spans: Sequence[SpanRow]) -> list[Styled]:
    """For each span of `spans` whose script failed or blocked, its source as it ran around the
    line it stopped at (or why it cannot be shown), as lines to print."""
    reason = store_reason(repo, trace)
    if reason is not None and reason != OLD_STORE:
        failed = any(span.status in ("error", "blocked") for span in spans)
        return [Styled.of(("script source: ", "bold"), (reason, "dim"))] if failed else []
    stopped = [span for span in spans if stopped_here(span)]
    lines: list[Styled] = []
    for source in ran_sources(repo, trace, stopped):
        lines += _excerpt(source)
    return lines


def _excerpt(source: RanSource) -> list[Styled]:
    """One script's heading and numbered lines, the failing one marked with `>`."""
    name = shown_styled(cut(source.file, MAX_NAME_CHARS), "bold")
    if source.text is None:
        return [Styled.of(name, " source not shown: ", shown_styled(source.missing, "dim"))]
    version = (source.sha256 or "")[:SHORT_SHA]
    where = f" line {source.line}" if source.line is not None else ""
    out = [Styled.of(name, f" as it ran (version {version}){where}:")]
    shown, left_out = source.excerpt()
    width = len(str(shown[-1].number)) if shown else 1
    for line in shown:
        mark = ">" if line.marked else " "
        style = "bold red" if line.marked else ""
        out.append(
            Styled.of(
                f"  {mark} {line.number:>{width}} │ ",
                shown_styled(cut(line.text, MAX_MESSAGE_CHARS), style),
            )
        )
    if left_out:
        out.append(Styled.of((f"    … {left_out} other lines in this version", "dim")))
    return out
