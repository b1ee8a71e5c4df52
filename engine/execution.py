"""An untraced run's result: the decision and each script's outcome, its trace built on demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipetrace.engine.record import Recorder, limit_name, pack_facts
from pipetrace.engine.tracing import TraceRecord

_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class ScriptOutcome:
    """One script of the trigger's plan as its span would record it, without the span."""

    script_id: str
    status: str
    """success, blocked, error, or skipped (an earlier layer stopped the trigger)."""
    duration_ms: float | None
    """None for a skipped script."""
    limit: str | None
    """The sandbox limit a failed script hit, if any (its span's `limit` attribute)."""


class Execution:
    """What `Engine.execute_untraced` ran: the decision and script outcomes at once, and the
    trace only when asked for, since building it (with its redaction) costs as much again as
    a small trigger; messages are read from that trace, where secrets are masked."""

    __slots__ = ("_facts", "_recorder", "allowed", "scripts", "status", "trace_id")

    def __init__(
        self,
        trace_id: str,
        allowed: bool,
        status: str,
        scripts: tuple[ScriptOutcome, ...],
        facts: tuple[Any, ...] | None,
        recorder: Recorder,
    ) -> None:
        self.trace_id = trace_id
        self.allowed = allowed
        self.status = status
        self.scripts = scripts
        self._facts = facts
        self._recorder = recorder

    def record(self) -> TraceRecord | None:
        """The trace this run would have recorded (without logs and custom spans, which only a
        traced engine collects), or None when the engine itself failed."""
        if self._facts is None:
            return None
        return self._recorder.build(pack_facts(self._facts))


def script_outcomes(plan: tuple[str, ...], runs: list[Any]) -> tuple[ScriptOutcome, ...]:
    """Each planned script's outcome from the start, end and sandbox result of those that ran
    (in plan order, as Recorder.build reads them); the rest were skipped."""
    ran = len(runs) // 3
    outcomes = []
    for i, script_id in enumerate(plan):
        if i >= ran:
            outcomes.append(ScriptOutcome(script_id, "skipped", None, None))
            continue
        started, finished, res = runs[3 * i : 3 * i + 3]
        status = "error" if res[0] == "killed" else res[0]
        limit = limit_name(res[1]) if status == "error" else None
        outcomes.append(ScriptOutcome(script_id, status, (finished - started) / _MS, limit))
    return tuple(outcomes)
