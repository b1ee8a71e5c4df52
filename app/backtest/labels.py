"""How the backtest's flip classes read, shared by the command's report and the viewer's."""

from __future__ import annotations

from .report import FlipClass

DECISION_LABELS: dict[FlipClass, str] = {
    "allowed-to-blocked": "allowed -> blocked",
    "blocked-to-allowed": "blocked -> allowed",
    "unchanged": "unchanged",
    "uncertain": "uncertain",
}
UNCERTAIN_NOTE = (
    "uncertain: a script of the candidate reads an input field stored as [REDACTED], so its "
    "replay may differ from the original for that reason alone ({flips:,} of them changed "
    "decision)"
)
DURATIONS_NOTE = "durations: before as stored, after as replayed here; p50/p95 within {error:.0%}"
