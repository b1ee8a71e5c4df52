"""Runs a backtest: the parent marks out ranges of matching traces, worker processes read and
replay each range themselves, and the parent merges their reports of each range."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from pipetrace.engine import load_pipelines
from pipetrace.store import Repository, TraceFilter

from . import worker
from .cases import skip_reason
from .ranges import key_ranges
from .report import BacktestReport
from .worker import replay_range, start_worker

BATCH_SIZE = 500
"""Traces per range a worker reads and replays at once: the query, the hand-over and the merge
of its report cost about as much as a handful of replays, and Ctrl-C waits for at most one
range per worker (a fraction of a second)."""
AHEAD = 2
"""Ranges handed to each worker ahead, so none waits while the parent merges a report."""
PAGE_SIZE = 1000
Progress = Callable[[int, int | None], None]
"""Called with the traces done (replayed or skipped) and the number matched, if known."""


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

    Each worker process opens the store itself and reads ranges of `batch_size` traces; the
    parent reads no traces. Ctrl-C (KeyboardInterrupt) or `cancel` stops the workers and returns
    the partial report, marked interrupted."""
    folder = Path(pipelines_dir)
    load_pipelines(folder)  # a broken candidate is refused here
    report = BacktestReport(str(folder), matched=repo.count_traces(filters))
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(done, report.matched)

    if repo.flavour != "pipetrace":
        _count_imported(repo, filters, report, progress)
        return report
    count = workers or os.cpu_count() or 1
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=_context(),
        initializer=start_worker,
        initargs=(str(folder), repo.backend.target, filters),
    )
    pending: deque[Future[BacktestReport]] = deque()

    def collect() -> None:
        part = pending.popleft().result()
        report.merge(part)
        progress(part.replayed + sum(part.skipped.values()))

    try:
        for key_range in key_ranges(repo, filters, batch_size):
            if cancel is not None and cancel.is_set():
                report.interrupted = True
                break
            pending.append(pool.submit(replay_range, key_range))
            while len(pending) >= count * AHEAD:
                collect()
        while pending and not report.interrupted:
            if cancel is not None and cancel.is_set():
                report.interrupted = True
                break
            collect()
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


def _count_imported(
    repo: Repository, filters: TraceFilter, report: BacktestReport, progress: Callable[[int], None]
) -> None:
    """Another system's store (auther's) holds only imported traces, none with an input to
    replay: count each as skipped from its summary, a page at a time."""
    pages = repo.list_traces(filters, limit=PAGE_SIZE)
    while True:
        for row in pages.rows:
            report.skip(skip_reason(row))
        progress(len(pages.rows))
        if pages.next_cursor is None:
            return
        pages = repo.list_traces(filters, limit=PAGE_SIZE, cursor=pages.next_cursor)
