"""Runs a backtest: the parent marks out ranges of matching traces, worker processes read and
replay each range themselves, and the parent merges their reports of the ranges in order."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from pathlib import Path

from pipetrace.engine import load_pipelines
from pipetrace.store import Repository, TraceFilter

from . import worker
from .cases import skip_reason
from .errors import BacktestError
from .range_replay import RangeReplayer
from .ranges import KeyRange, key_ranges
from .report import BacktestReport
from .worker import replay_range, start_worker

BATCH_SIZE = 250
"""Traces per range a worker reads and replays at once: its query, the hand-over and the merge
of its report cost about as much as five replays, progress moves every range, and Ctrl-C waits
for at most one range per worker (a fraction of a second)."""
AHEAD = 2
"""Ranges handed to each worker ahead, so none waits while the parent merges a report."""
PAGE_SIZE = 1000
CANCEL_POLL = 0.1
"""Seconds between looks at the cancel event while a worker's range is awaited."""
Progress = Callable[[int, int | None], None]
"""Called with the traces done (replayed or skipped) and the number matched, if known."""


class _Stopped(Exception):
    """Ctrl-C or the cancel event: the report so far is the answer."""


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

    Worker processes open the store themselves and read ranges of `batch_size` traces; while
    they start (their server imports the app, a second or so), this process replays the ranges
    after their first ones itself. Ctrl-C (KeyboardInterrupt) or `cancel` stops the workers and
    returns the partial report, marked interrupted."""
    folder = Path(pipelines_dir)
    pipelines = load_pipelines(folder)  # a broken candidate is refused here
    report = BacktestReport(str(folder), matched=repo.count_traces(filters))
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(done, report.matched)

    def check() -> None:
        if cancel is not None and cancel.is_set():
            raise _Stopped

    progress(0)  # the total, at once
    if repo.flavour != "pipetrace":
        _count_imported(repo, filters, report, progress)
        return report
    count = workers or os.cpu_count() or 1
    ranges = key_ranges(repo, filters, max(1, batch_size))
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=_context(),
        initializer=start_worker,
        initargs=(str(folder), repo.backend.target, filters),
    )
    # Range reports in the order of the ranges: a worker's to come, or one this process made
    # while the workers started (its progress already counted).
    pending: deque[Future[BacktestReport] | BacktestReport] = deque()
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="backtest-start") as starter:
            handing = starter.submit(_hand_out, pool, list(islice(ranges, count * AHEAD)))
            here = RangeReplayer(repo, filters, pipelines)
            meanwhile: list[BacktestReport] = []
            try:
                for key_range in _while_starting(handing, ranges):
                    check()
                    meanwhile.append(here.replay_range(key_range))
                    progress(_size(meanwhile[-1]))
            finally:
                pending.extend(handing.result())
                pending.extend(meanwhile)
        for key_range in ranges:
            check()
            pending.append(pool.submit(replay_range, key_range))
            while pending and (len(pending) >= count * AHEAD or _ready(pending[0])):
                _merge(pending.popleft(), report, progress, check)
        while pending:
            _merge(pending.popleft(), report, progress, check)
    except (KeyboardInterrupt, _Stopped):
        report.interrupted = True
        for part in pending:  # what finished still counts, in the order of the ranges
            if isinstance(part, BacktestReport):
                report.merge(part)
            elif part.done() and not part.cancelled() and part.exception() is None:
                report.merge(part.result())
    except BrokenProcessPool as exc:
        raise BacktestError(f"a worker process ended unexpectedly ({exc})") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return report


def _hand_out(pool: ProcessPoolExecutor, first: list[KeyRange]) -> list[Future[BacktestReport]]:
    """The workers' first ranges, handed out from a thread of its own: the first hand-over waits
    until the pool's processes have started."""
    return [pool.submit(replay_range, key_range) for key_range in first]


def _while_starting(
    handing: Future[list[Future[BacktestReport]]], ranges: Iterator[KeyRange]
) -> Iterator[KeyRange]:
    """The next ranges for as long as the workers are still starting."""
    while not handing.done():
        key_range = next(ranges, None)
        if key_range is None:
            return
        yield key_range


def _ready(part: Future[BacktestReport] | BacktestReport) -> bool:
    """Whether a range's report is there to merge without waiting."""
    return isinstance(part, BacktestReport) or part.done()


def _size(part: BacktestReport) -> int:
    """Traces a range report accounts for."""
    return part.replayed + sum(part.skipped.values())


def _merge(
    part: Future[BacktestReport] | BacktestReport,
    report: BacktestReport,
    progress: Callable[[int], None],
    check: Callable[[], None],
) -> None:
    """Add a range's report, waiting for a worker's (and checking for cancel meanwhile); a
    worker's range counts as progress here."""
    if isinstance(part, BacktestReport):
        report.merge(part)
        return
    while not part.done():
        check()
        wait([part], timeout=CANCEL_POLL)
    done = part.result()
    report.merge(done)
    progress(_size(done))


def _context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one: its server imports the main module and the worker module
    once and forks each worker from it with both imported; spawn elsewhere. (Not fork: a
    process with threads or an open SQLite connection must not be forked.)"""
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
