"""The backtest's worker process: loads the candidate pipelines once and replays batches."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from pipetrace.engine import Engine, Pipelines, TraceRecord, load_pipelines

from .messages import Case, Compared, ScriptCompared, StoredRun

NS_PER_MS = 1_000_000
FLUSH_SECONDS = 60.0


class _Kept:
    """A trace sink keeping the records of one batch in memory: a backtest stores nothing."""

    def __init__(self) -> None:
        self.records: dict[str, TraceRecord] = {}

    def submit(self, record: TraceRecord) -> None:
        """Keep a record under the id of the trace it replays."""
        self.records[record.replay_of or record.trace_id] = record


class Replayer:
    """An engine over the candidate pipelines that replays cases and compares their runs."""

    def __init__(self, pipelines: Pipelines) -> None:
        self.pipelines = pipelines
        self._kept = _Kept()
        self._engine = Engine(pipelines, sink=self._kept)
        self._reads: dict[tuple[str, str], bool] = {}

    def replay(self, cases: list[Case]) -> list[Compared]:
        """Run each case's trigger with its stored input and metadata, and compare the runs."""
        for case in cases:
            self._engine.execute_trigger(
                case.trigger, case.input, case.metadata, replay_of=case.trace_id
            )
        if not self._engine.flush(FLUSH_SECONDS):
            raise RuntimeError(
                f"the engine did not deliver its traces: {self._engine.delivery_error}"
            )
        records, self._kept.records = self._kept.records, {}
        return [self._compare(case, records.get(case.trace_id)) for case in cases]

    def close(self) -> None:
        """Stop the engine's threads."""
        self._engine.close()

    def _compare(self, case: Case, record: TraceRecord | None) -> Compared:
        after = _script_runs(record) if record else {}
        before = {run.script_id: run for run in case.scripts}
        scripts = tuple(
            _script(script_id, before.get(script_id), after.get(script_id))
            for script_id in [*before, *(s for s in after if s not in before)]
        )
        return Compared(
            trace_id=case.trace_id,
            trigger=case.trigger,
            allowed_before=case.allowed,
            allowed_after=record.allowed if record else None,
            status_before=case.status,
            status_after=record.status if record else "error",
            scripts=scripts,
            uncertain=any(self._reads_field(case.trigger, path) for path in case.redacted),
        )

    def _reads_field(self, trigger: str, path: str) -> bool:
        """Whether a script of the trigger names the redacted field (a whole word of its source):
        such a script may have decided on the value the replay could not see."""
        key = (trigger, path.rsplit(".", 1)[-1])
        known = self._reads.get(key)
        if known is None:
            word = re.compile(rf"\b{re.escape(key[1])}\b")
            spec = self.pipelines.triggers.get(trigger)
            scripts = [s for layer in spec.layers for s in layer] if spec else []
            known = self._reads[key] = any(word.search(s.source) for s in scripts)
        return known


def _script_runs(record: TraceRecord) -> dict[str, tuple[str, float, str | None, str | None]]:
    """Each script's own span of a candidate run: status, duration, limit hit and message."""
    found: dict[str, tuple[str, float, str | None, str | None]] = {}
    for span in record.spans:
        if span.script_id and not span.attributes.get("custom") and span.script_id not in found:
            limit = span.attributes.get("limit")
            found[span.script_id] = (
                span.status,
                (span.ended_at - span.started_at) / NS_PER_MS,
                limit if isinstance(limit, str) else None,
                span.status_message,
            )
    return found


def _script(
    script_id: str,
    before: StoredRun | None,
    after: tuple[str, float, str | None, str | None] | None,
) -> ScriptCompared:
    return ScriptCompared(
        script_id=script_id,
        status_before=before.status if before else None,
        status_after=after[0] if after else None,
        duration_before_ms=before.duration_ms if before else None,
        duration_after_ms=after[1] if after else None,
        limit_before=before.limit if before else None,
        limit_after=after[2] if after else None,
        message_after=after[3] if after else None,
    )


_replayer: Replayer | None = None


def start_worker(folder: str) -> None:
    """Process start-up: load the candidate once; Ctrl-C is the parent's to handle."""
    global _replayer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _replayer = Replayer(load_pipelines(Path(folder)))


def replay_batch(cases: list[Case]) -> list[Compared]:
    """Replay one batch in this worker process."""
    if _replayer is None:
        raise RuntimeError("replay_batch ran in a process that start_worker did not start")
    return _replayer.replay(cases)
