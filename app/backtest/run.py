"""Runs a backtest: the parent streams stored traces, worker processes replay them in batches."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from pipetrace.engine import load_pipelines
from pipetrace.errors import PipetraceError
from pipetrace.store import Repository, TraceFilter

from . import worker
from .cases import stored_pages
from .messages import Case, Compared
from .report import BacktestReport
from .worker import replay_batch, start_worker

BATCH_SIZE = 250
"""Traces per batch sent to a worker: large enough that pickling and the hand-over are small
beside the replays, small enough that Ctrl-C is answered within a fraction of a second."""
PAGE_SIZE = 1000
AHEAD = 3
"""Batches queued per worker, so no worker waits while the parent reads the next page."""
Progress = Callable[[int, int | None], None]
"""Called with the traces done (replayed or skipped) and the number matched, if known."""


class BacktestError(PipetraceError):
    """A backtest that cannot start, and why, in one line."""

    title = "Cannot backtest"


def run_backtest(
    repo: Repository,
    filters: TraceFilter,
    pipelines_dir: str | Path,
    *,
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> BacktestReport:
    """Replay every matching stored trace through the candidate folder; stores nothing.

    Ctrl-C (KeyboardInterrupt) or `cancel` stops the workers and returns the partial report,
    marked interrupted."""
    folder = Path(pipelines_dir)
    triggers = set(load_pipelines(folder).triggers)  # a broken candidate is refused here
    report = BacktestReport(str(folder), matched=repo.count_traces(filters))
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(done, report.matched)

    count = workers or os.cpu_count() or 1
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=_context(),
        initializer=start_worker,
        initargs=(str(folder),),
    )
    pending: deque[Future[list[Compared]]] = deque()
    try:
        for batch in _batches(repo, filters, triggers, report, batch_size, progress):
            if cancel is not None and cancel.is_set():
                report.interrupted = True
                break
            pending.append(pool.submit(replay_batch, batch))
            while len(pending) >= count * AHEAD:
                progress(_collect(pending.popleft(), report))
        while pending and not report.interrupted:
            if cancel is not None and cancel.is_set():
                report.interrupted = True
                break
            progress(_collect(pending.popleft(), report))
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return report


def _context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one: its server imports the main module and the worker module
    once and forks each worker from it with both imported (seconds saved per worker on a busy
    machine); spawn elsewhere."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", worker.__name__])
    return context


def _collect(future: Future[list[Compared]], report: BacktestReport) -> int:
    """Add a finished batch to the report, in the order the batches were sent."""
    results = future.result()
    for compared in results:
        report.add(compared)
    return len(results)


def _batches(
    repo: Repository,
    filters: TraceFilter,
    triggers: set[str],
    report: BacktestReport,
    size: int,
    progress: Callable[[int], None],
) -> Iterator[list[Case]]:
    """Batches of replayable cases; traces that cannot be replayed are counted as skipped."""
    batch: list[Case] = []
    for page in stored_pages(repo, filters, PAGE_SIZE):
        for reason in page.skipped:
            report.skip(reason)
        gone = 0
        for case in page.cases:
            if case.trigger not in triggers:
                report.skip("trigger not in the candidate pipelines")
                gone += 1
                continue
            batch.append(case)
            if len(batch) >= size:
                yield batch
                batch = []
        progress(len(page.skipped) + gone)
    if batch:
        yield batch
