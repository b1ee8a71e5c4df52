"""The backtest's worker process: opens the store and loads the candidate once, then reads each
range of traces it is handed itself and replays it into a report of that range alone."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from pipetrace.engine import Engine, Execution, Pipelines, ScriptOutcome, load_pipelines
from pipetrace.errors import PipetraceError
from pipetrace.store import DatabaseTarget, Repository, ScriptRun, TraceFilter, open_store

from .cases import stored_cases
from .errors import BacktestError
from .messages import Case, Compared, ScriptCompared
from .ranges import KeyRange
from .report import BacktestReport

UNKNOWN_TRIGGER = "trigger not in the candidate pipelines"


class Replayer:
    """An untraced engine over the candidate pipelines that replays cases into a report."""

    def __init__(self, pipelines: Pipelines) -> None:
        self.pipelines = pipelines
        self._engine = Engine(pipelines)
        self._reads: dict[tuple[str, str], bool] = {}

    def replay(self, case: Case, report: BacktestReport) -> None:
        """Run the case's trigger with its stored input and metadata and count the comparison;
        the replay's trace is built only for an error message the report keeps."""
        execution = self._engine.execute_untraced(
            case.trigger, case.input, case.metadata, replay_of=case.trace_id
        )
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


class _Worker:
    """What a worker process holds from start to end: the store, the filters and the replayer."""

    def __init__(self, folder: str, target: DatabaseTarget, filters: TraceFilter) -> None:
        self.replayer = Replayer(load_pipelines(Path(folder)))
        self.repo: Repository = open_store(target, migrate=False, create=False)
        self.filters = filters

    def replay_range(self, key_range: KeyRange) -> BacktestReport:
        """Read the range and replay what can be, into a report of it alone."""
        report = BacktestReport(pipelines="")
        page = stored_cases(self.repo, self.filters, key_range)
        for reason in page.skipped:
            report.skip(reason)
        triggers = self.replayer.pipelines.triggers
        for case in page.cases:
            if case.trigger in triggers:
                self.replayer.replay(case, report)
            else:
                report.skip(UNKNOWN_TRIGGER)
        return report


_worker: _Worker | str | None = None
"""This process's worker, or why it could not start (said when it is first handed work)."""


def start_worker(folder: str, target: DatabaseTarget, filters: TraceFilter) -> None:
    """Process start-up: load the candidate and open the store once, each worker its own
    connection; Ctrl-C is the parent's to handle."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _worker = _Worker(folder, target, filters)
    except PipetraceError as exc:
        _worker = exc.message


def replay_range(key_range: KeyRange) -> BacktestReport:
    """Replay one range of traces in this worker process."""
    if _worker is None:
        raise RuntimeError("replay_range ran in a process that start_worker did not start")
    if isinstance(_worker, str):
        raise BacktestError(_worker)
    try:
        return _worker.replay_range(key_range)
    except PipetraceError as exc:
        raise BacktestError(exc.message) from None
