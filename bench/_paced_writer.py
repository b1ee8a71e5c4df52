"""A writer saving a trace every 5 ms beside a long operation, so benches can time its waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pipetrace.store import Repository, StoreError, TraceWithSpans, open_store

WRITER_INTERVAL = 0.005

MakeTrace = Callable[[str, int, int], TraceWithSpans]
"""Builds trace number `n` with ids under a prefix, started at a time in nanoseconds."""


class PacedWriter(threading.Thread):
    """Saves one fresh trace every 5 ms through its own Repository, which does not migrate, and
    records when each save began and how long it waited, and why any save failed (a server
    whose lock stays taken past its busy timeout refuses it)."""

    def __init__(self, path: str, prefix: str, make_trace: MakeTrace) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.prefix = prefix
        self.make_trace = make_trace
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.waits: list[tuple[float, float]] = []
        """(when the save began, how long it took) in seconds of `time.perf_counter`."""
        self.failures: list[str] = []
        self.rate = 0.0
        """Saves a second over the writer's whole run."""

    def run(self) -> None:
        repo: Repository = open_store(self.path, migrate=False)
        try:
            repo.save_traces([self.make_trace(self.prefix, 0, time.time_ns())])
            self.ready.set()
            due = first = time.perf_counter()
            n = 1
            while not self.stop.is_set():
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                item = self.make_trace(self.prefix, n, time.time_ns())
                began = time.perf_counter()
                try:
                    repo.save_traces([item])
                except StoreError as exc:
                    self.failures.append(exc.message)
                self.waits.append((began, time.perf_counter() - began))
                n += 1
                due = max(due + WRITER_INTERVAL, time.perf_counter())
            self.rate = len(self.waits) / (time.perf_counter() - first)
        finally:
            repo.close()

    def wait_times(self) -> list[float]:
        """How long each save took, in seconds."""
        return [wait for _, wait in self.waits]


def measure_writer(
    path: str, prefix: str, make_trace: MakeTrace, work: Callable[[], object]
) -> PacedWriter:
    """Run the writer for as long as `work()` runs."""
    writer = PacedWriter(path, prefix, make_trace)
    writer.start()
    writer.ready.wait()
    try:
        work()
    finally:
        writer.stop.set()
        writer.join()
    return writer


def summarize(waits: list[float]) -> tuple[float, float, float]:
    """(longest, p99, median) in milliseconds."""
    ordered = sorted(waits) or [0.0]
    return (
        ordered[-1] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        ordered[len(ordered) // 2] * 1000,
    )
