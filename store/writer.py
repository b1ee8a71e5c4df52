"""Persists traces off the caller's thread: a bounded queue, batched writes, retries."""

from __future__ import annotations

import atexit
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import StoreError, StoreUnavailable
from .repository import Repository

_STOP = object()


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters the app shows: what was written, dropped (queue full) and failed (gave up)."""

    written: int
    dropped: int
    failed: int
    pending: int
    last_error: str | None
    stalled: str | None = None
    """Why writes fail now (the database is unavailable), until one goes through again."""


class TraceWriter:
    """A sink whose `submit` never blocks; a daemon thread writes batches in one transaction each.

    `convert` turns whatever is submitted (an engine trace record, say) into a TraceWithSpans; it
    runs on the writer thread, so callers pay only for a queue put. `save` stores a converted
    batch (by default `Repository.save_traces`; the OTLP receiver merges spans instead), and
    `weight` says how much of the queue an item takes (1 by default: a trace; the receiver
    counts spans): `max_queue` and the counters are in that unit.
    """

    def __init__(
        self,
        repository: Repository,
        convert: Callable[[Any], Any] | None = None,
        *,
        save: Callable[[list[Any]], object] | None = None,
        weight: Callable[[Any], int] | None = None,
        max_queue: int = 10_000,
        batch_size: int = 256,
        max_retries: int = 8,
        backoff: float = 0.05,
        max_backoff: float = 5.0,
    ) -> None:
        self.repository = repository
        self.convert = convert or (lambda item: item)
        self.save = save or repository.save_traces
        self.weight = weight or (lambda _item: 1)
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._queue: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._load = 0
        """The weight of the items queued and not yet taken by the writer thread."""
        self._written = self._dropped = self._failed = 0
        self._last_error: str | None = None
        self._stalled: str | None = None
        self._closed = False
        self._give_up_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="pipetrace-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def submit(self, item: Any) -> None:
        """Queue a trace for writing; when the queue is full the trace is dropped and counted."""
        if not self.offer(item):
            with self._lock:
                self._dropped += self.weight(item)

    def offer(self, item: Any) -> bool:
        """Queue an item if the queue has room for its weight; False leaves it to the caller
        (which refuses it to its sender, to be sent again) and counts nothing as dropped."""
        weight = self.weight(item)
        with self._lock:
            if self._load + weight > self.max_queue:
                return False
            self._load += weight
            self._queue.put_nowait((item, weight))
        return True

    def stats(self) -> WriterStats:
        """A consistent snapshot of the counters."""
        with self._lock:
            return WriterStats(
                self._written,
                self._dropped,
                self._failed,
                self._load,
                self._last_error,
                self._stalled,
            )

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is written or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.005)
        return False

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the thread (idempotent; also runs at exit)."""
        if self._closed:
            return
        self._closed = True
        self._give_up_at = time.monotonic() + timeout
        self.flush(timeout)
        self._queue.put(_STOP)
        self._thread.join(timeout=5)
        with contextlib.suppress(ValueError):
            atexit.unregister(self.close)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                self._queue.task_done()
                return
            taken = [first]
            while len(taken) < self.batch_size:
                try:
                    taken.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in taken
            items = [i for i in taken if i is not _STOP]
            with self._lock:
                self._load -= sum(weight for _item, weight in items)
            self._write_batch(items)
            for _ in range(len(items) + stop):
                self._queue.task_done()
            if stop:
                return

    def _write_batch(self, items: list[tuple[Any, int]]) -> None:
        """Convert and save a batch, retrying with backoff while the database is down."""
        batch: list[tuple[Any, int]] = []
        for item, weight in items:
            try:
                batch.append((self.convert(item), weight))
            except Exception as exc:  # one malformed record must not sink its batch
                self._count_failure(weight, f"cannot convert a trace: {exc}")
        total = sum(weight for _converted, weight in batch)
        delay = self.backoff
        for attempt in range(self.max_retries + 1):
            try:
                self.save([converted for converted, _weight in batch])
            except StoreUnavailable as exc:
                with self._lock:
                    self._stalled = self._last_error = exc.message
                closing = self._give_up_at is not None and time.monotonic() >= self._give_up_at
                if attempt == self.max_retries or closing:
                    self._count_failure(total, exc.message)
                    return
                self._sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            except Exception:  # a rejected batch (a duplicate id, a value the driver refuses)
                self._write_one_by_one(batch)
                return
            else:
                with self._lock:
                    self._written += total
                    self._stalled = None
                return

    def _write_one_by_one(self, batch: list[tuple[Any, int]]) -> None:
        """A batch the database rejected (a duplicate id, say): keep every trace it can take."""
        for converted, weight in batch:
            try:
                self.save([converted])
            except StoreError as exc:
                self._count_failure(weight, exc.message)
            except Exception as exc:  # the thread must live on: count it as a failed trace
                self._count_failure(weight, f"cannot store a trace: {type(exc).__name__}: {exc}")
            else:
                with self._lock:
                    self._written += weight
                    self._stalled = None

    def _sleep(self, seconds: float) -> None:
        """Back off, but no later than the moment `close` gives up."""
        if self._give_up_at is not None:
            seconds = min(seconds, max(0.0, self._give_up_at - time.monotonic()))
        time.sleep(seconds)

    def _count_failure(self, count: int, message: str) -> None:
        with self._lock:
            self._failed += count
            self._last_error = message
