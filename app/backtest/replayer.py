"""Replays stored cases through the candidate with an untraced engine and counts how each one
compares into a report."""

from __future__ import annotations

import re

from pipetrace.engine import Engine, Execution, Pipelines, ScriptOutcome
from pipetrace.store import ScriptRun

from .messages import Case, Compared, ScriptCompared
from .report import BacktestReport


class Replayer:
    """An untraced engine over the candidate pipelines that replays cases into a report."""

    def __init__(self, pipelines: Pipelines) -> None:
        self.pipelines = pipelines
        self._engine = Engine(pipelines)
        self._reads: dict[tuple[str, str], bool] = {}

    def replay(self, case: Case, report: BacktestReport) -> None:
        """Run the case's trigger with its stored input and metadata and count the comparison."""
        self.count(case, self.execute(case), report)

    def execute(self, case: Case) -> Execution:
        """Run the case's trigger with its stored input and metadata, recording nothing."""
        return self._engine.execute_untraced(
            case.trigger, case.input, case.metadata, replay_of=case.trace_id
        )

    def count(self, case: Case, execution: Execution, report: BacktestReport) -> None:
        """Count how the replay compares with the stored run; its trace is built only for an
        error message the report keeps."""
        compared = self._compare(case, execution, {})
        if report.keeps_message(compared):
            compared = self._compare(case, execution, _messages(execution))
        report.add(compared)

    def _compare(
        self, case: Case, execution: Execution, messages: dict[str, str | None]
    ) -> Compared:
        after = {run.script_id: run for run in execution.scripts}
        before = {run.script_id: run for run in case.scripts}
        scripts = tuple(
            _script(script_id, before.get(script_id), after.get(script_id), messages)
            for script_id in [*before, *(s for s in after if s not in before)]
        )
        return Compared(
            trace_id=case.trace_id,
            trigger=case.trigger,
            allowed_before=case.allowed,
            allowed_after=execution.allowed,
            status_before=case.status,
            status_after=execution.status,
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


def _messages(execution: Execution) -> dict[str, str | None]:
    """Each script's status message as its span in the replay's trace holds it (masked)."""
    record = execution.record()
    found: dict[str, str | None] = {}
    for span in record.spans if record else ():
        if span.script_id and not span.attributes.get("custom"):
            found.setdefault(span.script_id, span.status_message)
    return found


def _script(
    script_id: str,
    before: ScriptRun | None,
    after: ScriptOutcome | None,
    messages: dict[str, str | None],
) -> ScriptCompared:
    return ScriptCompared(
        script_id=script_id,
        status_before=before.status if before else None,
        status_after=after.status if after else None,
        duration_before_ms=before.duration_ms if before else None,
        duration_after_ms=after.duration_ms if after else None,
        limit_before=before.limit if before else None,
        limit_after=after.limit if after else None,
        message_after=messages.get(script_id),
    )
