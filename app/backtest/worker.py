"""The backtest's worker process: opens the store (its own connection) and loads the candidate
once, then reads and replays each range of traces it is handed."""

from __future__ import annotations

import signal
from pathlib import Path

from pipetrace.engine import load_pipelines
from pipetrace.errors import PipetraceError
from pipetrace.store import DatabaseTarget, TraceFilter, open_store

from .errors import BacktestError
from .range_replay import RangeReplayer
from .ranges import KeyRange
from .report import BacktestReport

_worker: RangeReplayer | str | None = None
"""This process's range replayer, or why it could not start (said when it is handed work)."""


def start_worker(folder: str, target: DatabaseTarget, filters: TraceFilter) -> None:
    """Process start-up: load the candidate and open the store once; Ctrl-C is the parent's to
    handle."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        repo = open_store(target, migrate=False, create=False)
        _worker = RangeReplayer(repo, filters, load_pipelines(Path(folder)))
    except PipetraceError as exc:
        _worker = exc.message


def replay_range(key_range: KeyRange) -> BacktestReport:
    """Read and replay one range of traces in this worker process."""
    if _worker is None:
        raise RuntimeError("replay_range ran in a process that start_worker did not start")
    if isinstance(_worker, str):
        raise BacktestError(_worker)
    try:
        return _worker.replay_range(key_range)
    except PipetraceError as exc:
        raise BacktestError(exc.message) from None
