"""One range of stored traces read and replayed into a report of its own: a worker's unit of
work (the parent's too while the workers start)."""

from __future__ import annotations

from pipetrace.engine import Pipelines
from pipetrace.store import Repository, TraceFilter

from .cases import stored_cases
from .ranges import KeyRange
from .replayer import Replayer
from .report import BacktestReport

UNKNOWN_TRIGGER = "trigger not in the candidate pipelines"


class RangeReplayer:
    """Reads ranges of the matching traces from a store and replays them through the candidate."""

    def __init__(self, repo: Repository, filters: TraceFilter, pipelines: Pipelines) -> None:
        self.repo = repo
        self.filters = filters
        self.replayer = Replayer(pipelines)

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
