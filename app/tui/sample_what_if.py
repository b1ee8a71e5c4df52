"""Fixed what-if pictures over the sample store: a backtest report and a script diff made from
its stored rows as a candidate would change them, with no engine run, so nothing (durations,
ids) differs between runs."""

from __future__ import annotations

from pipetrace.store import Repository, ScriptRun, TraceFilter, TraceRow

from ..backtest.messages import Compared, ScriptCompared
from ..backtest.report import BacktestReport
from ..script_diff import ScriptDiff, script_diff
from ..script_source import ran_sources

SAMPLE_FILTERS = TraceFilter(triggers=("before_signin",))
SAMPLE_CANDIDATE = "candidate-pipelines"
CANDIDATE_SHA = "0" * 64
"""The sample candidate's version of the script it changes (the replay diff scene's too)."""
LOOSENED = "risk_scorer"
"""The candidate raises its threshold: sign-ups it blocked are allowed."""
RAISED = ("local THRESHOLD = 0.80", "local THRESHOLD = 0.95")
TIGHTENED = ("ip_denylist", "203.0.113.9")
"""The candidate denies this address: its allowed sign-ins are blocked."""
SLOWER = 1.3
"""How much slower each script runs in the sample candidate."""


def sample_report(repo: Repository) -> BacktestReport:
    """The report a backtest of the sample's sign-ins through the sample candidate gives."""
    rows = repo.list_traces(SAMPLE_FILTERS, limit=1000).rows
    runs = repo.script_runs([row.id for row in rows])
    report = BacktestReport(SAMPLE_CANDIDATE, matched=len(rows))
    for row in rows:
        report.add(_compared(row, runs.get(row.id, [])))
    return report


def _compared(row: TraceRow, runs: list[ScriptRun]) -> Compared:
    """One sample trace as the sample candidate changes it."""
    allowed, status, changed = row.allowed, row.status, None
    blocker = next((run.script_id for run in runs if run.status == "blocked"), None)
    if blocker == LOOSENED:
        allowed, status, changed = True, "success", (LOOSENED, "success")
    elif row.allowed and row.request_ip == TIGHTENED[1]:
        allowed, status, changed = False, "blocked", (TIGHTENED[0], "blocked")
    scripts = []
    for run in runs:
        after = changed[1] if changed and changed[0] == run.script_id else run.status
        slower = None if run.duration_ms is None else round(run.duration_ms * SLOWER, 3)
        scripts.append(
            ScriptCompared(
                run.script_id,
                run.status,
                after,
                run.duration_ms,
                slower,
                run.limit,
                run.limit,
                None,
            )
        )
    return Compared(
        row.id, row.trigger_event, row.allowed, allowed, row.status, status, tuple(scripts), False
    )


def sample_script_diff(repo: Repository, trace_id: str) -> list[ScriptDiff]:
    """The sample candidate's change to the script that blocked a sample trace (its threshold
    raised), as the replay diff shows it."""
    found = repo.get_trace_with_spans(trace_id)
    if found is None:
        return []
    loosened = [s for s in found.spans if s.script_id == LOOSENED and s.status == "blocked"]
    return [
        script_diff(ran, ran.file, CANDIDATE_SHA, (ran.text or "").replace(*RAISED))
        for ran in ran_sources(repo, found.trace, loosened)
    ]
