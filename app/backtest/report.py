"""The backtest report: counters, histograms and a few sample ids, so memory stays flat; each
worker makes one per range of traces and the parent merges them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from .histogram import GAMMA, DurationHistogram
from .messages import Compared, ScriptCompared

FlipClass = Literal["allowed-to-blocked", "blocked-to-allowed", "unchanged", "uncertain"]
FLIP_CLASSES: tuple[FlipClass, ...] = (
    "allowed-to-blocked",
    "blocked-to-allowed",
    "unchanged",
    "uncertain",
)
SAMPLES = 5
"""Trace ids kept per flip class and per new error, for `show` and `replay`."""
DURATION_ERROR = (GAMMA - 1) / 2
"""The relative error of every p50 and p95 (see histogram.py)."""


def flip_class(compared: Compared) -> FlipClass:
    """Where a trace lands: its decision flipped either way, stayed, or cannot be trusted."""
    if compared.uncertain:
        return "uncertain"
    before, after = compared.allowed_before, compared.allowed_after
    if before is True and after is False:
        return "allowed-to-blocked"
    if before is False and after is True:
        return "blocked-to-allowed"
    return "unchanged"


@dataclass
class ScriptStats:
    """One script over the backtest: status changes, durations, and what the candidate broke."""

    status_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    before: DurationHistogram = field(default_factory=DurationHistogram)
    after: DurationHistogram = field(default_factory=DurationHistogram)
    new_errors: int = 0
    new_limits: Counter[str] = field(default_factory=Counter)
    error_samples: list[tuple[str, str | None]] = field(default_factory=list)
    """(trace id, the candidate's message) of the first traces it newly failed."""

    def add(self, trace_id: str, script: ScriptCompared) -> None:
        """Count one trace's run of this script."""
        before = script.status_before or "absent"
        after = script.status_after or "absent"
        if before != after:
            self.status_changes[(before, after)] += 1
        if script.duration_before_ms is not None and before != "skipped":
            self.before.add(script.duration_before_ms)
        if script.duration_after_ms is not None and after != "skipped":
            self.after.add(script.duration_after_ms)
        if after == "error" and before != "error":
            self.new_errors += 1
            if len(self.error_samples) < SAMPLES:
                self.error_samples.append((trace_id, script.message_after))
        if script.limit_after and not script.limit_before:
            self.new_limits[script.limit_after] += 1

    def merge(self, other: ScriptStats) -> None:
        """Count a later range's runs of this script too (its samples after ours)."""
        self.status_changes.update(other.status_changes)
        self.before.merge(other.before)
        self.after.merge(other.after)
        self.new_errors += other.new_errors
        self.new_limits.update(other.new_limits)
        self.error_samples += other.error_samples[: SAMPLES - len(self.error_samples)]

    def to_json(self) -> dict[str, Any]:
        """The script's figures for --json."""
        return {
            "status_changes": _pairs(self.status_changes),
            "duration_ms": {
                "before": {"p50": self.before.quantile(0.5), "p95": self.before.quantile(0.95)},
                "after": {"p50": self.after.quantile(0.5), "p95": self.after.quantile(0.95)},
            },
            "new_errors": self.new_errors,
            "new_limit_hits": dict(self.new_limits),
            "error_samples": [{"trace_id": t, "message": m} for t, m in self.error_samples],
        }


@dataclass
class BacktestReport:
    """What the candidate would have done to the matching stored traffic."""

    pipelines: str
    matched: int | None = None
    """How many traces the filters matched when the backtest started (None: not counted)."""
    replayed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    decisions: Counter[FlipClass] = field(default_factory=Counter)
    uncertain_flips: int = 0
    """Uncertain traces whose replayed decision differs from the stored one."""
    samples: dict[FlipClass, list[str]] = field(
        default_factory=lambda: {name: [] for name in FLIP_CLASSES if name != "unchanged"}
    )
    """The first trace ids of each class but "unchanged"."""
    status_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    scripts: dict[str, ScriptStats] = field(default_factory=dict)
    interrupted: bool = False

    def add(self, compared: Compared) -> None:
        """Count one replayed trace."""
        self.replayed += 1
        kind = flip_class(compared)
        self.decisions[kind] += 1
        if kind == "uncertain" and compared.allowed_before != compared.allowed_after:
            self.uncertain_flips += 1
        if kind != "unchanged" and len(self.samples[kind]) < SAMPLES:
            self.samples[kind].append(compared.trace_id)
        if compared.status_before != compared.status_after:
            self.status_changes[(compared.status_before, compared.status_after)] += 1
        for script in compared.scripts:
            stats = self.scripts.get(script.script_id)
            if stats is None:
                stats = self.scripts[script.script_id] = ScriptStats()
            stats.add(compared.trace_id, script)

    def keeps_message(self, compared: Compared) -> bool:
        """Whether adding this trace would keep a script's error message as a sample: only then
        does a backtest build the replay's trace, where secrets in messages are masked."""
        for script in compared.scripts:
            if script.status_after == "error" and script.status_before != "error":
                stats = self.scripts.get(script.script_id)
                if stats is None or len(stats.error_samples) < SAMPLES:
                    return True
        return False

    def merge(self, other: BacktestReport) -> None:
        """Add the report of a later range of traces (a worker's), so samples stay the first
        ones in the order the ranges were marked out."""
        self.replayed += other.replayed
        self.skipped.update(other.skipped)
        self.decisions.update(other.decisions)
        self.uncertain_flips += other.uncertain_flips
        for kind, ids in other.samples.items():
            kept = self.samples[kind]
            kept += ids[: SAMPLES - len(kept)]
        self.status_changes.update(other.status_changes)
        for script_id, stats in other.scripts.items():
            mine = self.scripts.get(script_id)
            if mine is None:
                self.scripts[script_id] = stats
            else:
                mine.merge(stats)

    def skip(self, reason: str) -> None:
        """Count a matching trace that cannot be replayed."""
        self.skipped[reason] += 1

    def flipped(self, kind: FlipClass) -> bool:
        """Whether any trace landed in this class (for --fail-on)."""
        return self.decisions[kind] > 0

    def to_json(self) -> dict[str, Any]:
        """The report for --json and other tools."""
        return {
            "pipelines": self.pipelines,
            "interrupted": self.interrupted,
            "matched": self.matched,
            "replayed": self.replayed,
            "skipped": dict(self.skipped),
            "decisions": {name: self.decisions[name] for name in FLIP_CLASSES},
            "uncertain_flips": self.uncertain_flips,
            "samples": self.samples,
            "status_changes": _pairs(self.status_changes),
            "scripts": {name: stats.to_json() for name, stats in sorted(self.scripts.items())},
            "duration_relative_error": DURATION_ERROR,
        }


def _pairs(counts: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"before": before, "after": after, "traces": n}
        for (before, after), n in sorted(counts.items())
    ]
