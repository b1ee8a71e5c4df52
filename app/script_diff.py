"""What changed in each script between the version a trace ran and the candidate a replay runs:
a unified diff (difflib) from the stored source to the candidate's file, masked as stored
sources are, so a literal secret neither shows nor reads as a change."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pipetrace.engine import Pipelines
from pipetrace.engine.redaction import Redactor
from pipetrace.engine.redaction.sources import masked_source
from pipetrace.store import Repository, SpanRow, TraceWithSpans

from .script_source import SHA_KEY, RanSource, is_script_span, ran_sources

SHORT_SHA = 12
"""Hex digits of a version's sha256 in the diff's file headers."""


@dataclass(frozen=True, slots=True)
class ScriptDiff:
    """One script whose source differs from the version the trace ran."""

    script_id: str
    file: str
    ran_sha256: str
    candidate_sha256: str
    lines: tuple[str, ...]
    """The unified diff, a line each (headers first); empty when `missing` says why."""
    missing: str | None = None
    """Why the version that ran cannot be compared (its source was not kept), in one line."""

    def to_json(self) -> dict[str, Any]:
        """The diff for `--json`: the unified diff as one text."""
        return {
            "script_id": self.script_id,
            "file": self.file,
            "ran_sha256": self.ran_sha256,
            "candidate_sha256": self.candidate_sha256,
            "diff": "\n".join(self.lines) if self.missing is None else None,
            "missing": self.missing,
        }


def script_diffs(
    repo: Repository, original: TraceWithSpans, candidate: Pipelines
) -> list[ScriptDiff]:
    """A diff for each script of the trace whose recorded version differs from the candidate's,
    in the order the trace ran them."""
    firsts: dict[str, SpanRow] = {}
    for span in original.spans:
        if is_script_span(span) and span.script_id not in firsts:
            firsts[str(span.script_id)] = span
    changed = [
        span
        for script_id, span in firsts.items()
        if script_id in candidate.scripts
        and isinstance(span.attributes.get(SHA_KEY), str)
        and span.attributes[SHA_KEY] != candidate.scripts[script_id].sha256
    ]
    redactor = Redactor(candidate.redaction)
    diffs = []
    for ran in ran_sources(repo, original.trace, changed):
        script = candidate.scripts[ran.script_id]
        text = masked_source(script.source, redactor)
        diffs.append(script_diff(ran, script.file, script.sha256, text))
    return diffs


def script_diff(ran: RanSource, file: str, sha256: str, text: str) -> ScriptDiff:
    """How `text` (the candidate's `file`, version `sha256`) differs from the version `ran`."""
    old_sha = str(ran.sha256)
    lines: tuple[str, ...] = ()
    if ran.text is not None:
        lines = tuple(
            difflib.unified_diff(
                ran.text.splitlines(),
                text.splitlines(),
                fromfile=f"{ran.file} (ran, {old_sha[:SHORT_SHA]})",
                tofile=f"{file} (candidate, {sha256[:SHORT_SHA]})",
                lineterm="",
            )
        )
    return ScriptDiff(ran.script_id, ran.file, old_sha, sha256, lines, ran.missing)
